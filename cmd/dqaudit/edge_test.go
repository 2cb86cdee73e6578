package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
)

func TestZeroSamplesKeepsNone(t *testing.T) {
	cfg := writeConfig(t, `  - name: rating-in-range
    event: MovieRatingEvent
    field: rating
    between: [1, 5]
`, "")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "  formats: [json]\n", "  formats: [json]\n  samples: 0\n  malformed_samples: 0\n", 1)), 0o644)
	out := t.TempDir()
	if code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out); code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rep, _ := readReport(t, out)
	if n := len(rep.Rules[0].Samples); n != 0 || rep.Rules[0].Failed == 0 {
		t.Errorf("rule: %d samples, %d failed; want 0 samples and failures counted", n, rep.Rules[0].Failed)
	}
	if n := len(rep.Malformed.Samples); n != 0 || rep.Malformed.Total == 0 {
		t.Errorf("malformed: %d samples of %d; want none kept", n, rep.Malformed.Total)
	}
}

// A where condition that cannot be evaluated fails the event, but must not
// turn every such event into a duplicate of the others.
func TestUniqueWithFailingWhere(t *testing.T) {
	cfg := writeConfig(t, `  - name: one-rating-per-user-movie-time
    event: MovieRatingEvent
    unique: [userId, movieId, time]
  - name: unique-where-errors
    event: MovieRatingEvent
    where: int(movieId) > 0
    unique: [userId, movieId, time]
`, "")
	out := t.TempDir()
	runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out)
	rep, _ := readReport(t, out)
	if len(rep.Rules) != 2 {
		t.Fatalf("%d rules", len(rep.Rules))
	}
	plain, erring := rep.Rules[0], rep.Rules[1]
	if plain.Failed != 0 {
		t.Errorf("unique over distinct events: %d duplicates, want 0", plain.Failed)
	}
	if erring.Failed != erring.Checked || erring.Checked != plain.Checked {
		t.Errorf("where errors: failed %d of %d (plain checked %d); want every event failed, once", erring.Failed, erring.Checked, plain.Checked)
	}
	for _, s := range erring.Samples {
		if !strings.HasPrefix(s.Value, "error: where:") {
			t.Errorf("sample value %q; want the where error", s.Value)
		}
	}
}

func TestFileMatchedByTwoInputsIsReadOnce(t *testing.T) {
	root := repoRoot(t)
	cfg := writeConfig(t, `  - name: rating-in-range
    event: MovieRatingEvent
    field: rating
    between: [1, 5]
`, `  - name: ratings-again
    format: avro
    paths: ["`+filepath.Join(root, "testdata/archive/{date}/ratings.avro")+`"]
`)
	out := t.TempDir()
	runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out)
	rep, _ := readReport(t, out)
	truth := readTruth(t)
	if rep.Events["MovieRatingEvent"] != truth.Events["MovieRatingEvent"] {
		t.Errorf("ratings counted %d, want %d", rep.Events["MovieRatingEvent"], truth.Events["MovieRatingEvent"])
	}
}

// A corrupt history file warns and is skipped; the run still writes its
// reports and exits as the data says.
func TestCorruptHistoryFileDoesNotStopTheRun(t *testing.T) {
	cfg, _ := copyArchive(t, true)
	hist := filepath.Join(filepath.Dir(cfg), "history")
	os.MkdirAll(hist, 0o755)
	os.WriteFile(filepath.Join(hist, "2024-03-18.json"), []byte(`{"history_version": 1, "date": "2024-03-18", "profile": {`), 0o644)
	code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--quiet", "--format", "json")
	if code != int(audit.ExitFail) {
		t.Fatalf("exit %d, want 1 (the sample's rule failures): %s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(cfg), "out", sampleDate, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "history entry skipped") {
		t.Error("report.json does not mention the skipped history entry")
	}
}

func TestFlagMistakesAreUsageErrors(t *testing.T) {
	noDrift := writeConfig(t, "  - {name: r, event: MovieRatingEvent, field: rating, min: 1}\n", "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"baseline without drift", []string{"--baseline", "previous"}, "need a drift"},
		{"warn exit code taken", []string{"--warn-exit-code", "3"}, "is taken"},
		{"bad format", []string{"--format", "json, pdf"}, `unknown report format "pdf"`},
		{"negative lock timeout", []string{"--lock-timeout", "-1s"}, "--lock-timeout -1s: want 0"},
		{"lock stale too short", []string{"--lock-stale", "5ns"}, "--lock-stale 5ns: want 500ms or more"},
		// As report.out is checked in the config, not made a directory named {dat}.
		{"unknown placeholder in --out", []string{"--out", "x/{dat}"}, `--out "x/{dat}" has the unknown placeholder {dat} (did you mean {date}?)`},
		{"unknown placeholder in --partial", []string{"--shard", "0/2", "--partial", "p-{day}-{shard}.json"}, `--partial "p-{day}-{shard}.json" has the unknown placeholder {shard}`},
		{"unknown placeholder in --history", []string{"--history", "h/{dat}"}, `--history "h/{dat}" has the unknown placeholder {dat} (did you mean {date}?)`},
		// A CPU budget with an extra zero or two must not start millions
		// of goroutines.
		{"huge workers", []string{"--workers", "10000000"}, "--workers 10000000: want 0 (one per CPU, "},
		// A URL without a bucket can never be written: refused before the
		// scan rather than after it, when the reports are lost.
		{"--out without a bucket", []string{"--out", "s3:///reports"}, "--out: s3:///reports: no bucket in URL; write s3://BUCKET/..."},
		{"--partial without a bucket", []string{"--shard", "0/2", "--partial", "gs://?x=1"}, "--partial: gs://: no bucket in URL"},
		{"--history without a bucket", []string{"--history", "s3:///h"}, "--history: s3:///h: no bucket in URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"scan", "--config", noDrift, "--date", sampleDate, "--out", t.TempDir()}, tc.args...)
			code, _, stderr := runCLI(t, args...)
			if code != int(audit.ExitUsage) || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

// TestHistoryFlagExpandsTheDate: --history and a --baseline file expand
// {date} as drift.history does, instead of making a directory "{date}".
func TestHistoryFlagExpandsTheDate(t *testing.T) {
	cfg := writeConfig(t, "  - {name: r, event: MovieRatingEvent, field: rating, min: 1}\n", "")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, append(b, "drift: {}\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	hist := filepath.Join(t.TempDir(), "h-{date}")
	code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", t.TempDir(), "--history", hist, "--quiet")
	want := filepath.Join(strings.ReplaceAll(hist, "{date}", sampleDate), sampleDate+".json")
	if _, err := os.Stat(want); code == int(audit.ExitUsage) || err != nil {
		t.Fatalf("exit %d, %s; want the entry at %s: %v", code, stderr, want, err)
	}
	code, _, stderr = runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", t.TempDir(), "--history", hist,
		"--baseline", filepath.Join(filepath.Dir(hist), "h-{date}", "{date}.json"), "--quiet")
	if code == int(audit.ExitUsage) {
		t.Errorf("--baseline with {date}: exit %d, %s; want the file read", code, stderr)
	}
}

// TestBaselineFlagCannotDropOutliers: --baseline that cannot feed the
// outliers the config sets is refused, as the same baseline in the config.
func TestBaselineFlagCannotDropOutliers(t *testing.T) {
	cfg := writeConfig(t, "  - {name: r, event: MovieRatingEvent, field: rating, min: 1}\n", "")
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("drift:\n  history: " + t.TempDir() + "\n  baseline: {window: 7}\n  outliers: {warn: 3, fail: 5}\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, tc := range []struct{ flag, want string }{
		{"previous", "the baseline is --baseline previous"},
		{"window:2", "outliers needs a window of at least 3 days to compare today with, but the baseline is --baseline window:2"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", t.TempDir(), "--baseline", tc.flag)
			if code != int(audit.ExitUsage) || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
	if code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", t.TempDir(), "--baseline", "window:3", "--quiet"); code == int(audit.ExitUsage) {
		t.Errorf("--baseline window:3: exit 2: %s", stderr)
	}
}

// A rule on a field that a file's writer schema lacks is an input error
// naming the rule and the file.
func TestRuleFieldMissingFromWriterSchema(t *testing.T) {
	cfg := writeConfig(t, `  - name: subtitles-known
    event: MovieWatchEvent
    field: subtitles
    not_null: true
`, "")
	out := t.TempDir()
	code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out)
	if code != int(audit.ExitInput) {
		t.Fatalf("exit %d, want 3: %s", code, stderr)
	}
	rep, _ := readReport(t, out)
	var flagged []string
	for _, in := range rep.Inputs {
		if in.Error != nil {
			if !strings.Contains(*in.Error, `rule "subtitles-known"`) || !strings.Contains(*in.Error, `no field "subtitles"`) {
				t.Errorf("%s: error %q does not name the rule and field", in.Path, *in.Error)
			}
			flagged = append(flagged, filepath.Base(in.Path))
		}
	}
	if strings.Join(flagged, ",") != "watch.avro" {
		t.Errorf("files flagged %v, want only watch.avro (the evolved schema has subtitles)", flagged)
	}
}

// TestFlagKeywordsInAnyCase: every flag whose value is a keyword reads it
// in any case, as --fail-on always did: --format, --gunzip, --baseline.
func TestFlagKeywordsInAnyCase(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		files []string // the reports written (report.formats is [html])
	}{
		{"fail-on", []string{"--fail-on", "WARN"}, []string{"report.html"}},
		{"format", []string{"--format", "JSON, Markdown"}, []string{"report.json", "report.md"}},
		{"gunzip auto", []string{"--gunzip", "AUTO"}, []string{"report.html"}},
		{"gunzip go", []string{"--gunzip", "Go"}, []string{"report.html"}},
		{"baseline previous", []string{"--baseline", "PREVIOUS"}, []string{"report.html"}},
		{"baseline window", []string{"--baseline", "Window:3"}, []string{"report.html"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smallConfig(t, "day.log", "drift:\n  history: hist\nreport:\n  formats: [html]\n")
			out := t.TempDir()
			args := append([]string{"scan", "--config", cfg, "--date", sampleDate, "--out", out, "--quiet"}, tc.args...)
			code, _, stderr := runCLI(t, args...)
			if code == int(audit.ExitUsage) {
				t.Fatalf("%v: exit 2: %s", tc.args, stderr)
			}
			for _, f := range tc.files {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Errorf("%v: %v", tc.args, err)
				}
			}
		})
	}
	// A keyword in another case is still a keyword, not a file, and a
	// file keeps its case.
	cfg := smallConfig(t, "day.log", "drift:\n  history: hist\n")
	code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--quiet", "--baseline", "hist/PREVIOUS.json")
	if code != int(audit.ExitUsage) || !strings.Contains(stderr, "hist/PREVIOUS.json") {
		t.Errorf("--baseline hist/PREVIOUS.json: exit %d, stderr %q; want 2 naming the file as written", code, stderr)
	}
}
