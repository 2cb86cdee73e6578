package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/avro"
	"github.com/dqaudit/dqaudit/audit/kafkalog"
	"github.com/dqaudit/dqaudit/reports"
	"github.com/dqaudit/dqaudit/rules"
)

type scanFlags struct {
	config       string
	date         string
	workers      int
	formats      string
	out          string
	failOn       string
	warnExitCode int
	quiet        bool
	baseline     string
	history      string
}

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f scanFlags
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "config file (required)")
	fs.StringVar(&f.date, "date", "", "day to audit, YYYY-MM-DD (default: yesterday in UTC)")
	fs.IntVar(&f.workers, "workers", 0, "files read at once (default: number of CPUs)")
	fs.StringVar(&f.formats, "format", "", "report formats, comma-separated: html,markdown,json (default: report.formats)")
	fs.StringVar(&f.out, "out", "", "report directory; {date} expands (default: report.out)")
	fs.StringVar(&f.failOn, "fail-on", "error", "what fails the gate: error, warn or never")
	fs.IntVar(&f.warnExitCode, "warn-exit-code", 0, "exit code for a run whose worst finding is a warning (e.g. 99 for Airflow's skip_on_exit_code)")
	fs.BoolVar(&f.quiet, "quiet", false, "print only errors")
	fs.StringVar(&f.history, "history", "", "drift history directory, overriding drift.history")
	fs.StringVar(&f.baseline, "baseline", "", "drift baseline, overriding drift.baseline: previous, window:N or a history file")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dqaudit scan --config FILE [--date YYYY-MM-DD] [flags]\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s\n", audit.ExitCodeTable)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return int(audit.ExitUsage)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dqaudit scan: unexpected argument %q\n", fs.Arg(0))
		return int(audit.ExitUsage)
	}
	code, err := scan(ctx, f, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "dqaudit scan: %v\n", err)
	}
	return int(code)
}

// errInterrupted is the message of a run stopped by SIGINT or SIGTERM.
var errInterrupted = errors.New("interrupted: no report written")

// scan runs one audit. Errors before the scan starts are usage errors
// (exit 2, nothing written); from then on problems are recorded in the
// result, so that the reports and the exit code always agree.
func scan(ctx context.Context, f scanFlags, stdout, stderr io.Writer) (audit.ExitCode, error) {
	if f.config == "" {
		return audit.ExitUsage, errors.New("--config is required")
	}
	policy, err := policyFrom(f)
	if err != nil {
		return audit.ExitUsage, err
	}
	day, err := dayFrom(f.date)
	if err != nil {
		return audit.ExitUsage, err
	}
	cfg, err := rules.Load(f.config)
	if err != nil {
		return audit.ExitUsage, err
	}
	formats := cfg.Report.Formats
	if f.formats != "" {
		formats = nil
		for _, name := range strings.Split(f.formats, ",") {
			formats = append(formats, strings.TrimSpace(name))
		}
	}
	writers, err := reportWriters(formats)
	if err != nil {
		return audit.ExitUsage, err
	}
	base := filepath.Dir(f.config)
	plan, err := audit.NewPlan(cfg, day, base)
	if err != nil {
		return audit.ExitUsage, err
	}
	fileWorkers, readers := readersFor(f.workers, len(plan.Files))
	refs, err := audit.LoadReferences(ctx, cfg, base, readers)
	if err != nil {
		if ctx.Err() != nil {
			return audit.ExitInterrupted, errInterrupted
		}
		return audit.ExitUsage, err
	}
	book, err := rules.Compile(cfg, refs)
	if err != nil {
		return audit.ExitUsage, err
	}
	hist, err := historyFor(cfg, f, base, day)
	if err != nil {
		return audit.ExitUsage, err
	}
	if hist != nil {
		// Held until the history is written: concurrent runs on one
		// history wait instead of interleaving.
		unlock, err := hist.Lock(ctx, func() {
			fmt.Fprintf(stderr, "dqaudit scan: waiting for another run's lock on %s\n", hist.Dir())
		})
		if err != nil {
			if ctx.Err() != nil {
				return audit.ExitInterrupted, errInterrupted
			}
			return audit.ExitInput, err
		}
		defer unlock()
	}

	progress := audit.NewProgress(plan)
	stopProgress := func() {}
	if !f.quiet && isTerminal(stderr) {
		stopProgress = reports.StartProgress(stderr, progress, 200*time.Millisecond)
	}
	res, err := audit.Scan(ctx, plan, book, audit.Options{
		Workers:          fileWorkers,
		Readers:          readers,
		RuleSamples:      cfg.Report.Samples,
		MalformedSamples: cfg.Report.MalformedSamples,
		Progress:         progress,
	})
	stopProgress()
	if err != nil {
		if ctx.Err() != nil {
			return audit.ExitInterrupted, errInterrupted
		}
		return audit.ExitUsage, err
	}
	res.Version = toolVersion()
	res.Workers = max(f.workers, 0)
	if res.Workers == 0 {
		res.Workers = runtime.GOMAXPROCS(0)
	}
	if hist != nil {
		hist.Apply(cfg.Drift, res)
		// A day whose files could not all be read would make a skewed
		// baseline: it is kept out of the history until a clean re-run.
		if res.InputErrors() > 0 {
			fmt.Fprintf(stderr, "dqaudit scan: input errors: %s not added to the history %s\n", res.Date, hist.Dir())
		} else {
			hist.Record(res)
		}
	}
	res.Status, res.ExitCode = audit.Gate(res.Findings(), policy)
	if ctx.Err() != nil {
		return audit.ExitInterrupted, errInterrupted
	}

	out := resolve(base, cfg.Report.Out)
	if f.out != "" {
		out = f.out
	}
	written, err := writeReports(audit.ExpandDate(out, day), writers, res)
	if err != nil {
		return audit.ExitInput, fmt.Errorf("write reports: %w", err)
	}
	if !f.quiet {
		// The reports are written: a summary that cannot be printed (a
		// closed pipe) is worth a word, not another exit code.
		if err := reports.WriteSummary(stdout, res, written, useColor(stdout)); err != nil {
			fmt.Fprintf(stderr, "dqaudit scan: summary: %v\n", err)
		}
	}
	return res.ExitCode, nil
}

// readersFor splits the CPU budget (--workers, default GOMAXPROCS) between
// files read at once and the goroutines that decode one file, so that the
// total stays within the budget however many files there are.
func readersFor(workers, files int) (int, map[string]audit.Reader) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	fileWorkers := max(1, min(workers, files))
	inner := max(1, workers/fileWorkers)
	return fileWorkers, map[string]audit.Reader{
		rules.FormatAvro:     &avro.Reader{Workers: inner},
		rules.FormatKafkaLog: kafkalog.New(kafkalog.Options{Workers: inner}),
	}
}

// historyFor opens the drift history, or returns nil without a drift
// section. --history and --baseline need one.
func historyFor(cfg *rules.Config, f scanFlags, base string, day time.Time) (*audit.DriftHistory, error) {
	if cfg.Drift == nil {
		if f.history != "" || f.baseline != "" {
			return nil, errors.New("--history and --baseline need a drift: section in the config")
		}
		return nil, nil
	}
	spec := cfg.Drift.Baseline
	if spec.Kind == rules.BaselineFile {
		spec.Path = resolve(base, audit.ExpandDate(spec.Path, day))
	}
	if f.baseline != "" {
		var err error
		if spec, err = rules.ParseBaseline(f.baseline); err != nil {
			return nil, fmt.Errorf("--baseline: %w", err)
		}
	}
	dir := resolve(base, audit.ExpandDate(cfg.Drift.History, day))
	if f.history != "" {
		dir = f.history
	}
	return &audit.DriftHistory{History: audit.OpenHistory(dir), Baseline: spec}, nil
}

func policyFrom(f scanFlags) (audit.Policy, error) {
	failOn, err := audit.ParseFailOn(f.failOn)
	if err != nil {
		return audit.Policy{}, err
	}
	switch c := audit.ExitCode(f.warnExitCode); {
	case c < 0 || c > 255:
		return audit.Policy{}, fmt.Errorf("--warn-exit-code %d: want 4 to 255", c)
	case c == audit.ExitFail || c == audit.ExitUsage || c == audit.ExitInput || c == audit.ExitInterrupted:
		return audit.Policy{}, fmt.Errorf("--warn-exit-code %d is taken: 1, 2, 3 and 130 mean failure, usage error, input error and interrupted", c)
	}
	return audit.Policy{FailOn: failOn, WarnExitCode: f.warnExitCode}, nil
}

// dayFrom reads --date; empty means yesterday in UTC, the usual nightly run.
func dayFrom(s string) (time.Time, error) {
	if s == "" {
		now := time.Now().UTC()
		return time.Date(now.Year(), now.Month(), now.Day()-1, 0, 0, 0, 0, time.UTC), nil
	}
	return audit.ParseDate(s)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && reports.IsTerminal(f)
}

func useColor(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && reports.UseColor(f)
}

// resolve makes a config-relative path absolute against the config's
// directory base.
func resolve(base, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(base, path)
}
