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

// checkExitCodeTable documents check's exit codes, a subset of scan's
// (audit.ExitCodeTable): check scans nothing, so it never exits 1 or 3.
const checkExitCodeTable = `Exit codes:
  0    the config is valid (with --references, every reference set loaded)
  2    usage or configuration error, as scan would refuse it before reading
       data: the config, a URL without a bucket, a drift.baseline file that
       cannot be read, or with --references a reference set that cannot be
       loaded
  130  interrupted by SIGINT or SIGTERM`

// runCheck validates a config: exit 0 or 2. It refuses what scan would
// refuse before reading data, through the same code; it reads no data
// unless --references asks it to load the reference sets, as scan would.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "config file (required)")
	refs := fs.Bool("references", false, "also load every reference set, as scan does, and print its size")
	date := fs.String("date", "", "the day {date} in reference paths and a drift.baseline file stands for, YYYY-MM-DD (default: yesterday in UTC, as scan)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dqaudit check --config FILE [--references] [--date YYYY-MM-DD]\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s\n", checkExitCodeTable)
	}
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
	f := scanFlags{config: *config}
	base := filepath.Dir(*config)
	if err := vetPlaces(cfg, f); err != nil {
		fmt.Fprintln(stderr, err) // config errors name their place, as rules.Load's do
		return int(audit.ExitUsage)
	}
	interrupted := func() int {
		fmt.Fprintln(stderr, "dqaudit check: interrupted")
		return int(audit.ExitInterrupted)
	}
	var sizes string
	if *refs {
		_, readers := readersFor(0, 1, cfg.Events)
		sets, err := audit.LoadReferences(ctx, cfg, base, day, readers)
		if err != nil {
			if ctx.Err() != nil {
				return interrupted()
			}
			fmt.Fprintln(stderr, err) // each reference's error names its place, as config errors do
			return int(audit.ExitUsage)
		}
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(sets)) {
			parts = append(parts, name+": "+counted(sets[name].Len(), "value"))
		}
		if len(parts) > 0 {
			sizes = " (" + strings.Join(parts, ", ") + ")"
		}
	}
	// As scan does after the references: a drift.baseline file must be
	// there, or the run would stop.
	if _, err := historyFor(ctx, cfg, f, base, day); err != nil {
		if ctx.Err() != nil {
			return interrupted()
		}
		fmt.Fprintf(stderr, "dqaudit check: %v\n", err)
		return int(audit.ExitUsage)
	}
	fmt.Fprintf(stdout, "%s: ok: %s, %s%s, %s\n", *config, counted(len(cfg.Inputs), "input"),
		counted(len(cfg.References), "reference"), sizes, counted(len(cfg.Rules), "rule"))
	return 0
}

// counted returns n and the noun, in the plural unless n is 1: "1 value",
// "5000 values".
func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
