package reports

import (
	"bytes"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/internal/testutil"
	"github.com/dqaudit/dqaudit/internal/testutil/fixture"
	"github.com/dqaudit/dqaudit/rules"
)

func renderSummary(t *testing.T, r *audit.Result, color bool) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSummary(&b, r, []string{"/srv/reports/2025-03-14/report.html", "/srv/reports/2025-03-14/report.json"}, color); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSummaryGolden(t *testing.T) {
	testutil.Golden(t, "testdata/golden/summary.txt", []byte(renderSummary(t, fixture.Result(), false)))
}

func TestSummary(t *testing.T) {
	hostile := fixture.Result()
	hostile.Rules[0].Name = "evil\x1b[2J\x1b]0;pwned\x07name"
	hostile.Inputs[3].Path = "/tmp/\x1b[31mred.avro"
	hostile.Drift[3].Name = "drift\x1b[2Jname"
	hostile.Drift[3].Note = "note\x1b]0;pwned\x07"
	hostile.BaselineSource = "\x1b[31mwindow"
	tests := []struct {
		name     string
		r        *audit.Result
		color    bool
		want     []string // in order
		wantANSI bool
	}{
		{
			name: "plain: rows worst first, input errors, status line, reports",
			r:    fixture.Result(), color: false,
			want: []string{"STATUS", "✖ FAIL", "minute-not-negative", "3 / 1,843,112", "<0.01%", "rating-in-range", "▲ WARN", "known-user", "0.64%", "✔ PASS",
				"DRIFT CHECK", "✖ FAIL │ minute-p5-change", "quantile_change(p5) │      ∞ │ 0.200 / 0.500", "rating-distribution", "│ linf ", "0.230",
				"rating-in-range:anomaly", "▲ WARN │ RecommendationRequest.responseTime:psi", "│ changes ", "│      2 │         1 / — │ added subtitles",
				"6 drift checks passed · baseline window:14 (7 days: 2025-03-07 … 2025-03-13)",
				"2 input errors:", "watch-03.avro (block 17, byte offset 2,883,584): snappy: corrupt input",
				"⊘ ERROR · exit 3 · 2025-03-14 · 2,204,469 events · 2 rules failed, 2 warned, 4 passed · 3 drift checks failed, 5 warned, 6 passed · 2 input errors",
				"Reports:", "/srv/reports/2025-03-14/report.html", "/srv/reports/2025-03-14/report.json"},
		},
		{
			name: "colour on request",
			r:    fixture.Result(), color: true,
			want:     []string{"\x1b[1;31m✖ FAIL\x1b[0m", "\x1b[1;33m▲ WARN\x1b[0m", "\x1b[32m✔ PASS\x1b[0m", "\x1b[1;35m⊘ ERROR\x1b[0m"},
			wantANSI: true,
		},
		{
			name: "escape sequences in data are shown, not sent",
			r:    hostile, color: false,
			want: []string{`evil\x1b[2J\x1b]0;pwned\x07name`, `drift\x1b[2Jname`, `note\x1b]0;pwned\x07`, `baseline \x1b[31mwindow`, `/tmp/\x1b[31mred.avro`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := renderSummary(t, tc.r, tc.color)
			if got := strings.Contains(out, "\x1b"); got != tc.wantANSI {
				t.Errorf("output has ANSI escapes: %v, want %v:\n%s", got, tc.wantANSI, out)
			}
			rest := out
			for _, want := range tc.want {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("%q not found (in order) in:\n%s", want, out)
				}
				rest = rest[i+len(want):]
			}
		})
	}
}

// The terminal shows only the drift checks that did not pass, counts the
// others, and says so in one line when there is no baseline.
func TestSummaryDrift(t *testing.T) {
	off := fixture.Result()
	off.DriftEnabled = false
	first := fixture.Result()
	first.Drift = []audit.DriftResult{
		{Name: "baseline", Kind: audit.DriftBaseline, Status: audit.StatusNoBaseline, Value: math.NaN()},
		{Name: "rating-distribution", Kind: audit.DriftDistribution, Metric: "linf", Value: math.NaN(), Status: audit.StatusNoBaseline},
	}
	first.BaselineSource, first.BaselineDates = "", nil
	calm := fixture.Result()
	for i := range calm.Drift {
		calm.Drift[i].Status = audit.StatusPass
	}
	unreadable, damaged := historyTrouble()
	paused, whole := baselineAfterPause()
	many := fixture.Result()
	many.Drift = manyDriftChecks(90, "check")
	tests := []struct {
		name        string
		r           *audit.Result
		want, avoid []string
	}{
		{"not configured", off, nil, []string{"DRIFT", "drift", "baseline"}},
		{"no baseline yet", first, []string{"Drift: no baseline yet: this run starts the history; drift is checked from the next day on.\n", "4 passed · no drift baseline yet · 2 input errors"}, []string{"DRIFT CHECK", "rating-distribution"}},
		{"history unreadable", unreadable, []string{"Drift: no usable baseline: the history could not be read (see the history warnings); drift is not checked until it can be.\n  ▲ WARN history entry skipped: 2025-03-13.json: unexpected end of JSON input\n", "no usable drift baseline · 2 input errors"}, []string{"DRIFT CHECK", "no baseline yet"}},
		{"damaged entry beside a baseline", damaged, []string{"│ ▲ WARN │ history ", "history entry skipped: 2025-03-10.json"}, []string{"no baseline", "no usable"}},
		{"all passed", calm, []string{"┘\n14 drift checks passed · baseline window:14", "0 drift checks failed, 0 warned, 14 passed"}, []string{"DRIFT CHECK"}},
		{"previous baseline after a pause", paused, []string{"6 drift checks passed · baseline previous (1 day: 2025-01-02)\nBaseline 2025-01-02 is 71 days before 2025-03-14: no history entry for the 70 days between.\n"}, []string{"no baseline"}},
		{"window of the days just before", whole, []string{"6 drift checks passed · baseline window:7 (7 days: 2025-03-07 … 2025-03-13)\n2 input errors"}, nil},
		{"bounded", many, []string{"DRIFT CHECK", "  … and 40 more drift checks that warned or failed (see report.html)\n30 drift checks passed"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := renderSummary(t, tc.r, false)
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("summary lacks %q:\n%s", want, out)
				}
			}
			for _, avoid := range tc.avoid {
				if strings.Contains(out, avoid) {
					t.Errorf("summary has %q:\n%s", avoid, out)
				}
			}
			if tc.r == many {
				if n := strings.Count(out, "│ check "); n != 3*termMaxDrift { // name, metric, note
					t.Errorf("%d drift rows, want %d", n, termMaxDrift)
				}
			}
		})
	}
}

// A re-run with input errors keeps the day's earlier history entry: the
// summary says so even without a baseline (when drift shows one line),
// and so does what --quiet prints to stderr.
func TestSummaryHistoryEntryKept(t *testing.T) {
	const note = "the history keeps its earlier entry of 2025-03-14, not this run's: input errors would skew later baselines"
	kept := audit.DriftResult{Name: audit.HistoryEntryName, Kind: audit.DriftHistoryEntry, Status: audit.StatusWarn, Value: math.NaN(), Note: note}
	first := fixture.Result() // two input errors
	first.Drift = []audit.DriftResult{
		{Name: "baseline", Kind: audit.DriftBaseline, Status: audit.StatusNoBaseline, Value: math.NaN(), Note: "no baseline yet: the history has no day before 2025-03-14"},
		kept,
	}
	first.BaselineSource, first.BaselineDates = "", nil
	beside := fixture.Result()
	beside.Drift = append(beside.Drift, kept)
	for _, r := range []*audit.Result{first, beside} {
		if out := renderSummary(t, r, false); !strings.Contains(out, "▲ WARN") || !strings.Contains(out, "the history keeps its earlier entry of 2025-03-14") {
			t.Errorf("summary does not say the history entry was kept:\n%s", out)
		}
		if out := renderSummary(t, r, false); strings.Contains(out, "no usable") {
			t.Errorf("a kept entry is not an unreadable history:\n%s", out)
		}
	}
	var b bytes.Buffer
	if err := WriteInputErrors(&b, first); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "2 input errors:") || !strings.Contains(out, "The history keeps its earlier entry of 2025-03-14, not this run's") {
		t.Errorf("--quiet's input errors do not say the history entry was kept:\n%s", out)
	}
}

func TestSummaryWithoutRules(t *testing.T) {
	r := &audit.Result{Status: audit.StatusPass}
	out := renderSummary(t, r, false)
	for _, want := range []string{"No rules are configured.", "✔ PASS · exit 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

// UseColor is true only for a terminal, and only while NO_COLOR is unset
// or empty (https://no-color.org).
func TestUseColor(t *testing.T) {
	notTTY, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer notTTY.Close()
	tty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err == nil {
		defer tty.Close()
		if !IsTerminal(tty) {
			tty = nil
		}
	} else {
		tty = nil
	}
	tests := []struct {
		name    string
		file    *os.File
		noColor *string // nil: unset
		want    bool
	}{
		{"file, NO_COLOR unset", notTTY, nil, false},
		{"file, NO_COLOR empty", notTTY, ptr(""), false},
		{"nil file", nil, nil, false},
		{"terminal, NO_COLOR unset", tty, nil, true},
		{"terminal, NO_COLOR empty", tty, ptr(""), true},
		{"terminal, NO_COLOR=1", tty, ptr("1"), false},
		{"terminal, NO_COLOR=false", tty, ptr("false"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want && tc.file == nil {
				t.Skip("no pseudo-terminal (/dev/ptmx) here")
			}
			t.Setenv("NO_COLOR", "")
			if tc.noColor == nil {
				os.Unsetenv("NO_COLOR") // t.Setenv restores it after the test
			} else {
				os.Setenv("NO_COLOR", *tc.noColor)
			}
			if got := UseColor(tc.file); got != tc.want {
				t.Errorf("UseColor = %v, want %v", got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// A row_count rule fails no single event: every renderer shows its count
// and bounds instead of "0 failed, 0.00%".
func TestRowCountRuleShowsItsCount(t *testing.T) {
	r := fixture.Result()
	r.Rules = []audit.RuleResult{{Name: "enough-ratings", Event: "MovieRatingEvent", Kind: "row_count", Params: "row_count min 5000",
		Severity: "error", Status: audit.StatusFail, Checked: 1_000, Samples: []audit.Sample{}}}
	summary := renderSummary(t, r, false)
	if !regexp.MustCompile(`│ ✖ FAIL │ enough-ratings │ MovieRatingEvent │ +1,000 events │ +min 5000 │`).MatchString(summary) {
		t.Errorf("summary does not show the count and its bound:\n%s", summary)
	}
	md := renderMarkdown(t, r)
	if !regexp.MustCompile("`row_count min 5000` +\\| error +\\| +1,000 \\| +— \\| +— \\|").MatchString(md) {
		t.Errorf("report.md does not show the count and dashes:\n%s", md)
	}
	page := string(renderHTML(t, r))
	if strings.Contains(page, "0.00%") {
		t.Error("report.html shows a failed share for a row_count rule")
	}
}

// A rule that saw no event passes, and every renderer says it saw none.
func TestRuleWithoutEventsSaysSo(t *testing.T) {
	r := fixture.Result()
	r.Rules = []audit.RuleResult{{Name: "rare", Event: "Refund", Field: "amount", Kind: "min", Params: "min 0",
		Severity: "error", Status: audit.StatusPass, Samples: []audit.Sample{}}}
	for name, out := range map[string]string{
		"summary":     renderSummary(t, r, false),
		"report.md":   renderMarkdown(t, r),
		"report.html": string(renderHTML(t, r)),
	} {
		if !strings.Contains(out, "no events") || strings.Contains(out, "0.00%") {
			t.Errorf("%s does not say the rule saw no events", name)
		}
	}
	// A type with events, none of which the rule checked (the field is
	// Avro's only, or the where condition never held): not "no events".
	r.Rules[0].Event = rules.MovieWatchEvent
	if r.Events[rules.MovieWatchEvent] == 0 {
		t.Fatal("the fixture has no MovieWatchEvent")
	}
	for name, out := range map[string]string{
		"summary":     renderSummary(t, r, false),
		"report.md":   renderMarkdown(t, r),
		"report.html": string(renderHTML(t, r)),
	} {
		if !strings.Contains(out, "none checked") {
			t.Errorf("%s does not say the rule checked none of the events", name)
		}
	}
}

// TestInputErrorShowsItsCause: an object store's error puts its cause
// last, after a long request prefix; the terminal, which is what cron and
// Airflow logs keep, shows it whole.
func TestInputErrorShowsItsCause(t *testing.T) {
	r := fixture.Result()
	cause := "dial tcp: lookup archive.s3.us-east-1.amazonaws.com on 127.0.0.53:53: no such host"
	r.Inputs[3].Err = "open s3://archive/2025-03-14/*.avro: operation error S3: ListObjectsV2, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , HostID: , request send failed, Get \"https://archive.s3.us-east-1.amazonaws.com/?list-type=2&prefix=2025-03-14%2F\": " + cause
	if out := renderSummary(t, r, false); !strings.Contains(out, cause) {
		t.Errorf("the cause %q is not shown:\n%s", cause, out)
	}
}
