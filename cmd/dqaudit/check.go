package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

// runCheck validates a config: exit 0 or 2. It reads no data unless
// --references asks it to load the reference sets, as scan would.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "config file (required)")
	refs := fs.Bool("references", false, "also load every reference set, as scan does, and print its size")
	date := fs.String("date", "", "with --references: the day {date} in reference paths stands for, YYYY-MM-DD (default: yesterday in UTC, as scan)")
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
	day, err := dayFrom(*date)
	if err != nil {
		fmt.Fprintf(stderr, "dqaudit check: %v\n", err)
		return int(audit.ExitUsage)
	}
	var sizes string
	if *refs {
		_, readers := readersFor(0, 1, cfg.Events)
		sets, err := audit.LoadReferences(ctx, cfg, filepath.Dir(*config), day, readers)
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(stderr, "dqaudit check: interrupted")
				return int(audit.ExitInterrupted)
			}
			fmt.Fprintln(stderr, err) // each reference's error names its place, as config errors do
			return int(audit.ExitUsage)
		}
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(sets)) {
			parts = append(parts, fmt.Sprintf("%s: %d values", name, sets[name].Len()))
		}
		if len(parts) > 0 {
			sizes = " (" + strings.Join(parts, ", ") + ")"
		}
	}
	fmt.Fprintf(stdout, "%s: ok: %d inputs, %d references%s, %d rules\n", *config, len(cfg.Inputs), len(cfg.References), sizes, len(cfg.Rules))
	return 0
}
