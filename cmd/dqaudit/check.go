package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

// runCheck validates a config without reading any data: exit 0 or 2.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "config file (required)")
	if ok, code := parseFlags(fs, args, false, stderr); !ok {
		return code
	}
	if *config == "" {
		fmt.Fprintln(stderr, "dqaudit check: --config is required")
		return int(audit.ExitUsage)
	}
	cfg, err := rules.Load(*config)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return int(audit.ExitUsage)
	}
	fmt.Fprintf(stdout, "%s: ok: %d inputs, %d references, %d rules\n", *config, len(cfg.Inputs), len(cfg.References), len(cfg.Rules))
	return 0
}
