package main

import (
	"cmp"
	"context"
	"crypto/sha256"
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
	"github.com/dqaudit/dqaudit/audit/store"
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
	shard        string // "i/n" with --partial
	partial      string
	partials     []string // merge: the partial files
	gunzip       string   // how .gz files are decompressed
	lockTimeout  time.Duration
	lockStale    time.Duration
}

// addReportFlags declares the flags scan and merge share.
func addReportFlags(fs *flag.FlagSet, f *scanFlags) {
	fs.StringVar(&f.config, "config", "", "config file (required)")
	fs.StringVar(&f.date, "date", "", "day to audit, YYYY-MM-DD (default: yesterday in UTC)")
	fs.StringVar(&f.formats, "format", "", "report formats, comma-separated: html,markdown,json (default: report.formats)")
	fs.StringVar(&f.out, "out", "", "report directory; {date} expands (default: report.out)")
	fs.StringVar(&f.failOn, "fail-on", "error", "what fails the gate: error, warn or never")
	fs.IntVar(&f.warnExitCode, "warn-exit-code", 0, "exit code for a run whose worst finding is a warning (e.g. 99 for Airflow's skip_on_exit_code)")
	fs.BoolVar(&f.quiet, "quiet", false, "print only errors")
	fs.StringVar(&f.history, "history", "", "drift history directory, overriding drift.history")
	fs.StringVar(&f.baseline, "baseline", "", "drift baseline, overriding drift.baseline: previous, window:N or a history file")
	fs.DurationVar(&f.lockTimeout, "lock-timeout", 15*time.Minute, "how long to wait for another run's lock on the drift history; 0 waits without limit")
	fs.DurationVar(&f.lockStale, "lock-stale", audit.DefaultLockStale, "how long a history lock on object storage may go without renewal before a waiting run takes it over")
}

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f scanFlags
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addReportFlags(fs, &f)
	fs.IntVar(&f.workers, "workers", 0, "CPU budget: files read at once times decoders per file (default: number of CPUs)")
	fs.StringVar(&f.shard, "shard", "", "with --partial: scan shard i of n (\"i/n\", i from 0) of the day's files")
	fs.StringVar(&f.partial, "partial", "", "write a partial result for dqaudit merge to this file ({date} expands) instead of reports")
	fs.StringVar(&f.gunzip, "gunzip", "auto", "how .gz files are decompressed: auto (igzip when on PATH, for files of 256 KiB and more; else built in), go (built in), or a program that takes -dc (for every file)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dqaudit scan --config FILE [--date YYYY-MM-DD] [flags]\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s\n", audit.ExitCodeTable)
	}
	if ok, code := parseFlags(fs, args, false, stderr); !ok {
		return code
	}
	code, err := scan(ctx, f, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "dqaudit scan: %v\n", err)
	}
	return int(code)
}

// errInterrupted is the message of a run stopped by SIGINT or SIGTERM.
var errInterrupted = errors.New("interrupted: no report written")

// minLockStale bounds --lock-stale below: renewals every sixth of it must
// leave time for a request to the store.
const minLockStale = 500 * time.Millisecond

// job is a run prepared from the config: everything before reading data.
type job struct {
	f        scanFlags
	cfg      *rules.Config
	day      time.Time
	base     string
	policy   audit.Policy
	writers  []reportWriter
	plan     *audit.Plan
	readers  map[string]audit.Reader
	workers  int // files read at once
	decoders int // goroutines decoding them, in all (--workers)
	gunzip   *audit.Gunzip
	book     *rules.Book
	hist     *audit.DriftHistory
	lock     *audit.HeldLock // the history's, while it is held
}

// prepare reads the config and plans the run. Its errors are usage errors
// (exit 2, nothing written) unless the context was cancelled.
func prepare(ctx context.Context, f scanFlags) (*job, audit.ExitCode, error) {
	if f.config == "" {
		return nil, audit.ExitUsage, errors.New("--config is required")
	}
	if f.workers < 0 || f.workers > maxWorkers {
		return nil, audit.ExitUsage, fmt.Errorf("--workers %d: want 0 (one per CPU, %d here) to %d", f.workers, runtime.GOMAXPROCS(0), maxWorkers)
	}
	if f.lockTimeout < 0 {
		return nil, audit.ExitUsage, fmt.Errorf("--lock-timeout %s: want 0 (no limit) or more", f.lockTimeout)
	}
	if f.lockStale < minLockStale {
		return nil, audit.ExitUsage, fmt.Errorf("--lock-stale %s: want %s or more", f.lockStale, minLockStale)
	}
	for _, fl := range []struct{ name, path string }{{"--out", f.out}, {"--partial", f.partial}, {"--history", f.history}, {"--baseline", f.baseline}} {
		if err := rules.CheckPlaceholders(fl.name, fl.path); err != nil {
			return nil, audit.ExitUsage, err
		}
	}
	j := &job{f: f, base: filepath.Dir(f.config)}
	var err error
	if j.policy, err = policyFrom(f); err != nil {
		return nil, audit.ExitUsage, err
	}
	if j.day, err = dayFrom(f.date); err != nil {
		return nil, audit.ExitUsage, err
	}
	if j.cfg, err = rules.Load(f.config); err != nil {
		return nil, audit.ExitUsage, err
	}
	if err := vetPlaces(j.cfg, f); err != nil {
		return nil, audit.ExitUsage, err
	}
	formats := j.cfg.Report.Formats
	if f.formats != "" {
		formats = nil
		for _, name := range strings.Split(f.formats, ",") {
			formats = append(formats, strings.ToLower(strings.TrimSpace(name)))
		}
	}
	if j.writers, err = reportWriters(formats); err != nil {
		return nil, audit.ExitUsage, err
	}
	if j.plan, err = audit.NewPlan(ctx, j.cfg, j.day, j.base); err != nil {
		return nil, audit.ExitUsage, err
	}
	j.workers, j.readers = readersFor(f.workers, len(j.plan.Files), j.cfg.Events)
	j.decoders = max(f.workers, 0)
	if j.decoders == 0 {
		j.decoders = runtime.GOMAXPROCS(0)
	}
	if j.gunzip, err = audit.FindGunzip(gunzipSpec(f.gunzip)); err != nil {
		return nil, audit.ExitUsage, err
	}
	refs, err := audit.LoadReferences(ctx, j.cfg, j.base, j.day, j.readers)
	if err != nil {
		if ctx.Err() != nil {
			return nil, audit.ExitInterrupted, errInterrupted
		}
		return nil, audit.ExitUsage, err
	}
	if j.book, err = rules.Compile(j.cfg, refs, j.day); err != nil {
		return nil, audit.ExitUsage, err
	}
	if j.hist, err = historyFor(ctx, j.cfg, f, j.base, j.day); err != nil {
		if ctx.Err() != nil {
			return nil, audit.ExitInterrupted, errInterrupted
		}
		return nil, audit.ExitUsage, err
	}
	return j, 0, nil
}

func (j *job) options(progress *audit.Progress) audit.Options {
	return audit.Options{
		Workers:          j.workers,
		Readers:          j.readers,
		RuleSamples:      j.cfg.Report.Samples,
		MalformedSamples: j.cfg.Report.MalformedSamples,
		Progress:         progress,
		Gunzip:           j.gunzip,
		Decoders:         j.decoders,
	}
}

// meta identifies this run's partials: config, date, archive, shard.
func (j *job) meta(shard, shards int) audit.PartialMeta {
	h := sha256.New()
	for _, pf := range j.plan.Files {
		fmt.Fprintf(h, "%s\x00%s\x00%d\n", pf.Input, pf.Path, pf.Size)
	}
	return audit.PartialMeta{
		ConfigHash: audit.ConfigHash(j.cfg),
		Date:       j.plan.Date,
		PlanHash:   fmt.Sprintf("%x", h.Sum(nil)),
		Shard:      shard,
		Shards:     shards,
	}
}

// scan runs one audit, or one shard of it with --partial. Errors before
// the scan starts are usage errors (exit 2, nothing written); from then on
// problems are recorded in the result, so that the reports and the exit
// code always agree.
func scan(ctx context.Context, f scanFlags, stdout, stderr io.Writer) (audit.ExitCode, error) {
	if (f.shard == "") != (f.partial == "") {
		return audit.ExitUsage, errors.New("--shard and --partial go together")
	}
	j, code, err := prepare(ctx, f)
	if err != nil {
		return code, err
	}
	if f.partial != "" {
		return j.scanShard(ctx, stderr)
	}
	ctx, unlock, code, err := j.lockHistory(ctx, stderr)
	if err != nil {
		return code, err
	}
	defer unlock()

	progress := audit.NewProgress(j.plan)
	stopProgress := func() {}
	if !f.quiet && isTerminal(stderr) {
		stopProgress = reports.StartProgress(stderr, progress, 200*time.Millisecond)
	}
	res, err := audit.Scan(ctx, j.plan, j.book, j.options(progress))
	stopProgress()
	if err != nil {
		if ctx.Err() != nil {
			return stopped(ctx, "")
		}
		return scanFailed(err)
	}
	return j.finish(ctx, res, stdout, stderr)
}

// scanFailed is the exit code of a scan that failed other than by being
// stopped: keys of a unique rule that could not be spilled to $TMPDIR (3:
// counts would miss keys, so nothing is written), else a plan the readers
// cannot read (2).
func scanFailed(err error) (audit.ExitCode, error) {
	if errors.As(err, new(*audit.SpillError)) {
		return audit.ExitInput, fmt.Errorf("%w; nothing written", err)
	}
	return audit.ExitUsage, err
}

// verifyLock verifies the history lock, trying a read that fails again
// for a few seconds: renewals too let a failure pass.
func (j *job) verifyLock(ctx context.Context) error {
	var err error
	for try := 0; try < 3; try++ {
		if err = j.lock.Verify(ctx); err == nil || errors.As(err, new(*audit.LockLostError)) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return err
}

// stopped is the exit code and error of a run whose context ended: it was
// interrupted (130), or its history lock was lost (3). wrote says what was
// written, "" for nothing.
func stopped(ctx context.Context, wrote string) (audit.ExitCode, error) {
	if lost := new(audit.LockLostError); errors.As(context.Cause(ctx), &lost) {
		return audit.ExitInput, fmt.Errorf("%w; %s", lost, cmp.Or(wrote, "no report written"))
	}
	if wrote == "" {
		return audit.ExitInterrupted, errInterrupted
	}
	return audit.ExitInterrupted, fmt.Errorf("interrupted: %s", wrote)
}

// lockHistory takes the drift history's lock, held until the history is
// written: concurrent runs on one history wait instead of interleaving,
// for at most --lock-timeout. It returns a context that ends, with a
// *audit.LockLostError as its cause, if a lock on object storage is lost,
// and a func that releases the lock and warns when it cannot: a lock left
// on object storage holds later runs up.
func (j *job) lockHistory(ctx context.Context, stderr io.Writer) (context.Context, func(), audit.ExitCode, error) {
	if j.hist == nil {
		return ctx, func() {}, 0, nil
	}
	lctx := ctx
	if j.f.lockTimeout > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(ctx, j.f.lockTimeout)
		defer cancel()
	}
	held, cancel := context.WithCancelCause(ctx)
	lock, err := j.hist.Lock(lctx, audit.LockOptions{
		Waiting: func(holder string) {
			if holder != "" {
				holder = " (" + holder + ")"
			}
			fmt.Fprintf(stderr, "dqaudit: waiting for another run's lock on %s%s\n", j.hist.Dir(), holder)
		},
		TookOver: func(holder string) {
			fmt.Fprintf(stderr, "dqaudit: took over the lock on %s from a run that had not renewed it for at least %s (%s)\n",
				j.hist.Dir(), j.f.lockStale, holder)
		},
		Warn:  func(msg string) { fmt.Fprintf(stderr, "dqaudit: warning: %s\n", msg) },
		Lost:  func(err error) { cancel(err) },
		Stale: j.f.lockStale,
	})
	if err != nil {
		cancel(nil)
		switch {
		case ctx.Err() != nil:
			return nil, nil, audit.ExitInterrupted, errInterrupted
		case errors.Is(err, context.DeadlineExceeded):
			return nil, nil, audit.ExitInput, fmt.Errorf("gave up after --lock-timeout %s: %w", j.f.lockTimeout, err)
		}
		return nil, nil, audit.ExitInput, err
	}
	j.lock = lock
	return held, func() {
		if err := lock.Unlock(); err != nil {
			fmt.Fprintf(stderr, "dqaudit: warning: %v\n", err)
		}
		j.lock = nil
		cancel(nil)
	}, 0, nil
}

// scanShard scans this shard's files and writes the partial result; the
// gate, drift and reports are the merge's.
func (j *job) scanShard(ctx context.Context, stderr io.Writer) (audit.ExitCode, error) {
	var i, n int
	if _, err := fmt.Sscanf(j.f.shard, "%d/%d", &i, &n); err != nil || n < 1 || i < 0 || i >= n || fmt.Sprintf("%d/%d", i, n) != j.f.shard {
		return audit.ExitUsage, fmt.Errorf("--shard %q: want i/n with 0 <= i < n, such as 0/4", j.f.shard)
	}
	part, err := audit.ScanPart(ctx, j.plan, j.book, j.options(nil), j.plan.Shard(i, n))
	if err != nil {
		if ctx.Err() != nil {
			return audit.ExitInterrupted, errInterrupted
		}
		return scanFailed(err)
	}
	defer part.Close() // Encode consumes it; this covers a write that never began
	path := audit.ExpandDate(j.f.partial, j.day)
	if !store.IsRemote(path) {
		audit.RemoveStaleTempsOf(path) // a killed shard's, which nothing else removes
	}
	if err := store.WriteAtomic(ctx, path, func(w io.Writer) error { return part.Encode(ctx, w, j.meta(i, n)) }); err != nil {
		if ctx.Err() != nil {
			return audit.ExitInterrupted, errInterrupted
		}
		return audit.ExitInput, fmt.Errorf("write partial: %w", err)
	}
	if !j.f.quiet {
		fmt.Fprintf(stderr, "dqaudit scan: shard %d/%d: wrote %s\n", i, n, path)
	}
	return audit.ExitPass, nil
}

// finish runs drift, records the day, gates and writes the reports.
func (j *job) finish(ctx context.Context, res *audit.Result, stdout, stderr io.Writer) (audit.ExitCode, error) {
	recorded := false
	res.Version = toolVersion()
	res.Workers = max(j.f.workers, 0)
	if res.Workers == 0 {
		res.Workers = runtime.GOMAXPROCS(0)
	}
	if j.hist != nil {
		// The history is about to be read and written: a lock on object
		// storage that another run has taken over since the last renewal
		// must not let both write.
		err := j.verifyLock(ctx)
		if ctx.Err() != nil {
			return stopped(ctx, "")
		}
		if err != nil {
			return audit.ExitInput, fmt.Errorf("%w; nothing written", err)
		}
		j.hist.Apply(ctx, j.cfg.Drift, res)
		// A day whose files could not all be read would make a skewed
		// baseline: Record keeps it out of the history until a clean
		// re-run, and Apply has put what that means in the reports.
		err = j.hist.Record(ctx, res)
		recorded = err == nil
		if errors.Is(err, audit.ErrKeptOut) && !j.f.quiet {
			// --quiet says it with the input errors (WriteInputErrors).
			fmt.Fprintf(stderr, "dqaudit: %s\n", audit.HistoryNote(res))
		}
	}
	res.Status, res.ExitCode = audit.Gate(res.Findings(), j.policy)
	// stoppedAfter is stopped, saying what was written before.
	stoppedAfter := func(reports string) (audit.ExitCode, error) {
		if recorded {
			reports += "; the history entry for " + res.Date + " was written"
		}
		return stopped(ctx, reports)
	}
	if ctx.Err() != nil {
		return stoppedAfter("no report written")
	}
	if !j.f.quiet {
		// Not an error, but it doubles the file's cost: worth a line.
		for _, rr := range res.GunzipRereads {
			fmt.Fprintf(stderr, "dqaudit: %s: read again with the built-in gzip decoder: %s\n", rr.Path, rr.Reason)
		}
	}
	out := resolve(j.base, j.cfg.Report.Out)
	if j.f.out != "" {
		out = j.f.out
	}
	for _, w := range j.writers {
		res.Reports = append(res.Reports, w.file) // reports point only to these
	}
	written, err := writeReports(ctx, audit.ExpandDate(out, j.day), j.writers, res)
	if err != nil {
		if ctx.Err() != nil {
			return stoppedAfter("the reports may be partly written")
		}
		if recorded {
			return audit.ExitInput, fmt.Errorf("write reports: %w; the history entry for %s was written", err, res.Date)
		}
		return audit.ExitInput, fmt.Errorf("write reports: %w", err)
	}
	// The reports are written: a summary that cannot be printed (a closed
	// pipe) is worth a word, not another exit code. --quiet prints only
	// errors, which the files that could not be read are.
	if j.f.quiet {
		err = reports.WriteInputErrors(stderr, res)
	} else {
		err = reports.WriteSummary(stdout, res, written, useColor(stdout))
	}
	if err != nil {
		fmt.Fprintf(stderr, "dqaudit: summary: %v\n", err)
	}
	return res.ExitCode, nil
}

// maxWorkers bounds --workers: it is a CPU budget, and each worker holds
// buffers (a 1 MiB chunk of a log at most), so a typo such as an extra
// zero must not start millions of goroutines.
const maxWorkers = 256

// readersFor splits the CPU budget (--workers, default GOMAXPROCS) between
// files read at once and the goroutines that decode one file, so that the
// total stays within the budget however many files there are. events are
// the config's own event types, which an Avro record's aliases may name.
func readersFor(workers, files int, events []string) (int, map[string]audit.Reader) {
	if workers <= 0 {
		workers = min(runtime.GOMAXPROCS(0), maxWorkers)
	}
	fileWorkers := max(1, min(workers, files))
	inner := max(1, workers/fileWorkers)
	return fileWorkers, map[string]audit.Reader{
		rules.FormatAvro:     &avro.Reader{Workers: inner, Events: events},
		rules.FormatKafkaLog: kafkalog.New(kafkalog.Options{Workers: inner}),
	}
}

// historyFor opens the drift history, or returns nil without a drift
// section. --history and --baseline need one, and a baseline file must be
// readable.
func historyFor(ctx context.Context, cfg *rules.Config, f scanFlags, base string, day time.Time) (*audit.DriftHistory, error) {
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
		if spec, err = rules.ParseBaseline(baselineSpec(f.baseline)); err != nil {
			return nil, fmt.Errorf("--baseline: %w", err)
		}
		if spec.Kind == rules.BaselineFile {
			spec.Path = audit.ExpandDate(spec.Path, day)
		}
		if msg := cfg.Drift.OutliersProblem(spec, "--baseline "+f.baseline); msg != "" {
			return nil, errors.New(msg)
		}
	}
	if spec.Kind == rules.BaselineFile && f.partial == "" {
		// A baseline named outright must be there: a typo (--baseline
		// prev) or a missing file would otherwise turn drift off for the
		// run without failing it. Shards do not read the history.
		if _, err := audit.ReadHistoryEntry(ctx, spec.Path); err != nil {
			return nil, fmt.Errorf("baseline %s: %w; want previous, window:N or a history file", spec.Path, err)
		}
	}
	dir := resolve(base, audit.ExpandDate(cfg.Drift.History, day))
	if f.history != "" {
		dir = audit.ExpandDate(f.history, day)
	}
	return &audit.DriftHistory{History: audit.OpenHistory(dir), Baseline: spec}, nil
}

// vetPlaces refuses, before anything is read, the places in the config
// and the flags that no run can use: an object-storage URL without a
// bucket. Every one is reported, those in the config at their place in
// it. scan, merge and check share it, so that check refuses what a run
// would.
func vetPlaces(cfg *rules.Config, f scanFlags) error {
	var errs []error
	vet := func(pos rules.Pos, what, p string) {
		if err := store.CheckURL(p); err != nil {
			errs = append(errs, &rules.Error{File: cfg.File, Line: pos.Line, Column: pos.Column, Msg: what + ": " + err.Error()})
		}
	}
	for _, in := range cfg.Inputs {
		for _, p := range in.Paths {
			vet(in.Pos, fmt.Sprintf("input %q", in.Name), p)
		}
	}
	for _, ref := range cfg.References {
		vet(ref.Pos, fmt.Sprintf("reference %q", ref.Name), ref.Path)
	}
	vet(rules.Pos{}, "report.out", cfg.Report.Out)
	if cfg.Drift != nil {
		vet(cfg.Drift.Pos, "drift.history", cfg.Drift.History)
		if cfg.Drift.Baseline.Kind == rules.BaselineFile {
			vet(cfg.Drift.Pos, "drift.baseline", cfg.Drift.Baseline.Path)
		}
	}
	for _, fl := range []struct{ name, path string }{{"--out", f.out}, {"--partial", f.partial}, {"--history", f.history}, {"--baseline", f.baseline}} {
		if err := store.CheckURL(fl.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", fl.name, err))
		}
	}
	return errors.Join(errs...)
}

// gunzipSpec reads --gunzip's keywords, auto and go, in any case, as the
// other flags' keywords are; anything else names a program.
func gunzipSpec(s string) string {
	if low := strings.ToLower(s); low == "auto" || low == "go" {
		return low
	}
	return s
}

// baselineSpec reads --baseline's keywords, previous and window:N, in any
// case, as the other flags' keywords are. A path, which holds a / or a .,
// keeps its case.
func baselineSpec(s string) string {
	if strings.ContainsAny(s, `/\.`) {
		return s
	}
	if low := strings.ToLower(s); low == "previous" || strings.HasPrefix(low, "window:") {
		return low
	}
	return s
}

func policyFrom(f scanFlags) (audit.Policy, error) {
	failOn, err := audit.ParseFailOn(f.failOn)
	if err != nil {
		return audit.Policy{}, err
	}
	switch c := audit.ExitCode(f.warnExitCode); {
	case c < 0 || c > 255:
		return audit.Policy{}, fmt.Errorf("--warn-exit-code %d: want 4 to 255 (but not 130), or 0, the default: warnings exit 0", c)
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
// directory base; URLs stay as they are.
func resolve(base, path string) string { return store.Resolve(base, path) }
