package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
)

func TestGenerateCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "day")
	tests := []struct {
		name   string
		args   []string
		want   audit.ExitCode
		stderr string
	}{
		{"no --out", []string{"--date", sampleDate}, audit.ExitUsage, "--date and --out are required"},
		{"no events", []string{"--date", sampleDate, "--out", out, "--events", "0"}, audit.ExitUsage, "--events 0: want 1 or more"},
		{"impossible date", []string{"--date", "2024-02-30", "--out", out}, audit.ExitUsage, "day out of range"},
		{"a small day", []string{"--date", sampleDate, "--out", out, "--events", "500"}, audit.ExitPass, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"generate"}, tc.args...)...)
			if code != int(tc.want) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.want, tc.stderr)
			}
		})
	}
	for _, name := range []string{"kafka.log.gz", "watch.avro", "truth.json"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("generate wrote no %s: %v", name, err)
		}
	}
}

// TestGenerateHelp: generate --help, as help generate, shows its usage
// line and exit codes, as the other commands' do.
func TestGenerateHelp(t *testing.T) {
	for _, args := range [][]string{{"generate", "--help"}, {"help", "generate"}} {
		code, stdout, stderr := runCLI(t, args...)
		help := stdout + stderr
		if code != 0 || !strings.Contains(help, "Usage: dqaudit generate --date YYYY-MM-DD --out DIR") ||
			!strings.Contains(help, "Exit codes:\n  0 ") || !strings.Contains(help, "\n  3    the files could not be written") {
			t.Errorf("%v: exit %d:\n%s", args, code, help)
		}
	}
}
