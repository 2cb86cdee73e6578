package reports

import (
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twcache"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/dqaudit/dqaudit/audit"
)

// What the terminal summary shows at most.
const (
	termMaxInputErrs = 5
	termMaxDrift     = 20 // drift checks that warn or fail
	termMaxName      = 60
	termMaxNote      = 50
	termMaxMetric    = 24
	termMaxPath      = 100
	termMaxErr       = 160
	// An input error is often what a cron or Airflow log is read for, and
	// a store's error puts its cause last, after a long request prefix.
	termMaxInputErr = 1000
)

// ANSI colours of the statuses; used only when the caller asks for colour.
const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
)

func ansiOf(s audit.Status) string {
	switch s {
	case audit.StatusPass:
		return "\x1b[32m"
	case audit.StatusWarn:
		return "\x1b[1;33m"
	case audit.StatusFail:
		return "\x1b[1;31m"
	case audit.StatusError:
		return "\x1b[1;35m"
	}
	return ""
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// UseColor reports whether output to f should be coloured: f is a
// terminal and NO_COLOR is unset or empty (https://no-color.org).
func UseColor(f *os.File) bool {
	return IsTerminal(f) && os.Getenv("NO_COLOR") == ""
}

// WriteSummary prints the run's verdict for a terminal or a job log: one
// table row per rule (worst first), one per drift check that did not pass
// (the others are counted), input errors, the status line, and the paths
// of the reports written. color adds ANSI colours to statuses;
// without it the output has no escape sequences at all, and text from
// the data never carries any (control characters are made visible).
func WriteSummary(w io.Writer, r *audit.Result, written []string, color bool) error {
	ew := &errWriter{w: w}
	paint := func(s audit.Status, text string) string {
		if !color || ansiOf(s) == "" {
			return text
		}
		return ansiOf(s) + text + ansiReset
	}

	rules := sortedRules(r.Rules)
	if len(rules) == 0 {
		ew.printf("No rules are configured.\n")
	} else if ew.err == nil {
		t := termTable(w, tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight)
		t.Header("STATUS", "RULE", "EVENT", "FAILED / CHECKED", "SHARE")
		for _, rr := range rules {
			l := lookOf(rr.Status)
			_, share := failedCells(r, rr)
			counts := formatInt(rr.Failed) + " / " + formatInt(rr.Checked)
			if rr.Kind == rowCount {
				// No event fails a row count: the count and its bounds say
				// why it passed or failed.
				counts, share = formatInt(rr.Checked)+" events", strings.TrimPrefix(rr.Params, "row_count ")
			}
			if err := t.Append(
				paint(rr.Status, l.Icon+" "+l.Word),
				show(rr.Name, termMaxName),
				show(rr.Event, termMaxName),
				counts,
				show(share, termMaxMetric),
			); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
	}

	if r.DriftEnabled && ew.err == nil {
		if err := writeDriftSummary(ew, r, paint); err != nil {
			return err
		}
	}

	writeInputErrors(ew, r, paint)

	l := lookOf(r.Status)
	word := l.Icon + " " + l.Word
	if color && ansiOf(r.Status) != "" {
		word = ansiBold + ansiOf(r.Status) + word + ansiReset
	}
	c := countRules(r.Rules)
	ew.printf("%s · exit %d · %s · %s events · %s, %s, %s · ",
		word, r.ExitCode, show(r.Date, termMaxName), formatInt(r.TotalEvents()),
		plural(c.Fail, "rule failed", "rules failed"), plural(c.Warn, "warned", "warned"), plural(c.Pass, "passed", "passed"))
	if r.DriftEnabled {
		ew.printf("%s · ", driftText(r))
	}
	ew.printf("%s · %s%s · %s\n",
		plural(r.InputErrors(), "input error", "input errors"), malformedText(r.Malformed.Total), otherDayText(r), formatDuration(r.Duration))
	if len(written) > 0 {
		ew.printf("Reports:\n")
		for _, p := range written {
			ew.printf("  %s\n", visible(p))
		}
	}
	return ew.err
}

// writeDriftSummary prints one row per drift check that warned or failed,
// worst first and at most termMaxDrift, then a line that counts the
// others and names the baseline; without a baseline, one line says so.
func writeDriftSummary(ew *errWriter, r *audit.Result, paint func(audit.Status, string) string) error {
	if noBaseline(r) {
		ew.printf("Drift: %s.\n", visible(baselineNote(r)))
		for _, d := range append(historyProblems(r), historyEntryNotes(r)...) {
			l := lookOf(d.Status)
			ew.printf("  %s %s\n", paint(d.Status, l.Icon+" "+l.Word), show(d.Note, termMaxErr))
		}
		return ew.err
	}
	var bad []audit.DriftResult
	for _, d := range sortedDrift(r.Drift) {
		if d.Status == audit.StatusWarn || d.Status == audit.StatusFail || d.Status == audit.StatusError {
			bad = append(bad, d)
		}
	}
	if len(bad) > 0 {
		t := termTable(ew.w, tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignLeft)
		t.Header("STATUS", "DRIFT CHECK", "METRIC", "VALUE", "WARN / FAIL", "NOTE")
		for i, d := range bad {
			if i == termMaxDrift {
				break
			}
			l := lookOf(d.Status)
			if err := t.Append(
				paint(d.Status, l.Icon+" "+l.Word),
				show(d.Name, termMaxName),
				show(d.Metric, termMaxMetric),
				formatMeasure(d.Value, d.Metric),
				formatThreshold(d.Warn, d.Metric)+" / "+formatThreshold(d.Fail, d.Metric),
				show(d.Note, termMaxNote),
			); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		if len(bad) > termMaxDrift {
			ew.printf("  … and %d more drift checks that warned or failed%s\n", len(bad)-termMaxDrift, seeReport(r, "report.html", "report.json"))
		}
	}
	c := countDrift(r.Drift)
	ew.printf("%s · baseline %s (%s", plural(c.Pass, "drift check passed", "drift checks passed"), show(r.BaselineSource, termMaxName), baselineDays(r.BaselineDates))
	if len(r.BaselineDates) > 0 {
		ew.printf(": %s", dateSpan(r.BaselineDates, termMaxName))
	}
	ew.printf(")\n")
	if gap := baselineGapSentence(r); gap != "" {
		ew.printf("%s\n", visible(gap))
	}
	return ew.err
}

// WriteInputErrors prints the files that could not be read fully, as
// WriteSummary does, without colour: what a run that prints only errors
// (--quiet) still owes its log.
func WriteInputErrors(w io.Writer, r *audit.Result) error {
	ew := &errWriter{w: w}
	writeInputErrors(ew, r, func(_ audit.Status, text string) string { return text })
	// What the errors did to the history: an earlier run's entry of the
	// day may be what later baselines still use.
	for _, d := range historyEntryNotes(r) {
		ew.printf("%s\n", show(sentence(d.Note), termMaxErr))
	}
	return ew.err
}

func writeInputErrors(ew *errWriter, r *audit.Result, paint func(audit.Status, string) string) {
	n := r.InputErrors()
	if n == 0 {
		return
	}
	ew.printf("%s:\n", plural(n, "input error", "input errors"))
	shown := 0
	for _, f := range r.Inputs {
		if f.Err == "" {
			continue
		}
		if shown == termMaxInputErrs {
			ew.printf("  … and %d more%s\n", n-shown, seeReport(r, "report.json", "report.html"))
			break
		}
		shown++
		where := inputWhere(f)
		if where != "" {
			where = " (" + where + ")"
		}
		ew.printf("  %s %s%s: %s\n", paint(audit.StatusError, "⊘"), showLeft(f.Path, termMaxPath), where, show(f.Err, termMaxInputErr))
	}
}

// seeReport points to the first of names that the run writes, or says
// nothing.
func seeReport(r *audit.Result, names ...string) string {
	for _, n := range names {
		if writes(r, n) {
			return " (see " + n + ")"
		}
	}
	return ""
}

// termTable is a table for the terminal, with one alignment per column.
// Cells must already be visible text.
func termTable(w io.Writer, align ...tw.Align) *tablewriter.Table {
	return alignedTable(w, renderer.NewBlueprint(), align...)
}

// alignedTable is a tablewriter table with one alignment per column, no
// wrapping and no header reformatting, drawn by rend (terminal or Markdown).
func alignedTable(w io.Writer, rend tw.Renderer, align ...tw.Align) *tablewriter.Table {
	return tablewriter.NewTable(w, tableOptions(rend, align)...)
}

// tableOptions are the options of alignedTable. WithConfig replaces the
// whole config, so they also remake a table that is used again. The
// stringer cache (for cells that are not strings: these never are) gets
// one entry: Reset remakes its map at the size it was given, 10,240
// entries (about 450 KB) by default.
func tableOptions(rend tw.Renderer, align []tw.Align) []tablewriter.Option {
	return []tablewriter.Option{
		tablewriter.WithStringerCacheCustom(twcache.NewLRU[reflect.Type, reflect.Value](1)),
		tablewriter.WithRenderer(rend),
		tablewriter.WithConfig(tablewriter.Config{
			Header: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoFormat: tw.Off, AutoWrap: tw.WrapNone},
				Alignment:  tw.CellAlignment{PerColumn: align},
			},
			Row: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone},
				Alignment:  tw.CellAlignment{PerColumn: align},
			},
		}),
	}
}
