package reports

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dqaudit/dqaudit/audit"
)

// Drift helpers shared by the HTML, Markdown and terminal renderers.

// sortedDrift returns the drift checks worst first, keeping the Result's
// order (kind, then name) among checks of the same status. The entry that
// says there is no baseline is left out: renderers say that in words. The
// warnings of a history that could not be read fully stay. The Result is
// not changed.
func sortedDrift(ds []audit.DriftResult) []audit.DriftResult {
	out := make([]audit.DriftResult, 0, len(ds))
	for _, d := range ds {
		if !isNoBaseline(d) {
			out = append(out, d)
		}
	}
	slices.SortStableFunc(out, func(a, b audit.DriftResult) int {
		return cmp.Compare(statusRank(a.Status), statusRank(b.Status))
	})
	return out
}

// driftCounts counts drift checks by status.
type driftCounts struct {
	Fail, Warn, Pass, NoBaseline int
}

func countDrift(ds []audit.DriftResult) driftCounts {
	var c driftCounts
	for _, d := range ds {
		if isNoBaseline(d) {
			continue
		}
		switch d.Status {
		case audit.StatusFail, audit.StatusError:
			c.Fail++
		case audit.StatusWarn:
			c.Warn++
		case audit.StatusPass:
			c.Pass++
		default:
			c.NoBaseline++
		}
	}
	return c
}

// driftText says what the drift checks found, for status lines:
// "2 drift checks failed, 1 warned, 5 passed", or that there is no
// baseline yet.
func driftText(r *audit.Result) string {
	if noBaseline(r) {
		if len(historyProblems(r)) > 0 {
			return "no usable drift baseline"
		}
		return "no drift baseline yet"
	}
	c := countDrift(r.Drift)
	return plural(c.Fail, "drift check failed", "drift checks failed") + ", " +
		plural(c.Warn, "warned", "warned") + ", " + plural(c.Pass, "passed", "passed")
}

// noBaseline reports whether drift ran without a baseline: the history
// had no earlier day, or none that could be read.
func noBaseline(r *audit.Result) bool {
	if !r.DriftEnabled {
		return false
	}
	if slices.ContainsFunc(r.Drift, isNoBaseline) {
		return true
	}
	if r.BaselineSource != "" {
		return false
	}
	for _, d := range r.Drift {
		if d.Status != audit.StatusNoBaseline {
			return false
		}
	}
	return true
}

// baselineNote says why drift ran without a baseline: the note of the
// "no baseline" entry.
func baselineNote(r *audit.Result) string {
	for _, d := range r.Drift {
		if isNoBaseline(d) && d.Note != "" {
			return d.Note
		}
	}
	return audit.NoBaselineYet
}

// baselineSentence is baselineNote as a sentence.
func baselineSentence(r *audit.Result) string {
	return sentence(baselineNote(r)) + "."
}

// baselineGapSentence says, as a sentence, how far the baseline is when
// it is not the day, or days, just before the audited one; "" when it
// is.
func baselineGapSentence(r *audit.Result) string {
	if r.BaselineNote == "" || noBaseline(r) {
		return ""
	}
	return sentence(r.BaselineNote) + "."
}

// sentence is s with its first letter in upper case.
func sentence(s string) string {
	first, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(first)) + s[size:]
}

// isNoBaseline reports whether d is the entry that says drift ran without
// a baseline.
func isNoBaseline(d audit.DriftResult) bool {
	return d.Kind == audit.DriftBaseline && d.Status == audit.StatusNoBaseline
}

// historyProblems are the warnings of a history or baseline file that
// could not be read, which drift results carry as baseline entries.
func historyProblems(r *audit.Result) []audit.DriftResult {
	var out []audit.DriftResult
	for _, d := range r.Drift {
		if d.Kind == audit.DriftBaseline && d.Status != audit.StatusNoBaseline {
			out = append(out, d)
		}
	}
	return out
}

// historyEntryNotes are the entries that say the day was kept out of the
// history because of its input errors (and whether an earlier entry of
// the date stays).
func historyEntryNotes(r *audit.Result) []audit.DriftResult {
	var out []audit.DriftResult
	for _, d := range r.Drift {
		if d.Kind == audit.DriftHistoryEntry {
			out = append(out, d)
		}
	}
	return out
}

// baselineDays is "1 day" or "7 days".
func baselineDays(dates []string) string {
	return plural(len(dates), "day", "days")
}

// dateSpan writes a baseline's dates briefly: all of them up to three,
// else the first and the last. Each date is made visible and cut to n
// bytes.
func dateSpan(dates []string, n int) string {
	if len(dates) <= 3 {
		parts := make([]string, len(dates))
		for i, d := range dates {
			parts[i] = show(d, n)
		}
		return strings.Join(parts, ", ")
	}
	return show(dates[0], n) + " … " + show(dates[len(dates)-1], n)
}

// measureDecimals is how many decimals a drift metric's values get: none
// for counts (hours, schema changes), four for changes of a share, whose
// thresholds are small (0.005), three for the others.
func measureDecimals(metric string) int {
	switch metric {
	case "missing_hours", "changes":
		return 0
	case "share_change", "null_ratio_change":
		return 4
	}
	return 3
}

// formatMeasure writes a drift check's value with a fixed number of
// decimals per metric (see measureDecimals). NaN (not computable) is "n/a",
// ±Inf (a relative change from zero) is "∞" or "−∞", and a value that
// rounds to zero never reads as "-0.000".
func formatMeasure(v float64, metric string) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "−∞"
	case math.Abs(v) >= 1e9:
		return strconv.FormatFloat(v, 'e', 2, 64)
	}
	s := strconv.FormatFloat(v, 'f', measureDecimals(metric), 64)
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-")
	}
	return s
}

// formatThreshold writes a warn or fail threshold like the value it
// bounds; 0 means the level is off and reads "—".
func formatThreshold(v float64, metric string) string {
	if v == 0 {
		return "—"
	}
	return formatMeasure(v, metric)
}

// formatRatio writes a share in [0, 1] as a percent with two decimals; a
// share that is not zero never reads as 0.00%.
func formatRatio(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case v > 0 && v < 0.0001:
		return "<0.01%"
	case v < 1 && v > 0.9999:
		return ">99.99%"
	}
	return formatPct(v, 2)
}

// formatPct writes v as a percent with dec decimals, without "-0".
func formatPct(v float64, dec int) string {
	s := strconv.FormatFloat(v*100, 'f', dec, 64)
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-")
	}
	return s + "%"
}

// trimDecimals drops trailing zeros of a decimal number: 2.500 → 2.5.
func trimDecimals(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// driftDetail explains a check's verdict in one line for lists:
// "linf 0.230 (warn 0.100, fail 0.200)".
func driftDetail(d audit.DriftResult, metric string) string {
	return metric + " " + formatMeasure(d.Value, d.Metric) +
		" (warn " + formatThreshold(d.Warn, d.Metric) + ", fail " + formatThreshold(d.Fail, d.Metric) + ")"
}
