package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/dqaudit/dqaudit/audit"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

// toolVersion is the module version when built with go install, else "dev".
func toolVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

const usage = `dqaudit: the nightly data-quality gate for ML event logs.

Usage:
  dqaudit scan --config FILE [--date YYYY-MM-DD] [flags]   audit one day's archive
  dqaudit scan --shard i/n --partial FILE ...              scan one shard of the day, for merge
  dqaudit merge --config FILE --date D PARTIAL...          merge shards, then gate and report as scan
  dqaudit check --config FILE [--references]               validate a config (and load its reference sets)
  dqaudit generate --date YYYY-MM-DD --out DIR [--events N] write a sample archive with injected faults
  dqaudit version                                          print the version

Run "dqaudit COMMAND --help" for a command's flags.

`

// run is the whole program but os.Exit: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage+audit.ExitCodeTable+"\n")
		return int(audit.ExitUsage)
	}
	switch args[0] {
	case "scan":
		return runScan(ctx, args[1:], stdout, stderr)
	case "merge":
		return runMerge(ctx, args[1:], stdout, stderr)
	case "check":
		return runCheck(ctx, args[1:], stdout, stderr)
	case "generate":
		return runGenerate(args[1:], stdout, stderr)
	case "version", "--version":
		return runVersion(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		return runHelp(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "dqaudit: unknown command %q\n\n%s", args[0], usage)
	return int(audit.ExitUsage)
}

// runVersion prints the version; it takes no arguments.
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "Usage: dqaudit version") }
	if ok, code := parseFlags(fs, args, false, stderr); !ok {
		return code
	}
	fmt.Fprintln(stdout, "dqaudit", toolVersion())
	return 0
}

// runHelp prints the usage, or with a command's name that command's, as
// "dqaudit COMMAND --help" does.
func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(stdout, usage+audit.ExitCodeTable+"\n")
		return 0
	case len(args) > 1:
		fmt.Fprintf(stderr, "dqaudit help: unexpected argument %q\n", args[1])
		return int(audit.ExitUsage)
	}
	switch args[0] {
	case "scan", "merge", "check", "generate", "version":
		return run(ctx, []string{args[0], "--help"}, stdout, stderr)
	}
	fmt.Fprintf(stderr, "dqaudit help: unknown command %q\n\n%s", args[0], usage)
	return int(audit.ExitUsage)
}

// parseFlags parses a subcommand's flags. It returns false, with the exit
// code, when the command should stop: 0 after --help, 2 on a bad flag or,
// unless allowArgs, a stray argument.
func parseFlags(fs *flag.FlagSet, args []string, allowArgs bool, stderr io.Writer) (bool, int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, 0
		}
		return false, int(audit.ExitUsage)
	}
	if !allowArgs && fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dqaudit %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false, int(audit.ExitUsage)
	}
	return true, 0
}
