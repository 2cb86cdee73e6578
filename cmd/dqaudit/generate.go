package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/generate"
)

// generateExitCodeTable documents generate's exit codes, a subset of
// scan's (audit.ExitCodeTable).
const generateExitCodeTable = `Exit codes:
  0    the day was written
  2    usage error: a flag is missing or malformed
  3    the files could not be written`

// runGenerate writes a sample archive with injected faults and its ground
// truth.
func runGenerate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	date := fs.String("date", "", "day of the archive, YYYY-MM-DD (required)")
	out := fs.String("out", "", "directory to write the day's files into (required)")
	events := fs.Int("events", 10000, "events of all types")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same files")
	users := fs.String("users", "", "also write the known-users reference CSV here")
	knownUsers := fs.Int("known-users", 5000, "known user ids 1..N; injected unknown users lie above")
	shift := fs.Bool("shift", false, "make a drifted day: 1-star-heavy ratings, response times tripled")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dqaudit generate --date YYYY-MM-DD --out DIR [flags]\n\nWrites a day of sample events, with faults injected on purpose, and their\nground truth (truth.json).\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s\n", generateExitCodeTable)
	}
	if ok, code := parseFlags(fs, args, false, stderr); !ok {
		return code
	}
	if *date == "" || *out == "" {
		fmt.Fprintln(stderr, "dqaudit generate: --date and --out are required")
		return int(audit.ExitUsage)
	}
	if *events <= 0 {
		fmt.Fprintf(stderr, "dqaudit generate: --events %d: want 1 or more\n", *events)
		return int(audit.ExitUsage)
	}
	day, err := audit.ParseDate(*date)
	if err != nil {
		fmt.Fprintln(stderr, "dqaudit generate:", err)
		return int(audit.ExitUsage)
	}
	truth, err := generate.Write(*out, generate.Options{Date: day, Events: *events, Seed: *seed, KnownUsers: *knownUsers, Shift: *shift})
	if err != nil {
		fmt.Fprintln(stderr, "dqaudit generate:", err)
		return int(audit.ExitInput)
	}
	if *users != "" {
		if err := generate.WriteUsers(*users, *knownUsers); err != nil {
			fmt.Fprintln(stderr, "dqaudit generate:", err)
			return int(audit.ExitInput)
		}
	}
	fmt.Fprintf(stdout, "wrote %d events in %d files to %s (ground truth: truth.json)\n", *events, len(truth.Files), *out)
	return 0
}
