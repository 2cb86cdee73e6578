package main

import (
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
)

// TestStrayArgumentsAreUsageErrors: a command that takes no argument
// refuses one (exit 2) instead of ignoring it, as scan and check do.
func TestStrayArgumentsAreUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code audit.ExitCode
		want string // in stdout or stderr
	}{
		{"version", []string{"version"}, audit.ExitPass, "dqaudit "},
		{"version extra", []string{"version", "extra"}, audit.ExitUsage, `dqaudit version: unexpected argument "extra"`},
		{"--version extra", []string{"--version", "extra"}, audit.ExitUsage, `unexpected argument "extra"`},
		{"version bad flag", []string{"version", "--short"}, audit.ExitUsage, "flag provided but not defined: -short"},
		{"version --help", []string{"version", "--help"}, audit.ExitPass, "Usage: dqaudit version"},
		{"help", []string{"help"}, audit.ExitPass, "Exit codes:"},
		{"help command", []string{"help", "check"}, audit.ExitPass, "Usage: dqaudit check"},
		{"--help command", []string{"--help", "merge"}, audit.ExitPass, "Usage: dqaudit merge"},
		{"help unknown command", []string{"help", "scna"}, audit.ExitUsage, `dqaudit help: unknown command "scna"`},
		{"help two commands", []string{"help", "scan", "merge"}, audit.ExitUsage, `dqaudit help: unexpected argument "merge"`},
		{"check extra", []string{"check", "--config", "c.yaml", "extra"}, audit.ExitUsage, `dqaudit check: unexpected argument "extra"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != int(tc.code) || !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, stdout, stderr, tc.code, tc.want)
			}
		})
	}
}
