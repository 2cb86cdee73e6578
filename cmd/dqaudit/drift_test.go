package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit/generate"
)

type driftReport struct {
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	Baseline *struct {
		Source string   `json:"source"`
		Dates  []string `json:"dates"`
		Note   string   `json:"note"`
	} `json:"baseline"`
	Drift []struct {
		Name   string   `json:"name"`
		Kind   string   `json:"kind"`
		Event  string   `json:"event"`
		Field  string   `json:"field"`
		Metric string   `json:"metric"`
		Value  *float64 `json:"value"`
		Status string   `json:"status"`
		Note   string   `json:"note"`
	} `json:"drift"`
}

// writeDays generates days of the same distribution (or shifted) and a
// config with only drift checks, so the gate speaks for drift alone.
func writeDays(t *testing.T, days map[string]bool) (cfgPath, history string) {
	t.Helper()
	dir := t.TempDir()
	for date, shift := range days {
		day, _ := time.Parse("2006-01-02", date)
		if _, err := generate.Write(filepath.Join(dir, "archive", date), generate.Options{Date: day, Events: 20000, Seed: uint64(day.Unix()), Shift: shift}); err != nil {
			t.Fatal(err)
		}
	}
	history = filepath.Join(dir, "history")
	cfg := `version: 1
inputs:
  - name: avro
    format: avro
    paths: ["archive/{date}/*.avro"]
  - name: log
    format: kafka-log
    paths: ["archive/{date}/*.log.gz"]
rules:
  - name: many-ratings
    event: MovieRatingEvent
    row_count: {min: 1}
drift:
  history: history
  baseline: previous
report:
  formats: [json]
`
	cfgPath = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfgPath, history
}

func scanDay(t *testing.T, cfg, date string, extra ...string) (int, driftReport) {
	t.Helper()
	out := t.TempDir()
	args := append([]string{"scan", "--config", cfg, "--date", date, "--out", out}, extra...)
	code, stdout, stderr := runCLI(t, args...)
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatalf("%s: no report (exit %d)\n%s\n%s", date, code, stdout, stderr)
	}
	var r driftReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return code, r
}

// TestDriftOverThreeDays is the acceptance test of drift: a first day
// (no baseline), a like day (pass) and a shifted day (fail).
func TestDriftOverThreeDays(t *testing.T) {
	cfg, history := writeDays(t, map[string]bool{"2024-03-17": false, "2024-03-18": false, "2024-03-19": true})

	code, first := scanDay(t, cfg, "2024-03-17")
	if code != 0 || first.Baseline != nil {
		t.Fatalf("first day: exit %d, baseline %+v; want 0 and none", code, first.Baseline)
	}
	if len(first.Drift) == 0 || first.Drift[0].Status != "no_baseline" {
		t.Errorf("first day: drift %+v; want a no_baseline entry", first.Drift)
	}

	code, like := scanDay(t, cfg, "2024-03-18")
	if code != 0 || like.Status != "pass" {
		for _, d := range like.Drift {
			if d.Status != "pass" {
				t.Logf("%s %s value %v: %s", d.Name, d.Status, d.Value, d.Note)
			}
		}
		t.Fatalf("like day: exit %d status %s; want 0 pass", code, like.Status)
	}
	if like.Baseline == nil || strings.Join(like.Baseline.Dates, ",") != "2024-03-17" {
		t.Errorf("like day: baseline %+v; want 2024-03-17", like.Baseline)
	}
	checked := map[string]bool{}
	for _, d := range like.Drift {
		checked[d.Name] = true
	}
	for _, name := range []string{"MovieRatingEvent.rating:linf", "RecommendationRequest.responseTime:psi", "MovieWatchEvent.minute:psi", "MovieRatingEvent:volume", "malformed_share"} {
		if !checked[name] {
			t.Errorf("like day: no drift check %s (have %v)", name, checked)
		}
	}

	code, shifted := scanDay(t, cfg, "2024-03-19")
	if code != 1 || shifted.Status != "fail" {
		t.Fatalf("shifted day: exit %d status %s; want 1 fail", code, shifted.Status)
	}
	failed := map[string]bool{}
	for _, d := range shifted.Drift {
		if d.Status == "fail" {
			failed[d.Name] = true
		}
	}
	for _, name := range []string{"MovieRatingEvent.rating:linf", "RecommendationRequest.responseTime:psi"} {
		if !failed[name] {
			t.Errorf("shifted day: %s did not fail (failed: %v)", name, failed)
		}
	}
	if failed["MovieWatchEvent.minute:psi"] {
		t.Error("shifted day: watch minutes did not change but failed")
	}

	dates, err := filepath.Glob(filepath.Join(history, "*.json"))
	if err != nil || len(dates) != 3 {
		t.Errorf("history files %v, want 3", dates)
	}
	for _, p := range dates {
		if st, err := os.Stat(p); err != nil || st.Size() > 1<<20 {
			t.Errorf("history file %s: %v, size over 1 MB", p, err)
		}
	}

	// Re-running a date replaces its entry, and a window baseline merges
	// the earlier days.
	code, again := scanDay(t, cfg, "2024-03-19", "--baseline", "window:2")
	if code != 1 || again.Baseline == nil || strings.Join(again.Baseline.Dates, ",") != "2024-03-17,2024-03-18" {
		t.Errorf("re-run with window: exit %d baseline %+v", code, again.Baseline)
	}
	if after, _ := filepath.Glob(filepath.Join(history, "*.json")); len(after) != 3 {
		t.Errorf("after re-run: %d history files, want 3", len(after))
	}
}

// TestChangedRuleIsNotAnAnomaly: a rule whose threshold was edited counts
// something else from that day on; its failed share must not be judged
// against the days counted under the old threshold, nor drawn in one
// trend with them. A change of severity or tolerance counts the same.
func TestChangedRuleIsNotAnAnomaly(t *testing.T) {
	days := map[string]bool{"2024-03-16": false, "2024-03-17": false, "2024-03-18": false, "2024-03-19": false}
	cfg, _ := writeDays(t, days)
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	withRule := func(rule string) {
		t.Helper()
		s := strings.Replace(string(base), "    row_count: {min: 1}\n", "    row_count: {min: 1}\n"+rule, 1)
		if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const rule = "  - name: minute-sane\n    event: MovieWatchEvent\n    field: minute\n    max: %s\n    severity: warn\n    tolerance: %s\n"
	withRule(fmt.Sprintf(rule, "300", "100%"))
	for _, date := range []string{"2024-03-16", "2024-03-17", "2024-03-18"} {
		if code, _ := scanDay(t, cfg, date, "--baseline", "window:3"); code != 0 {
			t.Fatalf("%s: exit %d, want 0", date, code)
		}
	}
	anomaly := func(r driftReport) string {
		for _, d := range r.Drift {
			if d.Name == "minute-sane:anomaly" {
				return d.Status
			}
		}
		return ""
	}

	// Only the tolerance changes: the same counts, still compared.
	withRule(fmt.Sprintf(rule, "300", "50%"))
	if code, r := scanDay(t, cfg, "2024-03-19", "--baseline", "window:3"); code != 0 || anomaly(r) != "pass" {
		t.Errorf("tolerance changed: exit %d, anomaly %q; want 0 and a passing anomaly check", code, anomaly(r))
	}

	// The threshold changes: most minutes now fail, by definition.
	withRule(fmt.Sprintf(rule, "60", "100%"))
	code, r := scanDay(t, cfg, "2024-03-19", "--baseline", "window:3")
	if code != 0 || anomaly(r) != "" {
		for _, d := range r.Drift {
			if d.Status != "pass" {
				t.Logf("%s %s: %s", d.Name, d.Status, d.Note)
			}
		}
		t.Errorf("threshold changed: exit %d, anomaly %q; want 0 and no anomaly check against the old threshold's days", code, anomaly(r))
	}
}

// TestBackfillFirstDaySaysSo: in a backfill that ran a later day first, the
// earliest day has no baseline, but it does not start the history.
func TestBackfillFirstDaySaysSo(t *testing.T) {
	cfg, _ := writeDays(t, map[string]bool{"2024-03-17": false, "2024-03-19": false})
	if code, _ := scanDay(t, cfg, "2024-03-19"); code != 0 {
		t.Fatalf("2024-03-19: exit %d", code)
	}
	code, r := scanDay(t, cfg, "2024-03-17")
	if code != 0 || len(r.Drift) == 0 || r.Drift[0].Status != "no_baseline" {
		t.Fatalf("2024-03-17: exit %d, drift %+v; want 0 and no_baseline", code, r.Drift)
	}
	if note := r.Drift[0].Note; strings.Contains(note, "starts the history") || !strings.Contains(note, "no day before 2024-03-17") {
		t.Errorf("note %q: want it to say the history has no day before 2024-03-17, not that this run starts it", note)
	}
}

// TestBaselineGapIsSaidNotGated: after weeks without a run, previous is
// the last day the history has; report.json says how far back it is, and
// the gap alone warns of nothing, even with --fail-on warn.
func TestBaselineGapIsSaidNotGated(t *testing.T) {
	cfg, _ := writeDays(t, map[string]bool{"2024-01-02": false, "2024-03-19": false})
	if code, _ := scanDay(t, cfg, "2024-01-02"); code != 0 {
		t.Fatalf("2024-01-02: exit %d", code)
	}
	code, r := scanDay(t, cfg, "2024-03-19", "--fail-on", "warn")
	if code != 0 || r.Status != "pass" {
		for _, d := range r.Drift {
			if d.Status != "pass" {
				t.Logf("%s %s: %s", d.Name, d.Status, d.Note)
			}
		}
		t.Errorf("2024-03-19: exit %d, status %s; want 0 and pass", code, r.Status)
	}
	want := "baseline 2024-01-02 is 77 days before 2024-03-19: no history entry for the 76 days between"
	if r.Baseline == nil || r.Baseline.Note != want {
		t.Errorf("baseline %+v, want its note %q", r.Baseline, want)
	}
}
