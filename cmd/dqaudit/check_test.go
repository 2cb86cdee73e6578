package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
)

// smallConfig writes a config over one local log, day.log, with extra
// YAML appended, and returns its path.
func smallConfig(t *testing.T, input, extra string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "day.log"), []byte(lateLog), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	yaml := "version: 1\ninputs:\n  - {name: log, format: kafka-log, paths: [\"" + input + "\"]}\n" +
		"rules:\n  - {name: r, event: MovieRatingEvent, field: rating, min: 1}\n" + extra
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCheckRefusesWhatScanRefuses: what scan refuses before reading data,
// check refuses too, with the same message, and exit 2 from both.
func TestCheckRefusesWhatScanRefuses(t *testing.T) {
	tests := []struct {
		name, input, extra string
		want               string // in both messages
	}{
		{"input URL without a bucket", "s3:///x/*.log", "", `config.yaml:3:5: input "log": s3:///x/*.log: no bucket in URL; write s3://BUCKET/...`},
		{"input URL that is a scheme only", "s3://", "", `input "log": s3://: no bucket in URL`},
		{"reference URL without a bucket", "day.log", "references:\n  users: {path: \"gs:///users.csv\", column: user_id}\n",
			`config.yaml:7:3: reference "users": gs:///users.csv: no bucket in URL; write gs://BUCKET/...`},
		{"report.out without a container", "day.log", "report:\n  out: \"azblob:///reports/{date}\"\n",
			"config.yaml: report.out: azblob:///reports/{date}: no container in URL; write azblob://CONTAINER/..."},
		{"drift.history without a bucket", "day.log", "drift:\n  history: \"s3://?endpoint=http://127.0.0.1:1\"\n",
			"config.yaml:7:3: drift.history: s3://: no bucket in URL"},
		{"drift.baseline without a bucket", "day.log", "drift:\n  history: hist\n  baseline: \"s3:///b.json\"\n",
			"config.yaml:7:3: drift.baseline: s3:///b.json: no bucket in URL"},
		{"drift.baseline file missing", "day.log", "drift:\n  history: hist\n  baseline: hist/2024-03-01.json\n",
			"2024-03-01.json: open "},
		{"dated drift.baseline file missing", "day.log", "drift:\n  history: hist\n  baseline: \"hist/{date}-prev.json\"\n",
			sampleDate + "-prev.json: open "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smallConfig(t, tc.input, tc.extra)
			code, stdout, checkErr := runCLI(t, "check", "--config", cfg, "--date", sampleDate)
			if code != int(audit.ExitUsage) || !strings.Contains(checkErr, tc.want) {
				t.Errorf("check: exit %d, stdout %q, stderr %q; want 2 and %q", code, stdout, checkErr, tc.want)
			}
			code, _, scanErr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--quiet")
			if code != int(audit.ExitUsage) || !strings.Contains(scanErr, tc.want) {
				t.Errorf("scan: exit %d, stderr %q; want 2 and %q", code, scanErr, tc.want)
			}
			if c, s := strings.TrimPrefix(checkErr, "dqaudit check: "), strings.TrimPrefix(scanErr, "dqaudit scan: "); c != s {
				t.Errorf("check and scan say different things:\ncheck: %q\nscan:  %q", c, s)
			}
		})
	}

	// A drift.baseline file that is there passes both.
	cfg := smallConfig(t, "day.log", "drift:\n  history: hist\nreport:\n  formats: [json]\n")
	if code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--quiet"); code != int(audit.ExitPass) {
		t.Fatalf("scan to start the history: exit %d: %s", code, stderr)
	}
	withBaseline := smallConfig(t, "day.log", "drift:\n  history: "+filepath.Join(filepath.Dir(cfg), "hist")+"\n  baseline: "+
		filepath.Join(filepath.Dir(cfg), "hist", sampleDate+".json")+"\nreport:\n  formats: [json]\n")
	if code, _, stderr := runCLI(t, "check", "--config", withBaseline); code != 0 {
		t.Errorf("check with a baseline file that is there: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "scan", "--config", withBaseline, "--date", "2024-03-20", "--quiet"); code == int(audit.ExitUsage) {
		t.Errorf("scan with a baseline file that is there: exit 2: %s", stderr)
	}
}

// TestCheckHelpListsItsExitCodes: check --help has an exit-code table, as
// scan --help has, with check's own codes: it never gates or scans, so
// never exits 1 or 3.
func TestCheckHelpListsItsExitCodes(t *testing.T) {
	code, stdout, stderr := runCLI(t, "check", "--help")
	if code != 0 {
		t.Fatalf("check --help: exit %d: %s", code, stderr)
	}
	help := stdout + stderr
	if !strings.Contains(help, "Exit codes:") {
		t.Fatalf("check --help has no exit-code table:\n%s", help)
	}
	for _, c := range []audit.ExitCode{audit.ExitPass, audit.ExitUsage, audit.ExitInterrupted} {
		if !strings.Contains(help, fmt.Sprintf("\n  %d ", c)) {
			t.Errorf("check --help does not list exit code %d:\n%s", c, help)
		}
	}
	for _, c := range []audit.ExitCode{audit.ExitFail, audit.ExitInput} {
		if strings.Contains(help, fmt.Sprintf("\n  %d ", c)) {
			t.Errorf("check --help lists exit code %d, which check never returns:\n%s", c, help)
		}
	}
	if _, _, scanHelp := runCLI(t, "scan", "--help"); !strings.Contains(scanHelp, "Exit codes:") {
		t.Errorf("scan --help lost its exit-code table")
	}
}
