package reports

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/dqaudit/dqaudit/audit"
)

// Markdown writes report.md: GitHub-flavoured Markdown for a pull request,
// an issue or an e-mail, that also reads as plain text in a terminal.
// Identifiers, paths and values from the data are code spans, so nothing
// in them becomes a link, emphasis or HTML; every cell is one line.
type Markdown struct{}

var _ Reporter = (*Markdown)(nil)

// What report.md shows at most, so that it fits a pull-request comment.
const (
	mdMaxSamples    = 3  // per failing or warning rule
	mdMaxInputErrs  = 50 // input errors listed
	mdMaxReasons    = 20
	mdMaxMalformed  = 5
	mdMaxText       = 120 // bytes of a value or malformed line
	mdMaxPath       = 160
	mdMaxErr        = 300
	mdMaxName       = 120
	mdMaxSampleRows = 60  // all rules' samples together
	mdMaxDrift      = 100 // drift checks, worst first
	mdMaxNote       = 200
)

// Write renders r as Markdown.
func (Markdown) Write(w io.Writer, r *audit.Result) error {
	ew := &errWriter{w: w}
	look := lookOf(r.Status)
	counts := countRules(r.Rules)
	inputErrs := r.InputErrors()

	ew.printf("# dqaudit report: %s\n\n", mdText(clip(r.Date, mdMaxName)))
	ew.printf("**%s %s** · exit code %d · %s events · %s · %s · started %s",
		look.Icon, look.Word, r.ExitCode, formatInt(r.TotalEvents()), formatDuration(r.Duration), plural(r.Workers, "worker", "workers"), formatTime(r.StartedAt))
	if r.Version != "" {
		ew.printf(" · dqaudit %s", mdText(clip(r.Version, mdMaxName)))
	}
	ew.printf("\n\n%s · %s · %s · ",
		plural(counts.Fail, "rule failed", "rules failed"), plural(counts.Warn, "warned", "warned"),
		plural(counts.Pass, "passed", "passed"))
	if r.DriftEnabled {
		ew.printf("%s · ", driftText(r))
	}
	ew.printf("%s · %s%s\n", plural(inputErrs, "input error", "input errors"), malformedText(r.Malformed.Total), otherDayText(r))

	rules := sortedRules(r.Rules)
	ew.printf("\n## Checks\n\n")
	if len(rules) == 0 {
		ew.printf("No rules are configured.\n")
	} else {
		rows := make([][]string, 0, len(rules))
		for _, rr := range rules {
			l := lookOf(rr.Status)
			failed, share := failedCells(r, rr)
			rows = append(rows, []string{
				l.Icon + " " + l.Word, mdCode(clip(rr.Name, mdMaxName)), mdCode(clip(rr.Event, mdMaxName)),
				mdCode(clip(rr.Field, mdMaxName)), mdCode(clip(kindText(rr), mdMaxName)), mdText(clip(rr.Severity, mdMaxName)),
				formatInt(rr.Checked), failed, share, mdText(clip(rr.Tolerance, mdMaxName)),
			})
		}
		ew.table([]string{"Status", "Rule", "Event", "Field", "Check", "Severity", "Checked", "Failed", "Failed share", "Tolerance"},
			[]tw.Align{tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight},
			rows)
		ew.samples(r, rules)
	}

	ew.drift(r)

	ew.printf("\n## Input errors\n\n")
	if len(r.Inputs) == 0 {
		ew.printf("No input files.\n")
	} else if inputErrs == 0 {
		if len(r.Inputs) == 1 {
			ew.printf("The one file was read fully.\n")
		} else {
			ew.printf("All %d files were read fully.\n", len(r.Inputs))
		}
	} else {
		ew.printf("%d of %d files or patterns could not be read fully, or have a writer schema the rules do not fit.\n\n", inputErrs, len(r.Inputs))
		var rows [][]string
		for _, f := range r.Inputs {
			if f.Err == "" {
				continue
			}
			if len(rows) == mdMaxInputErrs {
				break
			}
			rows = append(rows, []string{mdCode(clip(f.Input, mdMaxName)), mdCode(clipLeft(f.Path, mdMaxPath)), inputWhere(f), mdText(clip(f.Err, mdMaxErr))})
		}
		ew.table([]string{"Input", "Path", "Stopped at", "Error"}, nil, rows)
		if inputErrs > len(rows) {
			ew.printf("\n%d more%s.\n", inputErrs-len(rows), moreWhere(r, "report.json"))
		}
	}

	ew.printf("\n## Malformed lines\n\n")
	m := r.Malformed
	if m.Total == 0 {
		ew.printf("No malformed lines.\n")
	} else {
		if m.Total == 1 {
			ew.printf("1 line was not an event.\n\n")
		} else {
			ew.printf("%s lines were not events.\n\n", formatInt(m.Total))
		}
		reasons := sortedKeys(m.ByReason)
		slices.SortStableFunc(reasons, func(a, b string) int { return -compareInt(m.ByReason[a], m.ByReason[b]) })
		var rows [][]string
		for i, reason := range reasons {
			if i == mdMaxReasons {
				rows = append(rows, []string{fmt.Sprintf("%d more reasons", len(reasons)-i), "", ""})
				break
			}
			n := m.ByReason[reason]
			rows = append(rows, []string{mdCode(clip(reason, mdMaxName)), formatInt(n), formatShare(n, m.Total)})
		}
		ew.table([]string{"Reason", "Lines", "Share"}, []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignRight}, rows)
		if len(m.Samples) > 0 {
			ew.printf("\nFirst samples:\n\n")
			rows = rows[:0]
			for i, s := range m.Samples {
				if i == mdMaxMalformed {
					break
				}
				rows = append(rows, []string{mdCode(clipLeft(malformedWhere(s), mdMaxPath)), mdCode(clip(s.Reason, mdMaxName)), mdValue(clip(s.Text, mdMaxText))})
			}
			ew.table([]string{"Where", "Reason", "Text"}, nil, rows)
		}
	}
	var others []string
	if writes(r, "report.json") {
		others = append(others, "the full data is in report.json")
	}
	if writes(r, "report.html") {
		others = append(others, "the browsable report is report.html")
	}
	if len(others) > 0 {
		ew.printf("\n%s.\n", sentence(strings.Join(others, "; ")))
	}
	return ew.err
}

// samples lists the first failing events of every rule that did not pass.
func (ew *errWriter) samples(r *audit.Result, rules []audit.RuleResult) {
	var rows [][]string
	more := 0
	for _, rr := range rules {
		if rr.Status == audit.StatusPass || rr.Status == audit.StatusUnset {
			continue
		}
		for i, s := range rr.Samples {
			if i == mdMaxSamples || len(rows) == mdMaxSampleRows {
				more += len(rr.Samples) - i
				break
			}
			rows = append(rows, []string{mdCode(clip(rr.Name, mdMaxName)), mdCode(clipLeft(sampleWhere(s), mdMaxPath)), mdValue(clip(s.Value, mdMaxText))})
		}
	}
	if len(rows) == 0 {
		return
	}
	ew.printf("\n### Failing samples\n\n")
	ew.table([]string{"Rule", "Where", "Value"}, nil, rows)
	if more > 0 {
		noun := " more samples"
		if more == 1 {
			noun = " more sample"
		}
		ew.printf("\n%s%s%s.\n", formatInt(int64(more)), noun, moreWhere(r, "report.json", "report.html"))
	}
}

// drift writes the drift section: the baseline and a table of the checks,
// worst first.
func (ew *errWriter) drift(r *audit.Result) {
	ew.printf("\n## Drift\n\n")
	if !r.DriftEnabled {
		ew.printf("Drift: not configured.\n")
		return
	}
	if noBaseline(r) {
		ew.printf("%s\n", mdText(baselineSentence(r)))
	} else {
		ew.printf("Baseline: %s (%s", mdCode(clip(r.BaselineSource, mdMaxName)), baselineDays(r.BaselineDates))
		if len(r.BaselineDates) > 0 {
			ew.printf(": %s", mdText(dateSpan(r.BaselineDates, mdMaxName)))
		}
		ew.printf(") · %s\n", driftText(r))
		if gap := baselineGapSentence(r); gap != "" {
			ew.printf("\n%s\n", mdText(gap))
		}
	}
	checks := sortedDrift(r.Drift)
	if len(checks) == 0 {
		return
	}
	rows := make([][]string, 0, min(len(checks), mdMaxDrift))
	charts := false
	for i, d := range checks {
		charts = charts || d.Dist != nil || len(d.Trend) > 0
		if i >= mdMaxDrift {
			continue
		}
		l := lookOf(d.Status)
		rows = append(rows, []string{
			l.Icon + " " + l.Word, mdCode(clip(d.Name, mdMaxName)), mdText(clip(d.Kind, mdMaxName)),
			formatMeasure(d.Value, d.Metric), formatThreshold(d.Warn, d.Metric) + " / " + formatThreshold(d.Fail, d.Metric),
			mdText(clip(d.Note, mdMaxNote)),
		})
	}
	ew.printf("\n")
	ew.table([]string{"Status", "Check", "Kind", "Value", "Warn / Fail", "Note"},
		[]tw.Align{tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignLeft}, rows)
	if len(checks) > len(rows) {
		ew.printf("\n%d more drift checks%s.\n", len(checks)-len(rows), moreWhere(r, "report.json"))
	}
	if charts && writes(r, "report.html") {
		ew.printf("\nDistribution and trend charts are in report.html.\n")
	}
}

// errWriter keeps the first write error, so Write can check once.
type errWriter struct {
	w   io.Writer
	err error
	tbl *tablewriter.Table // the last table, drawn again by table
}

func (ew *errWriter) printf(format string, args ...any) {
	if ew.err != nil {
		return
	}
	_, ew.err = fmt.Fprintf(ew.w, format, args...)
}

// table writes one GitHub table with tablewriter's Markdown renderer.
// Cells are already escaped and single-line.
func (ew *errWriter) table(header []string, align []tw.Align, rows [][]string) {
	if ew.err != nil {
		return
	}
	if align == nil {
		align = make([]tw.Align, len(header))
		for i := range align {
			align[i] = tw.AlignLeft
		}
	}
	// One tablewriter table draws every table of the report: each
	// NewTable allocates a 10,240-entry stringer cache (about 450 KB, which
	// the first write must fault in) that these tables never use. Reset
	// clears the rows, widths and render state; the options are set anew.
	t := ew.tbl
	if t == nil {
		t = alignedTable(ew.w, renderer.NewMarkdown(), align...)
		ew.tbl = t
	} else {
		t.Reset()
		t.Options(tableOptions(renderer.NewMarkdown(), align)...)
	}
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		ew.err = err
		return
	}
	ew.err = t.Render()
}

// mdText escapes text for a Markdown table cell: the characters that
// would start emphasis, code, links, HTML or end the cell are
// backslash-escaped, and the text is made one visible line.
func mdText(s string) string {
	s = visible(s)
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		switch r {
		case '\\', '`', '*', '[', ']', '<', '>', '|', '~':
			b.WriteByte('\\')
		case '_':
			// An underscore inside a word cannot emphasise (known_users).
			if i == 0 || i == len(rs)-1 || !isWordRune(rs[i-1]) || !isWordRune(rs[i+1]) {
				b.WriteByte('\\')
			}
		case '&':
			if i+1 < len(rs) && (isWordRune(rs[i+1]) || rs[i+1] == '#') {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isWordRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r >= 0x80
}

// mdCode writes s as a code span for a table cell. The fence is longer
// than any run of backticks in s; pipes are escaped, which GitHub honours
// inside code spans in tables.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = visible(s)
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || (strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ")) {
		s = " " + s + " "
	}
	return fence + strings.ReplaceAll(s, "|", `\|`) + fence
}

// mdValue is a sample value or line: a code span, or "(empty)".
func mdValue(s string) string {
	if s == "" {
		return "*(empty)*"
	}
	return mdCode(s)
}
