package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// usageError marks an error as a usage or configuration problem (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

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
		formats = strings.Split(f.formats, ",")
	}
	writers, err := reportWriters(formats)
	if err != nil {
		return audit.ExitUsage, err
	}
	base := filepath.Dir(f.config)
	readers := map[string]audit.Reader{"avro": avro.New(), "kafka-log": kafkalog.New(kafkalog.Options{})}
	refs, err := audit.LoadReferences(ctx, cfg, base, readers)
	if err != nil {
		return audit.ExitUsage, err
	}
	book, err := rules.Compile(cfg, refs)
	if err != nil {
		return audit.ExitUsage, err
	}
	plan, err := audit.NewPlan(cfg, day, base)
	if err != nil {
		return audit.ExitUsage, err
	}
	var history *audit.History
	var baselineSpec rules.Baseline
	if cfg.Drift != nil {
		baselineSpec = cfg.Drift.Baseline
		if f.baseline != "" {
			if baselineSpec, err = rules.ParseBaseline(f.baseline); err != nil {
				return audit.ExitUsage, fmt.Errorf("--baseline: %w", err)
			}
		}
		dir := resolve(base, audit.ExpandDate(cfg.Drift.History, day))
		if f.history != "" {
			dir = f.history
		}
		history = audit.OpenHistory(dir)
		// Held until the history is written: concurrent runs on one
		// history wait instead of interleaving.
		unlock, err := history.Lock(ctx, func() {
			fmt.Fprintf(stderr, "dqaudit scan: waiting for another run's lock on %s\n", history.Dir())
		})
		if err != nil {
			if ctx.Err() != nil {
				return audit.ExitInterrupted, errors.New("interrupted: no report written")
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
		Workers:          f.workers,
		Readers:          readers,
		RuleSamples:      cfg.Report.Samples,
		MalformedSamples: cfg.Report.MalformedSamples,
		Progress:         progress,
	})
	stopProgress()
	if err != nil {
		if ctx.Err() != nil {
			return audit.ExitInterrupted, errors.New("interrupted: no report written")
		}
		return audit.ExitUsage, err
	}
	res.Version = toolVersion()
	if history != nil {
		if baselineSpec.Kind == rules.BaselineFile {
			baselineSpec.Path = resolve(base, audit.ExpandDate(baselineSpec.Path, day))
		}
		bl, err := history.LoadBaseline(baselineSpec, res.Date)
		if err != nil {
			return audit.ExitInput, err
		}
		res.DriftEnabled = true
		res.Drift = audit.Drift(cfg.Drift, res, bl)
		if res.RuleTrends, err = history.RuleTrends(res, audit.TrendDays); err != nil {
			return audit.ExitInput, err
		}
		if bl != nil {
			res.BaselineSource, res.BaselineDates = bl.Source, bl.Dates
		}
	}
	res.Status, res.ExitCode = audit.Gate(res.Findings(), policy)

	out := resolve(base, cfg.Report.Out)
	if f.out != "" {
		out = f.out
	}
	dir := audit.ExpandDate(out, day)
	if ctx.Err() != nil {
		return audit.ExitInterrupted, errors.New("interrupted: no report written")
	}
	written, err := writeReports(dir, writers, res)
	if err != nil {
		return audit.ExitInput, fmt.Errorf("write reports: %w", err)
	}
	if history != nil {
		// A day whose files could not all be read would make a skewed
		// baseline: it is kept out of the history until a clean re-run.
		if res.Status == audit.StatusError {
			fmt.Fprintf(stderr, "dqaudit scan: input errors: %s not added to the history %s\n", res.Date, history.Dir())
		} else if err := history.Save(audit.NewHistoryEntry(res)); err != nil {
			return audit.ExitInput, err
		}
	}
	if !f.quiet {
		if err := reports.WriteSummary(stdout, res, written, useColor(stdout)); err != nil {
			return audit.ExitInput, err
		}
	}
	return res.ExitCode, nil
}

func policyFrom(f scanFlags) (audit.Policy, error) {
	failOn, err := audit.ParseFailOn(f.failOn)
	if err != nil {
		return audit.Policy{}, err
	}
	if f.warnExitCode < 0 || f.warnExitCode > 255 {
		return audit.Policy{}, fmt.Errorf("--warn-exit-code %d: want 0 to 255", f.warnExitCode)
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
