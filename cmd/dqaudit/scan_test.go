package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/generate"
)

const sampleDate = "2024-03-19"

// repoRoot is where config.example.yaml and testdata/ are.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// runCLI runs dqaudit in-process and returns the exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// report is the part of report.json the tests read.
type report struct {
	Status   string           `json:"status"`
	ExitCode int              `json:"exit_code"`
	Events   map[string]int64 `json:"events"`
	Inputs   []struct {
		Name        string  `json:"name"`
		Path        string  `json:"path"`
		Events      int64   `json:"events"`
		Malformed   int64   `json:"malformed"`
		Error       *string `json:"error"`
		ErrorOffset *int64  `json:"error_offset"`
		ErrorBlock  *int64  `json:"error_block"`
		ErrorLine   *int64  `json:"error_line"`
	} `json:"inputs"`
	Malformed struct {
		Total    int64            `json:"total"`
		ByReason map[string]int64 `json:"by_reason"`
		Samples  []struct {
			Path, Reason, Text string
			Line               int64
		} `json:"samples"`
	} `json:"malformed"`
	Schemas map[string][]struct {
		Fingerprint string   `json:"fingerprint"`
		Files       []string `json:"files"`
	} `json:"schemas"`
	Rules []struct {
		Name    string `json:"name"`
		Status  string `json:"status"`
		Checked int64  `json:"checked"`
		Failed  int64  `json:"failed"`
		Samples []struct {
			Path   string `json:"path"`
			Line   *int64 `json:"line"`
			Block  *int64 `json:"block"`
			Record *int64 `json:"record"`
			Value  string `json:"value"`
		} `json:"samples"`
	} `json:"rules"`
}

func readReport(t *testing.T, dir string) (report, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	return r, b
}

func readTruth(t *testing.T) generate.Truth {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "archive", sampleDate, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr generate.Truth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestSampleArchiveFindsExactlyTheInjectedFaults is the acceptance test of
// the example config: every count in report.json equals the generator's
// ground truth.
func TestSampleArchiveFindsExactlyTheInjectedFaults(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "scan", "--config", filepath.Join(repoRoot(t), "config.example.yaml"),
		"--date", sampleDate, "--out", out, "--format", "json", "--history", t.TempDir())
	if code != int(audit.ExitFail) {
		t.Fatalf("exit %d, want %d (the sample has error-severity faults)\nstdout:\n%s\nstderr:\n%s", code, audit.ExitFail, stdout, stderr)
	}
	rep, _ := readReport(t, out)
	truth := readTruth(t)
	if rep.Status != "fail" || rep.ExitCode != 1 {
		t.Errorf("status %q exit_code %d, want fail 1", rep.Status, rep.ExitCode)
	}
	for typ, n := range truth.Events {
		if rep.Events[typ] != n {
			t.Errorf("events[%s] = %d, want %d", typ, rep.Events[typ], n)
		}
	}
	if len(rep.Events) != len(truth.Events) {
		t.Errorf("event types %v, want %v", rep.Events, truth.Events)
	}
	var wantMalformed int64
	for reason, n := range truth.Malformed {
		wantMalformed += n
		if rep.Malformed.ByReason[reason] != n {
			t.Errorf("malformed[%s] = %d, want %d", reason, rep.Malformed.ByReason[reason], n)
		}
	}
	if rep.Malformed.Total != wantMalformed {
		t.Errorf("malformed total %d, want %d", rep.Malformed.Total, wantMalformed)
	}
	var total int64
	for _, n := range truth.Events {
		total += n
	}
	want := map[string]struct {
		checked, failed int64
		status          string
	}{
		"rating-in-range":         {truth.Events["MovieRatingEvent"], truth.Faults.RatingOutOfRange, "fail"},
		"minute-not-negative":     {truth.Events["MovieWatchEvent"], truth.Faults.NegativeMinute, "fail"},
		"known-user":              {total, truth.Faults.UnknownUser, "warn"},
		"status-ok":               {truth.Events["RecommendationRequest"], truth.Faults.StatusNot200, "warn"},
		"recommendations-present": {truth.Faults.Status200, truth.Faults.NullRecommendations, "fail"},
	}
	if len(rep.Rules) != len(want) {
		t.Fatalf("%d rules in report, want %d", len(rep.Rules), len(want))
	}
	for _, r := range rep.Rules {
		w, ok := want[r.Name]
		if !ok {
			t.Errorf("unexpected rule %q", r.Name)
			continue
		}
		if r.Checked != w.checked || r.Failed != w.failed || r.Status != w.status {
			t.Errorf("rule %s: checked %d failed %d status %s; want %d %d %s", r.Name, r.Checked, r.Failed, r.Status, w.checked, w.failed, w.status)
		}
		if w.failed > 0 && len(r.Samples) == 0 {
			t.Errorf("rule %s failed but has no samples", r.Name)
		}
		for _, s := range r.Samples {
			if s.Path == "" || (s.Line == nil && (s.Block == nil || s.Record == nil)) {
				t.Errorf("rule %s: sample without provenance: %+v", r.Name, s)
			}
		}
	}
	if got := len(rep.Schemas["MovieWatchEvent"]); got != 2 {
		t.Errorf("MovieWatchEvent writer schemas: %d, want 2 (the evolved one adds subtitles)", got)
	}
	for _, in := range rep.Inputs {
		if in.Error != nil {
			t.Errorf("input %s: unexpected error %s", in.Path, *in.Error)
		}
	}
}

// TestReportIsTheSameForAnyWorkerCount checks that everything outside
// "run" is byte-identical whatever the number of workers.
func TestReportIsTheSameForAnyWorkerCount(t *testing.T) {
	var first []byte
	for _, workers := range []string{"1", "2", "5"} {
		out := t.TempDir()
		code, _, stderr := runCLI(t, "scan", "--config", filepath.Join(repoRoot(t), "config.example.yaml"),
			"--date", sampleDate, "--out", out, "--format", "json", "--workers", workers, "--history", t.TempDir())
		if code != 1 {
			t.Fatalf("workers %s: exit %d: %s", workers, code, stderr)
		}
		_, b := readReport(t, out)
		b = withoutRun(t, b)
		if first == nil {
			first = b
			continue
		}
		if !bytes.Equal(first, b) {
			t.Errorf("workers %s: report differs from workers 1", workers)
		}
	}
}

// withoutRun drops the "run" object, the only part allowed to vary.
func withoutRun(t *testing.T, b []byte) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "run")
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// writeConfig writes a config whose inputs read the sample archive.
func writeConfig(t *testing.T, rulesYAML string, extraInputs string) string {
	t.Helper()
	root := repoRoot(t)
	cfg := `version: 1
inputs:
  - name: avro-events
    format: avro
    paths: ["` + filepath.Join(root, "testdata/archive/{date}/*.avro") + `"]
  - name: kafka-stream
    format: kafka-log
    paths: ["` + filepath.Join(root, "testdata/archive/{date}/*.log.gz") + `"]
` + extraInputs + `references:
  known_users:
    path: ` + filepath.Join(root, "testdata/users.csv") + `
    column: user_id
rules:
` + rulesYAML + `report:
  formats: [json]
`
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExitCodes(t *testing.T) {
	passing := `  - name: status-mostly-ok
    event: RecommendationRequest
    field: status
    in: [200]
    tolerance: 10%
`
	warning := `  - name: status-ok
    event: RecommendationRequest
    field: status
    in: [200]
    severity: warn
`
	failing := `  - name: rating-in-range
    event: MovieRatingEvent
    field: rating
    between: [1, 5]
`
	corrupt := filepath.Join(t.TempDir(), "broken.log.gz")
	if err := os.WriteFile(corrupt, []byte("\x1f\x8b\x08\x00garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A report directory that cannot be made: a file is in its way.
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		rules   string
		inputs  string
		flags   []string
		want    audit.ExitCode
		status  string
		stderr  string
		reports bool
	}{
		{name: "pass", rules: passing, want: audit.ExitPass, status: "pass", reports: true},
		{name: "warning passes", rules: warning, want: audit.ExitPass, status: "warn", reports: true},
		{name: "warning with --fail-on warn", rules: warning, flags: []string{"--fail-on", "warn"}, want: audit.ExitFail, status: "warn", reports: true},
		{name: "warning with --warn-exit-code", rules: warning, flags: []string{"--warn-exit-code", "99"}, want: 99, status: "warn", reports: true},
		{name: "error rule fails", rules: failing, want: audit.ExitFail, status: "fail", reports: true},
		{name: "--fail-on never", rules: failing, flags: []string{"--fail-on", "never"}, want: audit.ExitPass, status: "fail", reports: true},
		{name: "pattern matches nothing", rules: passing, inputs: "  - name: missing\n    format: kafka-log\n    paths: [\"/nonexistent/{date}/*.log\"]\n", want: audit.ExitInput, status: "error", reports: true},
		{name: "corrupt gzip", rules: failing, inputs: "  - name: broken\n    format: kafka-log\n    paths: [\"" + corrupt + "\"]\n", want: audit.ExitInput, status: "error", reports: true},
		{name: "reports cannot be written", rules: passing, flags: []string{"--out", filepath.Join(blocked, "reports")}, want: audit.ExitInput, stderr: "write reports: "},
		{name: "bad config", rules: "  - name: r\n    event: MovieRatingEvent\n    field: rating\n    betwen: [1, 5]\n", want: audit.ExitUsage, stderr: "betwen"},
		{name: "bad flag", rules: passing, flags: []string{"--fail-on", "sometimes"}, want: audit.ExitUsage, stderr: "sometimes"},
		{name: "negative workers", rules: passing, flags: []string{"--workers", "-1"}, want: audit.ExitUsage, stderr: "--workers -1: want 0"},
		{name: "impossible date", rules: passing, flags: []string{"--date", "2024-02-30"}, want: audit.ExitUsage, stderr: `--date "2024-02-30": not a date (day out of range)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeConfig(t, tc.rules, tc.inputs)
			out := filepath.Join(t.TempDir(), "reports")
			args := append([]string{"scan", "--config", cfg, "--date", sampleDate, "--out", out}, tc.flags...)
			code, stdout, stderr := runCLI(t, args...)
			if code != int(tc.want) {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, stdout, stderr)
			}
			if tc.stderr != "" && !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.stderr)
			}
			_, err := os.Stat(filepath.Join(out, "report.json"))
			if tc.reports != (err == nil) {
				t.Fatalf("report written = %v, want %v", err == nil, tc.reports)
			}
			if tc.reports {
				rep, _ := readReport(t, out)
				if rep.Status != tc.status || rep.ExitCode != int(tc.want) {
					t.Errorf("report status %q exit_code %d, want %q %d", rep.Status, rep.ExitCode, tc.status, tc.want)
				}
			}
		})
	}
}

// TestInputErrorsSayWhereReadingStopped scans cut copies of the sample's
// watch.avro and kafka.log.gz. Each file's error must give where reading
// stopped (Avro block, or line, and byte offset) in report.json's fields,
// and the terminal summary must show it once, before the message, which does not
// repeat it; --quiet prints the same lines on stderr.
func TestInputErrorsSayWhereReadingStopped(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	for _, name := range []string{"watch.avro", "kafka.log.gz"} {
		b, err := os.ReadFile(filepath.Join(root, "testdata/archive", sampleDate, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b[:len(b)*3/5], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`version: 1
inputs:
  - {name: avro, format: avro, paths: ["watch.avro"]}
  - {name: log, format: kafka-log, paths: ["kafka.log.gz"]}
rules:
  - {name: minute, event: MovieWatchEvent, field: minute, min: 0}
report:
  formats: [json]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out, "--gunzip", "go")
	if code != int(audit.ExitInput) {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, audit.ExitInput, stdout, stderr)
	}
	// --quiet prints only errors: the same lines, on stderr.
	qcode, qout, qerr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", filepath.Join(dir, "quiet"), "--gunzip", "go", "--quiet")
	if qcode != code || qout != "" {
		t.Errorf("--quiet: exit %d, stdout %q; want %d and nothing", qcode, qout, code)
	}
	rep, _ := readReport(t, out)
	if len(rep.Inputs) != 2 {
		t.Fatalf("%d inputs in report.json, want 2", len(rep.Inputs))
	}
	for _, in := range rep.Inputs {
		if in.Error == nil || in.ErrorOffset == nil {
			t.Errorf("%s: error %v at offset %v, want both", in.Path, in.Error, in.ErrorOffset)
			continue
		}
		var where string
		switch filepath.Base(in.Path) {
		case "watch.avro":
			if in.ErrorBlock == nil || *in.ErrorBlock < 1 || in.ErrorLine != nil {
				t.Errorf("watch.avro: error_block %v, error_line %v; want a block after the first, no line", in.ErrorBlock, in.ErrorLine)
				continue
			}
			where = fmt.Sprintf("block %d, byte offset ", *in.ErrorBlock)
		case "kafka.log.gz":
			if in.ErrorLine == nil || *in.ErrorLine < 2 || in.ErrorBlock != nil {
				t.Errorf("kafka.log.gz: error_line %v, error_block %v; want a line after the first, no block", in.ErrorLine, in.ErrorBlock)
				continue
			}
			where = "line "
		}
		msg := *in.Error
		if said := regexp.MustCompile(`^(block|line) \d+ \(offset|^offset `).FindString(msg); said != "" {
			t.Errorf("%s: error %q repeats where reading stopped (%q)", in.Path, msg, said)
		}
		for _, printed := range []string{stdout, qerr} {
			line := ""
			for l := range strings.SplitSeq(printed, "\n") {
				if strings.Contains(l, filepath.Base(in.Path)+" (") {
					line = l
				}
			}
			if !strings.Contains(line, " ("+where) || !strings.HasSuffix(line, "): "+msg) {
				t.Errorf("%s: summary line %q, want (%s...): %s", in.Path, line, where, msg)
			}
		}
	}
}

// TestEmptyAndForeignFilesAreNamed: an empty .gz or .avro, and a .gz that
// is not gzip, get an error that says so, with either gzip decoder.
func TestEmptyAndForeignFilesAreNamed(t *testing.T) {
	dir := t.TempDir()
	want := map[string]string{
		"empty.log.gz":  "gzip: empty file",
		"text.log.gz":   "gzip: invalid header",
		"empty.avro":    "empty file: not an Avro object container file",
		"empty.log.zst": "zstd: empty file",
		"EMPTY.LOG.GZ":  "gzip: empty file", // the suffix in any case
		"text.log.zst":  "zstd: invalid input: magic number mismatch",
		// A frame whose window is 512 MiB (zstd --long=29): the decoder
		// would keep that much history for the file.
		"window.log.zst": "zstd: window size exceeded: the file needs more than 128 MiB of history (written with --long=28 or more), which zstd -d refuses too",
	}
	for name := range want {
		content := ""
		switch name {
		case "text.log.gz", "text.log.zst":
			content = sampleDate + "T10:00:00,1,GET /rate/up+2009=4\n"
		case "window.log.zst":
			// magic, no flags, window 2^(10+19); a last raw block of one byte
			content = "\x28\xb5\x2f\xfd\x00\x98\x09\x00\x00x"
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`version: 1
inputs:
  - {name: log, format: kafka-log, paths: ["*.log.gz", "*.log.zst", "*.LOG.GZ"]}
  - {name: avro, format: avro, paths: ["*.avro"]}
report:
  formats: [json]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, gunzip := range []string{"go", "auto"} {
		out := filepath.Join(dir, "out-"+gunzip)
		code, stdout, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out, "--gunzip", gunzip)
		if code != int(audit.ExitInput) {
			t.Fatalf("--gunzip %s: exit %d, want %d\n%s%s", gunzip, code, audit.ExitInput, stdout, stderr)
		}
		rep, _ := readReport(t, out)
		for _, in := range rep.Inputs {
			if in.Error == nil {
				t.Errorf("--gunzip %s: %s: no error", gunzip, in.Path)
			} else if got := *in.Error; got != want[filepath.Base(in.Path)] {
				t.Errorf("--gunzip %s: %s: error %q, want %q", gunzip, filepath.Base(in.Path), got, want[filepath.Base(in.Path)])
			}
		}
	}
}

// TestEmptyDayIsAnInputError: files that read cleanly and hold nothing
// at all (a gzip of no bytes, an empty log, an Avro file of a header
// only) are an input error of each input, as a day without files is; an
// input of malformed lines only is one too.
func TestEmptyDayIsAnInputError(t *testing.T) {
	dir := t.TempDir()
	var gzEmpty bytes.Buffer
	gzip.NewWriter(&gzEmpty).Close()
	files := map[string][]byte{"a.log.gz": gzEmpty.Bytes(), "b.log": nil, "header.avro": avroHeaderOnly(t)}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`version: 1
inputs:
  - {name: log, format: kafka-log, paths: ["*.log.gz", "*.log"]}
  - {name: avro, format: avro, paths: ["*.avro"]}
report:
  formats: [json]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out)
	if code != int(audit.ExitInput) {
		t.Fatalf("exit %d, want %d\n%s%s", code, audit.ExitInput, stdout, stderr)
	}
	rep, _ := readReport(t, out)
	want := map[string]string{
		"*.log.gz, *.log": "no events: its 2 files hold no event and no malformed line, and no other input has any",
		"*.avro":          "no events: its file holds no event and no malformed line, and no other input has any",
	}
	var errs int
	for _, in := range rep.Inputs {
		if in.Error == nil {
			continue
		}
		errs++
		if *in.Error != want[in.Path] {
			t.Errorf("%s: error %q, want %q", in.Path, *in.Error, want[in.Path])
		}
	}
	if errs != 2 {
		t.Errorf("%d input errors, want one per input: %+v", errs, rep.Inputs)
	}
	// A log of malformed lines only (a producer that changed its time
	// format) is an input error of its own: nothing of it was audited.
	if err := os.WriteFile(filepath.Join(dir, "b.log"), []byte(sampleDate+"T10:00:00Z,1,GET /rate/up+2009=9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out)
	const allMalformed = "*.log.gz, *.log: no events: its 2 files hold no event; its 1 line is malformed (see the malformed lines)"
	if code != int(audit.ExitInput) || !strings.Contains(stdout, allMalformed) || strings.Contains(stdout, "*.avro") {
		t.Errorf("a log of malformed lines: exit %d, want %d and only the log's input error\n%s%s", code, audit.ExitInput, stdout, stderr)
	}
	// One event is a day of data: the Avro input without events passes
	// beside it, as a rare type may.
	if err := os.WriteFile(filepath.Join(dir, "b.log"), []byte(sampleDate+"T10:00:00,1,GET /rate/up+2009=4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out); code != int(audit.ExitPass) {
		t.Errorf("with an event: exit %d, want %d\n%s%s", code, audit.ExitPass, stdout, stderr)
	}
}

// avroHeaderOnly returns an Avro file of a header and no block, as a
// producer that died before its first block leaves.
func avroHeaderOnly(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := goavro.NewOCFWriter(goavro.OCFConfig{W: &b, Schema: `{"type":"record","name":"MovieRatingEvent","fields":[{"name":"time","type":"string"}]}`}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestEventsDatedAnotherDayAreCounted: late and early events of a day's
// log are counted per type in every report.
func TestEventsDatedAnotherDayAreCounted(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "day.log"), []byte(lateLog), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\ninputs:\n  - {name: log, format: kafka-log, paths: [\"day.log\"]}\nreport:\n  formats: [json, markdown, html]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out)
	if code != int(audit.ExitPass) {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	const said = "2 events dated another day (MovieRatingEvent 2)"
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	page, _ := os.ReadFile(filepath.Join(out, "report.html"))
	for name, text := range map[string]string{"summary": stdout, "report.md": string(md), "report.html": string(page)} {
		if !strings.Contains(text, said) {
			t.Errorf("%s does not say %q:\n%s", name, said, text)
		}
	}
	_, raw := readReport(t, out)
	var doc struct {
		OtherDay map[string]int64 `json:"events_other_day"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.OtherDay) != 1 || doc.OtherDay["MovieRatingEvent"] != 2 {
		t.Errorf("events_other_day %v, want MovieRatingEvent 2", doc.OtherDay)
	}
}

// lateLog is a day's log with one event of the day before (line 2) and one
// of the day after (line 3).
const lateLog = sampleDate + "T10:00:00,1,GET /rate/up+2009=4\n" +
	"2024-03-18T23:59:30,2,GET /rate/up+2009=5\n" +
	"2024-03-20T00:00:10,3,GET /rate/up+2009=3\n" +
	sampleDate + "T11:00:00,4,GET /data/m/up+2009/1.mpg\n"

// TestOnDayRuleGatesEventsOfAnotherDay: an on_day rule fails each event
// dated another day, with its line, and gates the run like any rule.
func TestOnDayRuleGatesEventsOfAnotherDay(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "day.log"), []byte(lateLog), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tolerance string
		code      audit.ExitCode
		status    string
	}{
		{"0", audit.ExitFail, "fail"},
		{"50%", audit.ExitPass, "pass"}, // 2 of 4 events
	} {
		t.Run("tolerance "+tc.tolerance, func(t *testing.T) {
			cfg := filepath.Join(dir, "config.yaml")
			rule := "  - {name: same-day, event: '*', field: time, on_day: true, tolerance: " + tc.tolerance + "}\n"
			if err := os.WriteFile(cfg, []byte("version: 1\ninputs:\n  - {name: log, format: kafka-log, paths: [\"day.log\"]}\nrules:\n"+rule+"report:\n  formats: [json]\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out-"+tc.status)
			code, stdout, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out)
			if code != int(tc.code) {
				t.Fatalf("exit %d, want %d: %s%s", code, tc.code, stdout, stderr)
			}
			rep, _ := readReport(t, out)
			if len(rep.Rules) != 1 {
				t.Fatalf("%d rules in report.json", len(rep.Rules))
			}
			r := rep.Rules[0]
			if r.Status != tc.status || r.Checked != 4 || r.Failed != 2 || len(r.Samples) != 2 {
				t.Fatalf("%s, %d checked, %d failed, %d samples; want %s, 4, 2, 2", r.Status, r.Checked, r.Failed, len(r.Samples), tc.status)
			}
			for i, want := range []struct {
				line  int64
				value string
			}{{2, "2024-03-18T23:59:30"}, {3, "2024-03-20T00:00:10"}} {
				s := r.Samples[i]
				if s.Line == nil || *s.Line != want.line || s.Value != want.value || filepath.Base(s.Path) != "day.log" {
					t.Errorf("sample %d: %s line %v value %q, want day.log line %d value %q", i, s.Path, s.Line, s.Value, want.line, want.value)
				}
			}
		})
	}
}

func TestCheckCommand(t *testing.T) {
	code, stdout, stderr := runCLI(t, "check", "--config", filepath.Join(repoRoot(t), "config.example.yaml"))
	if code != 0 || !strings.Contains(stdout, "5 rules") {
		t.Errorf("check example: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "check", "--config", bad)
	if code != int(audit.ExitUsage) || !strings.Contains(stderr, "bad.yaml:1:") {
		t.Errorf("check bad config: exit %d, stderr %q; want 2 and a file:line message", code, stderr)
	}

	code, stdout, stderr = runCLI(t, "check", "--config", filepath.Join(repoRoot(t), "config.example.yaml"), "--references")
	if code != 0 || !strings.Contains(stdout, "ok: 2 inputs, 1 reference (known_users: 5000 values), 5 rules") {
		t.Errorf("check --references: exit %d, stdout %q, stderr %q; want the size of known_users", code, stdout, stderr)
	}
	// A config whose reference file is missing passes check, which reads
	// no data, and fails check --references as it would fail scan.
	noRef := filepath.Join(t.TempDir(), "config.yaml")
	yaml := "version: 1\ninputs:\n  - {name: log, format: kafka-log, paths: [\"*.log\"]}\nreferences:\n  known_users: {path: users.csv, column: user_id}\n  movies: {path: movies.txt}\n"
	if err := os.WriteFile(noRef, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "check", "--config", noRef); code != 0 {
		t.Errorf("check without --references: exit %d: %s", code, stderr)
	}
	// Every broken reference is named, at its place in the config.
	code, _, stderr = runCLI(t, "check", "--config", noRef, "--references")
	for _, want := range []string{noRef + `:5:3: reference "known_users": `, "users.csv", noRef + `:6:3: reference "movies": `, "movies.txt"} {
		if code != int(audit.ExitUsage) || !strings.Contains(stderr, want) {
			t.Errorf("check --references, references missing: exit %d, stderr %q; want 2 and %q", code, stderr, want)
		}
	}

	// Counts of one are singular; none and many plural.
	if err := os.WriteFile(filepath.Join(filepath.Dir(noRef), "users.csv"), []byte("user_id\n7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(noRef), "movies.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "check", "--config", noRef, "--references")
	if want := "ok: 1 input, 2 references (known_users: 1 value, movies: 0 values), 0 rules\n"; code != 0 || !strings.HasSuffix(stdout, want) {
		t.Errorf("check --references, a one-id set: exit %d, stdout %q, stderr %q; want %q", code, stdout, stderr, want)
	}
}

// TestDatedReferencePaths: {date} in a reference path is the audited day,
// for scan and for check --references --date.
func TestDatedReferencePaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "refs", sampleDate), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "refs", sampleDate, "users.csv"), []byte("user_id\n1\n3\n4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "day.log"), []byte(lateLog), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	yaml := "version: 1\ninputs:\n  - {name: log, format: kafka-log, paths: [\"day.log\"]}\n" +
		"references:\n  users: {path: \"refs/{date}/users.csv\", column: user_id}\n" +
		"rules:\n  - {name: known-user, event: '*', field: userId, in_reference: users}\nreport:\n  formats: [json]\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "check", "--config", cfg, "--references", "--date", sampleDate)
	if code != 0 || !strings.Contains(stdout, "users: 3 values") {
		t.Errorf("check --references --date: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "check", "--config", cfg, "--references", "--date", "2024-03-18"); code != int(audit.ExitUsage) || !strings.Contains(stderr, "refs/2024-03-18/users.csv") {
		t.Errorf("check --references for a day without its file: exit %d, stderr %q; want 2 naming the expanded path", code, stderr)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr = runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out)
	if code != int(audit.ExitFail) {
		t.Fatalf("scan: exit %d: %s%s", code, stdout, stderr)
	}
	rep, _ := readReport(t, out)
	if r := rep.Rules[0]; r.Checked != 4 || r.Failed != 1 { // user 2 is unknown
		t.Errorf("known-user: %d checked, %d failed; want 4, 1", r.Checked, r.Failed)
	}
}

// TestREADMEDocumentsEveryExitCode keeps README's table and --help in step
// with the exit codes.
func TestREADMEDocumentsEveryExitCode(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, help, _ := runCLI(t, "--help")
	// The same words, whatever the wrapping and the README's backticks.
	words := func(s string) string { return strings.Join(strings.Fields(strings.ReplaceAll(s, "`", "")), " ") }
	rows := regexp.MustCompile(`(?m)^\| (\d+) \| (.*) \|$`).FindAllStringSubmatch(string(readme), -1)
	entries := regexp.MustCompile(`(?m)^  (\d+) +((?:.*\n?)(?:       .*\n?)*)`).FindAllStringSubmatch(help, -1)
	inHelp := map[string]string{}
	for _, e := range entries {
		inHelp[e[1]] = words(e[2])
	}
	inREADME := map[string]string{}
	for _, r := range rows {
		inREADME[r[1]] = words(r[2])
	}
	for _, code := range []audit.ExitCode{audit.ExitPass, audit.ExitFail, audit.ExitUsage, audit.ExitInput, audit.ExitInterrupted} {
		key := fmt.Sprint(int(code))
		switch {
		case inREADME[key] == "":
			t.Errorf("README has no exit-code row for %d", code)
		case inHelp[key] == "":
			t.Errorf("--help does not list exit code %d", code)
		case inREADME[key] != inHelp[key]:
			t.Errorf("exit code %d:\nREADME: %s\n--help: %s", code, inREADME[key], inHelp[key])
		}
	}
}
