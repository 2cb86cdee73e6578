package reports

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dqaudit/dqaudit/audit"
)

// Helpers shared by the HTML, Markdown and terminal renderers. They take
// everything from the Result and format numbers one fixed way, so that the
// same Result always gives the same bytes.

// statusLook is how a status reads: a word and a shape, so that it is
// clear without colour, plus the CSS class that colours it.
type statusLook struct {
	Word  string // PASS, WARN, FAIL, ERROR, NO BASELINE
	Icon  string // a shape that differs per status
	Class string // pass, warn, fail, error, nobase, unset
}

func lookOf(s audit.Status) statusLook {
	switch s {
	case audit.StatusPass:
		return statusLook{"PASS", "✔", "pass"}
	case audit.StatusWarn:
		return statusLook{"WARN", "▲", "warn"}
	case audit.StatusFail:
		return statusLook{"FAIL", "✖", "fail"}
	case audit.StatusError:
		return statusLook{"ERROR", "⊘", "error"}
	case audit.StatusNoBaseline:
		return statusLook{"NO BASELINE", "○", "nobase"}
	}
	return statusLook{"UNSET", "?", "unset"}
}

// statusRank orders statuses worst first; a drift check without a
// baseline comes after the ones that passed, since it says nothing yet.
func statusRank(s audit.Status) int {
	switch s {
	case audit.StatusError:
		return 0
	case audit.StatusFail:
		return 1
	case audit.StatusWarn:
		return 2
	case audit.StatusPass:
		return 3
	case audit.StatusNoBaseline:
		return 4
	}
	return 5
}

// sortedRules returns the rules worst first, then by name, event and field.
// The Result is not changed.
func sortedRules(rules []audit.RuleResult) []audit.RuleResult {
	out := slices.Clone(rules)
	slices.SortStableFunc(out, func(a, b audit.RuleResult) int {
		return cmp.Or(
			cmp.Compare(statusRank(a.Status), statusRank(b.Status)),
			strings.Compare(a.Name, b.Name),
			strings.Compare(a.Event, b.Event),
			strings.Compare(a.Field, b.Field),
		)
	})
	return out
}

// ruleCounts counts rules by status.
type ruleCounts struct {
	Fail, Warn, Pass, Other int
}

func countRules(rules []audit.RuleResult) ruleCounts {
	var c ruleCounts
	for _, r := range rules {
		switch r.Status {
		case audit.StatusFail, audit.StatusError:
			c.Fail++
		case audit.StatusWarn:
			c.Warn++
		case audit.StatusPass:
			c.Pass++
		default:
			c.Other++
		}
	}
	return c
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// formatInt writes n with thousands separators: 1,234,567.
func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatShare writes failed/checked as a percent with two decimals. A share
// that is not zero never reads as 0.00% or 100.00%.
func formatShare(failed, checked int64) string {
	if checked <= 0 || failed <= 0 {
		return "0.00%"
	}
	if failed >= checked {
		return "100.00%"
	}
	p := float64(failed) / float64(checked) * 100
	switch {
	case p < 0.01:
		return "<0.01%"
	case p > 99.99:
		return ">99.99%"
	}
	return strconv.FormatFloat(p, 'f', 2, 64) + "%"
}

// formatBytes writes a size in binary units with one decimal: 1.5 MiB.
func formatBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n)
	u := -1
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[u]
}

// formatCompact writes a count briefly for chart axes: 950, 12k, 1.5M.
func formatCompact(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10)
	case n < 1_000_000:
		return trimZero(float64(n)/1e3) + "k"
	case n < 1_000_000_000:
		return trimZero(float64(n)/1e6) + "M"
	}
	return trimZero(float64(n)/1e9) + "G"
}

func trimZero(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0")
}

// formatDuration rounds a run's duration for people: 850ms, 42.7s, 3m05s.
func formatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	}
	return fmt.Sprintf("%dm%02ds", m, s)
}

// formatTime writes the start of a run in UTC, or "unknown".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// kindText is a rule's check: its Params, which start with the kind
// ("between [1, 5]", "not_null where status == 200"), or the kind with
// the params when they do not.
func kindText(r audit.RuleResult) string {
	switch {
	case r.Params == "":
		return r.Kind
	case r.Kind == "" || r.Params == r.Kind || strings.HasPrefix(r.Params, r.Kind+" "):
		return r.Params
	}
	return r.Kind + " " + r.Params
}

// sampleWhere names where a failing event came from.
func sampleWhere(s audit.Sample) string {
	if s.Avro {
		return fmt.Sprintf("%s block %d record %d", s.Path, s.Block, s.Record)
	}
	return fmt.Sprintf("%s:%d", s.Path, s.Line)
}

// malformedWhere names where a malformed line or record came from.
func malformedWhere(s audit.MalformedSample) string {
	if s.Line > 0 {
		return fmt.Sprintf("%s:%d", s.Path, s.Line)
	}
	return fmt.Sprintf("%s block %d record %d", s.Path, s.Block, s.Record)
}

// inputWhere says where reading an input stopped, or "".
func inputWhere(f audit.FileResult) string {
	if f.Err == "" {
		return ""
	}
	var parts []string
	if f.ErrLine > 0 {
		parts = append(parts, "line "+formatInt(f.ErrLine))
	}
	if f.ErrBlock >= 0 {
		parts = append(parts, "block "+formatInt(f.ErrBlock))
	}
	if f.ErrOffset >= 0 {
		parts = append(parts, "byte offset "+formatInt(f.ErrOffset))
	}
	return strings.Join(parts, ", ")
}

// visible makes text from data safe to show on one line: control
// characters, invalid UTF-8 bytes, line separators, bidi controls and the
// other invisible format characters (zero-width spaces and joiners, soft
// hyphens) become Go-style escapes (\t, \n, \x00, \xff, \u200b), so a
// terminal never sees an escape sequence, a Markdown cell stays one line,
// and a value shows where its odd bytes are. In text that needs any
// escape, a backslash shows as \\, so that an escape cannot be mistaken
// for the same characters in the data.
func visible(s string) string {
	segs := segments(s)
	if len(segs) == 1 && !segs[0].Esc {
		return s
	}
	var b strings.Builder
	for _, sg := range segs {
		b.WriteString(sg.S)
	}
	return b.String()
}

// segment is a run of text from data: plain text, or one escape that
// stands for a byte or character that cannot be shown as it is.
type segment struct {
	S   string
	Esc bool
}

// segments splits s into plain runs and escapes; see visible.
func segments(s string) []segment {
	out, escaped := split(s, false)
	if escaped && strings.IndexByte(s, '\\') >= 0 {
		out, _ = split(s, true)
	}
	return out
}

// split is segments, with backslashes escaped when slash is set; it
// reports whether it made any escape.
func split(s string, slash bool) ([]segment, bool) {
	var out []segment
	start, escaped := 0, false
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && (c != '\\' || !slash) {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		esc := escapeOf(r, size, c)
		if esc == "" {
			i += size
			continue
		}
		if start < i {
			out = append(out, segment{S: s[start:i]})
		}
		out = append(out, segment{S: esc, Esc: true})
		escaped = true
		i += size
		start = i
	}
	if start < len(s) || len(out) == 0 {
		out = append(out, segment{S: s[start:]})
	}
	return out, escaped
}

// escapeOf returns how to show rune r (size bytes; c its first byte), or
// "" when it shows as it is.
func escapeOf(r rune, size int, c byte) string {
	switch {
	case r == utf8.RuneError && size == 1:
		return `\x` + hex2(int(c))
	case r == '\\':
		return `\\` // only asked for in text that has other escapes
	case r == '\t':
		return `\t`
	case r == '\n':
		return `\n`
	case r == '\r':
		return `\r`
	case r < 0x20, r == 0x7f:
		return `\x` + hex2(int(r))
	case r == utf8.RuneError:
		// A U+FFFD already in the data stands for bytes that were not
		// UTF-8 when read; mark it like the escapes.
		return "\uFFFD"
	case r >= 0x80 && r < 0xa0, r == 0x2028, r == 0x2029, r == 0x2800, r >= 0xa0 && invisible(r):
		// C1 controls, line separators, and characters that show as
		// nothing or as a space: format characters (bidi controls,
		// zero-width spaces and joiners, soft hyphens, BOM), other
		// default-ignorable ones (variation selectors, fillers), the
		// spaces that are not ASCII's (no-break, ideographic) and the
		// blank braille pattern.
		if r > 0xffff {
			return `\U` + hex2(int(r>>24)) + hex2(int(r>>16&0xff)) + hex2(int(r>>8&0xff)) + hex2(int(r&0xff))
		}
		return `\u` + hex2(int(r>>8)) + hex2(int(r&0xff))
	}
	return ""
}

// invisible reports whether r, a non-ASCII rune, shows as nothing or as a
// space.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector, unicode.White_Space)
}

func hex2(b int) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4&0xf], digits[b&0xf]})
}

// show is visible(s) cut to at most n bytes (plus an ellipsis). It cuts
// before escaping too, so a huge value costs no more than a short one.
func show(s string, n int) string { return clip(visible(clip(s, n)), n) }

// showLeft is show keeping the end of s, for paths.
func showLeft(s string, n int) string { return clipLeft(visible(clipLeft(s, n)), n) }

// clip shortens s to at most n bytes, cutting at a rune boundary and
// marking the cut with an ellipsis.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// breakable splits a path after slashes into pieces of 8 to 48 bytes, so
// that a page can keep each piece on one line and wrap between
// directories rather than at a hyphen inside a file name.
func breakable(s string) []string {
	const minPiece, maxPiece = 8, 48
	var out []string
	for s != "" {
		i := 0
		for i < len(s) {
			j := strings.IndexByte(s[i:], '/')
			if j < 0 {
				i = len(s)
				break
			}
			i += j + 1
			if i >= minPiece {
				break
			}
		}
		if i > maxPiece {
			i = maxPiece
			for i > 0 && !utf8.RuneStart(s[i]) {
				i--
			}
			if i == 0 {
				i = min(len(s), maxPiece)
			}
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

// nameBreaks splits a check's name or metric after dots, colons,
// underscores and opening parentheses, so that a page can wrap
// "RecommendationRequest.responseTime:psi" between its parts rather than
// inside a word.
func nameBreaks(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(".:_(", s[i]) >= 0 && i+1 < len(s) {
			out = append(out, s[start:i+1])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// clipLeft shortens s to at most n bytes keeping its end, for paths whose
// file name matters most.
func clipLeft(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := len(s) - n
	for cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut++
	}
	return "…" + s[cut:]
}

// failedCells are a rule's failed count and share for a table: "—" for
// row_count, which no single event fails (its Params say the bounds); for
// a share of nothing, "no events" when r has no event of the rule's type,
// and "none checked" when it has some but none had the rule's fields or
// met its where condition.
func failedCells(r *audit.Result, rr audit.RuleResult) (failed, share string) {
	switch {
	case rr.Kind == rowCount:
		return "—", "—"
	case rr.Checked == 0 && (rr.Event == "*" && r.TotalEvents() > 0 || r.Events[rr.Event] > 0):
		return "0", "none checked"
	case rr.Checked == 0:
		// A rule that saw no event passes, but says so.
		return "0", "no events"
	}
	return formatInt(rr.Failed), formatShare(rr.Failed, rr.Checked)
}

// rowCount is RuleResult.Kind of a row_count rule.
const rowCount = "row_count"

// writes reports whether r's run writes the report file name beside the
// one being rendered; a Result that does not say writes them all.
func writes(r *audit.Result, name string) bool {
	return len(r.Reports) == 0 || slices.Contains(r.Reports, name)
}

// moreWhere says where the rest of a list that a report cut is: " in
// report.json and report.html" for those of names that the run writes, or
// " not shown" when it writes none of them.
func moreWhere(r *audit.Result, names ...string) string {
	var in []string
	for _, n := range names {
		if writes(r, n) {
			in = append(in, n)
		}
	}
	if len(in) == 0 {
		return " not shown"
	}
	return " in " + strings.Join(in, " and ")
}

// otherDayText is " · 12 events dated another day (MovieRatingEvent 12)"
// for a status line, or "" when every event with a time is of the day.
func otherDayText(r *audit.Result) string {
	byType, total := r.EventsOtherDay()
	if total == 0 {
		return ""
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(byType)) {
		parts = append(parts, name+" "+formatInt(byType[name]))
	}
	noun := " events"
	if total == 1 {
		noun = " event"
	}
	return " · " + formatInt(total) + noun + " dated another day (" + strings.Join(parts, ", ") + ")"
}
