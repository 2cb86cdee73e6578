package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/reports"
)

// TestMain lets a test run this binary as dqaudit itself (for signals).
func TestMain(m *testing.M) {
	if os.Getenv("DQAUDIT_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// copyArchive copies the sample day into a temp dir and returns a config
// that reads it there.
func copyArchive(t *testing.T, drift bool) (cfgPath, archive string) {
	t.Helper()
	dir := t.TempDir()
	archive = filepath.Join(dir, "archive", sampleDate)
	if err := os.MkdirAll(archive, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(repoRoot(t), "testdata", "archive", sampleDate)
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(archive, e.Name()), b, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	cfg := `version: 1
inputs:
  - {name: avro, format: avro, paths: ["archive/{date}/*.avro"]}
  - {name: log, format: kafka-log, paths: ["archive/{date}/*.log.gz"]}
rules:
  - name: rating-in-range
    event: MovieRatingEvent
    field: rating
    between: [1, 5]
report:
  out: out/{date}
`
	if drift {
		cfg += "drift: {history: history}\n"
	}
	cfgPath = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfgPath, archive
}

func TestInputsAreNeverWritten(t *testing.T) {
	cfg, archive := copyArchive(t, true)
	type state struct {
		data  []byte
		mtime time.Time
	}
	snapshot := func() map[string]state {
		m := map[string]state{}
		ents, _ := os.ReadDir(archive)
		for _, e := range ents {
			p := filepath.Join(archive, e.Name())
			b, _ := os.ReadFile(p)
			st, _ := os.Stat(p)
			m[e.Name()] = state{b, st.ModTime()}
		}
		return m
	}
	before := snapshot()
	if code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--quiet"); code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	after := snapshot()
	if len(after) != len(before) {
		t.Fatalf("archive has %d files after the scan, %d before", len(after), len(before))
	}
	for name, b := range before {
		a := after[name]
		if !bytes.Equal(a.data, b.data) || !a.mtime.Equal(b.mtime) {
			t.Errorf("%s changed during the scan", name)
		}
	}
}

// TestStaleTempFilesAreCleanedAndReportsReplaced simulates a run killed
// while writing: its temp files are left beside the previous reports; the
// next run removes them and replaces the reports whole.
func TestStaleTempFilesAreCleanedAndReportsReplaced(t *testing.T) {
	cfg, _ := copyArchive(t, true)
	if code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--quiet"); code != 1 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	out := filepath.Join(filepath.Dir(cfg), "out", sampleDate)
	hist := filepath.Join(filepath.Dir(cfg), "history")
	old := time.Now().Add(-time.Hour)
	stale := []string{filepath.Join(out, ".report.json12345"), filepath.Join(out, ".report.html999"), filepath.Join(hist, "."+sampleDate+".json42")}
	for _, p := range stale {
		if err := os.WriteFile(p, []byte(`{"half": `), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
	}
	// A young temp file may belong to a run still writing: it stays.
	young := filepath.Join(out, ".report.md777")
	os.WriteFile(young, []byte("partial"), 0o644)

	if code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--quiet"); code != 1 {
		t.Fatalf("second run: exit %d: %s", code, stderr)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale temp file %s was not removed", p)
		}
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("young temp file removed: %v", err)
	}
	readReport(t, out) // parses, so it is whole
	if _, err := audit.ReadHistoryEntry(context.Background(), filepath.Join(hist, sampleDate+".json")); err != nil {
		t.Errorf("history entry: %v", err)
	}
}

type failingReporter struct{}

func (failingReporter) Write(w io.Writer, r *audit.Result) error {
	io.WriteString(w, "<html>half")
	return errors.New("disk full")
}

// TestFailedRenderKeepsPreviousReports: when one report cannot be rendered
// none is replaced, and no temp file stays behind.
func TestFailedRenderKeepsPreviousReports(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"report.json", "report.html"} {
		os.WriteFile(filepath.Join(dir, name), []byte("previous "+name), 0o644)
	}
	ws := []reportWriter{{reporter: &reports.JSON{}, file: "report.json", last: true}, {reporter: failingReporter{}, file: "report.html"}}
	if _, err := writeReports(context.Background(), dir, ws, &audit.Result{Date: sampleDate}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("writeReports: %v; want the reporter's error", err)
	}
	for _, name := range []string{"report.json", "report.html"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if string(b) != "previous "+name {
			t.Errorf("%s was replaced: %q", name, b)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("files left: %v; want only the two previous reports", names)
	}
}

// tempProbe is a reporter that, while its report is being written, notes
// where the temporary files of reports are.
type tempProbe struct {
	dirs  []string
	found []string
}

func (p *tempProbe) Write(w io.Writer, r *audit.Result) error {
	for _, d := range p.dirs {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".report.") {
				p.found = append(p.found, filepath.Join(d, e.Name()))
			}
		}
	}
	_, err := io.WriteString(w, "{}")
	return err
}

// TestReportTempFilesAreBesideTheReports: a run killed while writing
// leaves its temporary files where the next run's RemoveStaleTemps looks,
// in the report directory, never in $TMPDIR, even when $TMPDIR is on the
// same file system (where renameio would choose it).
func TestReportTempFilesAreBesideTheReports(t *testing.T) {
	root := t.TempDir()
	tmp := filepath.Join(root, "tmp")
	out := filepath.Join(root, "out")
	for _, d := range []string{tmp, out} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TMPDIR", tmp)
	probe := &tempProbe{dirs: []string{tmp, out}}
	ws := []reportWriter{{reporter: &reports.JSON{}, file: "report.json", last: true}, {reporter: probe, file: "report.html"}}
	if _, err := writeReports(context.Background(), out, ws, &audit.Result{Date: sampleDate}); err != nil {
		t.Fatal(err)
	}
	if len(probe.found) != 1 || filepath.Dir(probe.found[0]) != out {
		t.Errorf("temporary files while writing: %v; want one, in %s", probe.found, out)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("%d files left in $TMPDIR", len(ents))
	}
}

// TestUnwritableReportsSayTheHistoryWasWritten: the day is recorded before
// the reports are written; when they then fail, the message says so, so
// that a re-run is known to replace that entry.
func TestUnwritableReportsSayTheHistoryWasWritten(t *testing.T) {
	cfg, _ := copyArchive(t, true)
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", filepath.Join(blocked, "reports"))
	if code != int(audit.ExitInput) || !strings.Contains(stderr, "write reports: ") || !strings.Contains(stderr, "the history entry for "+sampleDate+" was written") {
		t.Errorf("exit %d, stderr %q; want 3, the write error and that the history entry was written", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "history", sampleDate+".json")); err != nil {
		t.Errorf("history entry: %v", err)
	}
}

// TestConcurrentRunsWaitForTheHistoryLock: a second run on the same
// history waits while the first holds the lock, then completes.
func TestConcurrentRunsWaitForTheHistoryLock(t *testing.T) {
	cfg, _ := copyArchive(t, true)
	h := audit.OpenHistory(filepath.Join(filepath.Dir(cfg), "history"))
	lock, err := h.Lock(context.Background(), audit.LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, stderr := runWaitsForLock(t, lock.Unlock, "scan", "--config", cfg, "--date", sampleDate, "--quiet")
	if code != 1 || !strings.Contains(stderr, "waiting for another run's lock") {
		t.Errorf("exit %d, stderr %q; want 1 and a waiting message", code, stderr)
	}
	if _, err := h.Load(context.Background(), sampleDate); err != nil {
		t.Errorf("history entry after the run: %v", err)
	}
}

// runWaitsForLock runs dqaudit with args in the background while the
// caller holds a history lock, waits until the run says it is waiting for
// the lock (failing if it finishes first), releases the lock with unlock
// and returns the run's exit code and stderr.
//
// It waits for the message rather than for a fixed time: on a loaded
// machine the run can take longer than any fixed time to load its config
// and reach the lock, and a lock released before it got there was never
// waited for.
func runWaitsForLock(t *testing.T, unlock func() error, args ...string) (int, string) {
	t.Helper()
	type result struct {
		code   int
		stderr string
	}
	stderr := newWatchedBuffer("waiting for another run's lock")
	done := make(chan result, 1)
	go func() {
		var stdout bytes.Buffer
		code := run(context.Background(), args, &stdout, stderr)
		done <- result{code, stderr.String()}
	}()
	select {
	case r := <-done:
		t.Fatalf("run finished while the lock was held: exit %d %s", r.code, r.stderr)
	case <-stderr.seen:
	case <-time.After(60 * time.Second):
		t.Fatalf("run did not say it was waiting for the lock: stderr %q", stderr.String())
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		return r.code, r.stderr
	case <-time.After(60 * time.Second):
		t.Fatal("run did not finish after the lock was released")
	}
	return 0, ""
}

// watchedBuffer is a bytes.Buffer safe for one writer and concurrent
// readers; seen is closed once what was written contains want.
type watchedBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func newWatchedBuffer(want string) *watchedBuffer {
	return &watchedBuffer{want: want, seen: make(chan struct{})}
}

func (w *watchedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func (w *watchedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestLockTimeoutGivesUp: with --lock-timeout, a run that finds the
// history locked gives up after that long with exit 3 and writes nothing.
func TestLockTimeoutGivesUp(t *testing.T) {
	cfg, _ := copyArchive(t, true)
	dir := filepath.Dir(cfg)
	h := audit.OpenHistory(filepath.Join(dir, "history"))
	lock, err := h.Lock(context.Background(), audit.LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	start := time.Now()
	code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--lock-timeout", "400ms", "--quiet")
	if code != int(audit.ExitInput) || !strings.Contains(stderr, "gave up after --lock-timeout 400ms: history "+h.Dir()+" is locked by another dqaudit run") {
		t.Errorf("exit %d, stderr %q; want %d and the lock named", code, stderr, audit.ExitInput)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("gave up after %v, before the timeout", d)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reports after giving up on the lock: %v; want none", err)
	}
}

// TestSIGTERMStopsPromptlyAndWritesNothing runs dqaudit as a process on an
// input that never ends (a FIFO), sends SIGTERM and expects exit 130, no
// report and no history entry.
func TestSIGTERMStopsPromptlyAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	day := filepath.Join(dir, "archive", sampleDate)
	os.MkdirAll(day, 0o755)
	opened := stallingFIFO(t, filepath.Join(day, "stream.log"))
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(`version: 1
inputs:
  - {name: log, format: kafka-log, paths: ["archive/{date}/*.log"]}
rules:
  - {name: r, event: MovieRatingEvent, field: rating, between: [1, 5]}
drift: {history: history}
report: {out: out}
`), 0o644)
	cmd := exec.Command(os.Args[0], "scan", "--config", cfg, "--date", sampleDate)
	cmd.Env = append(os.Environ(), "DQAUDIT_RUN_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Signal only once the run has opened its input: main has then set up
	// its handler. A signal sent before (after a fixed sleep on a loaded
	// machine, say) kills the process with SIGTERM's default action.
	select {
	case <-opened:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the run did not open its input\nstderr: %s", stderr.String())
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != int(audit.ExitInterrupted) {
		t.Fatalf("exit: %v; want %d\nstderr: %s", err, audit.ExitInterrupted, stderr.String())
	}
	if took := time.Since(start); took > 20*time.Second { // the FIFO stays open until the test ends: only a prompt stop ends before
		t.Errorf("stopping took %v", took)
	}
	for _, p := range []string{filepath.Join(dir, "out", "report.json"), filepath.Join(dir, "history", sampleDate+".json")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists after SIGTERM", p)
		}
	}
}

// TestClosedOutputPipesChangeNothing: with stdout and stderr both pipes
// whose readers are gone, the run still writes its reports and exits with
// its documented code, not SIGPIPE's 141.
func TestClosedOutputPipesChangeNothing(t *testing.T) {
	cfg, _ := copyArchive(t, true)
	out := filepath.Join(filepath.Dir(cfg), "out")
	cmd := exec.Command(os.Args[0], "scan", "--config", cfg, "--date", sampleDate, "--out", out)
	cmd.Env = append(os.Environ(), "DQAUDIT_RUN_MAIN=1")
	r1, w1, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r1.Close()
	r2.Close()
	cmd.Stdout, cmd.Stderr = w1, w2
	err = cmd.Run()
	w1.Close()
	w2.Close()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != int(audit.ExitFail) {
		t.Fatalf("exit: %v; want %d, the sample archive's gate failing", err, audit.ExitFail)
	}
	for _, name := range []string{"report.json", "report.md", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestDamagedHistoryEntryIsSkipped: a history entry whose sketch bytes are
// damaged (a sketch that crashed sketches-go's decoder) is skipped with a
// note in the drift section; the run goes on and gates as usual.
func TestDamagedHistoryEntryIsSkipped(t *testing.T) {
	cfg, _ := copyArchive(t, true)
	dir := filepath.Dir(cfg)
	if code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--quiet"); code != 1 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	entry := filepath.Join(dir, "history", sampleDate+".json")
	b, err := os.ReadFile(entry)
	if err != nil {
		t.Fatal(err)
	}
	// The day before, with its first sketch damaged.
	const crashing = "DxPs5+ntUfA/AAAAAAAAAAAFE9oCAgICBAIEAgICTAICAwKEQAIDAoRAAgMOAwwDAgMCAwIDAgMCAgID"
	damaged, n := regexp.MustCompile(`"sketch": ?"[^"]*"`), 0
	day := damaged.ReplaceAllStringFunc(strings.ReplaceAll(string(b), sampleDate, "2024-03-18"), func(s string) string {
		if n++; n > 1 {
			return s
		}
		return `"sketch":"` + crashing + `"`
	})
	if n == 0 {
		t.Fatal("the history entry holds no sketch")
	}
	if err := os.WriteFile(filepath.Join(dir, "history", "2024-03-18.json"), []byte(day), 0o644); err != nil {
		t.Fatal(err)
	}
	// And the day before that, sound: "previous" must fall back to it.
	sound := strings.ReplaceAll(string(b), sampleDate, "2024-03-17")
	if err := os.WriteFile(filepath.Join(dir, "history", "2024-03-17.json"), []byte(sound), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(entry)

	code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--quiet")
	if code != 1 {
		t.Fatalf("run over the damaged entry: exit %d, want 1: %s", code, stderr)
	}
	rep, err := os.ReadFile(filepath.Join(dir, "out", sampleDate, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rep), "history entry skipped") || !strings.Contains(string(rep), "corrupt sketch") {
		t.Errorf("report.json does not say the damaged entry was skipped:\n%.2000s", rep)
	}
	var doc struct {
		Baseline *struct {
			Source string   `json:"source"`
			Dates  []string `json:"dates"`
		} `json:"baseline"`
	}
	if err := json.Unmarshal(rep, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Baseline == nil || !slices.Equal(doc.Baseline.Dates, []string{"2024-03-17"}) {
		t.Errorf("baseline %+v, want previous on 2024-03-17, the latest day that could be read", doc.Baseline)
	}

	// A baseline file named outright that cannot be read stops the run
	// before it scans, instead of leaving drift without a baseline.
	out := filepath.Join(t.TempDir(), "reports")
	for _, baseline := range []string{"prev", filepath.Join(dir, "history", "2024-03-16.json")} {
		code, _, stderr = runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--baseline", baseline, "--out", out, "--quiet")
		if code != int(audit.ExitUsage) || !strings.Contains(stderr, "baseline "+baseline+": ") {
			t.Errorf("--baseline %s: exit %d, stderr %q; want %d naming the baseline", baseline, code, stderr, audit.ExitUsage)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a run with an unreadable baseline wrote %s (%v)", out, err)
	}
}

// stallingFIFO makes a FIFO at path that gives one line of a rating and
// stays open for writing until the test ends, so that a scan of it blocks
// mid-file rather than at open. The channel it returns is closed once a
// reader has opened the FIFO and the line is written. It skips the test
// where FIFOs cannot be made.
func stallingFIFO(t *testing.T, path string) <-chan struct{} {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	release := make(chan struct{})
	opened := make(chan struct{})
	t.Cleanup(func() { close(release) })
	go func() {
		// Opening for writing waits for a reader.
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer w.Close()
		w.WriteString(sampleDate + "T10:00:00,1,GET /rate/up+2009=4\n")
		close(opened)
		<-release
	}()
	return opened
}
