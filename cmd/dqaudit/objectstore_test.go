package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"go/build"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/store"
	"github.com/dqaudit/dqaudit/reports"
)

// startS3 starts versitygw, an S3-compatible server, on a free loopback
// port over a temporary directory holding one empty bucket, and points the
// AWS SDK's environment at it. It returns the bucket's URL query that
// gocloud reads (endpoint, path-style addressing). Without versitygw the
// test is skipped, except in CI (CI=true), where .ci/run installs it.
func startS3(t *testing.T, bucket string) string {
	t.Helper()
	bin := emulator(t, "versitygw", "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
	addr := freeAddr(t)

	// The posix backend serves each directory of its root as a bucket.
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	const access, secret = "dqaudit-test", "dqaudit-test-secret"
	// Metadata (ETags) lives in a sidecar directory rather than in
	// xattrs, which a test's file system may lack; without it versitygw
	// ignores conditional writes, which the history lock relies on.
	startServer(t, "http://"+addr+"/", bin, "--access", access, "--secret", secret, "--port", addr, "--quiet", "posix", "--sidecar", t.TempDir(), root)

	// Only this server's credentials: no profile or instance metadata of
	// the machine running the test.
	t.Setenv("AWS_ACCESS_KEY_ID", access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(root, "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(root, "no-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return "endpoint=http://" + addr + "&use_path_style=true"
}

// emulator finds the storage emulator name on PATH or in GOPATH/bin, where
// go install puts it. Without it the test is skipped, except in CI
// (CI=true), where .ci/run installs it; install says how.
func emulator(t *testing.T, name, install string) string {
	t.Helper()
	if bin, err := exec.LookPath(name); err == nil {
		return bin
	}
	bin := filepath.Join(build.Default.GOPATH, "bin", name)
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed: .ci/run installs it (%s)", name, install)
		}
		t.Skipf("%s not installed: %s", name, install)
	}
	return bin
}

// freeAddr returns a loopback address with a port free for a server.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer runs bin with args until the test ends, and waits until
// ready answers an HTTP request (with any status). The server's output is
// logged if the test fails.
func startServer(t *testing.T, ready, bin string, args ...string) {
	t.Helper()
	var log bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = serverAttr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	name := filepath.Base(bin)
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%s output:\n%s", name, log.String())
		}
	})
	for deadline := time.Now().Add(15 * time.Second); ; {
		resp, err := http.Get(ready)
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("%s exited: %v", name, cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer on %s: %v", name, ready, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// upload copies a local file to an object.
func upload(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	err = store.WriteAtomic(context.Background(), dst, func(w io.Writer) error { _, err := w.Write(b); return err })
	if err != nil {
		t.Fatalf("upload %s: %v", dst, err)
	}
}

// normalised is report.json outside "run", with every path prefix
// replaced by "ARCHIVE/", so that reports of one archive in two places
// compare equal.
func normalised(t *testing.T, b []byte, prefix, query string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(withoutRun(t, b), &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case string:
			if query != "" {
				v = strings.ReplaceAll(v, "?"+query, "")
			}
			return strings.ReplaceAll(v, prefix, "ARCHIVE/")
		case []any:
			for i := range v {
				v[i] = walk(v[i])
			}
		case map[string]any:
			for k := range v {
				v[k] = walk(v[k])
			}
		}
		return v
	}
	return walk(v)
}

// TestObjectStorageScanEqualsLocal: inputs, reference set, reports, drift
// history and shard partials on an S3-compatible server give the report a
// local run of the same archive gives, paths aside.
func TestObjectStorageScanEqualsLocal(t *testing.T) {
	b := testBucket{"s3://dqaudit-test/", startS3(t, "dqaudit-test")}
	remoteCfg, want, localJSON := scanOnStore(t, b)

	t.Run("shards", func(t *testing.T) {
		const n = 2
		for i := range n {
			partial := b.url("parts/{date}-" + strconv.Itoa(i) + ".json")
			code, _, stderr := runCLI(t, "scan", "--config", remoteCfg, "--date", sampleDate,
				"--shard", strconv.Itoa(i)+"/"+strconv.Itoa(n), "--partial", partial, "--quiet")
			if code != 0 {
				t.Fatalf("shard %d/%d: exit %d: %s", i, n, code, stderr)
			}
		}
		code, _, stderr := runCLI(t, "merge", "--config", remoteCfg, "--date", sampleDate,
			"--out", b.url("merged"), "--format", "json", "--history", b.url("merge-history"), "--quiet",
			b.url("parts/"+sampleDate+"-*.json"))
		if code != int(audit.ExitFail) {
			t.Fatalf("merge: exit %d, want %d: %s", code, audit.ExitFail, stderr)
		}
		got, err := store.ReadFile(context.Background(), b.url("merged/report.json"))
		if err != nil {
			t.Fatalf("merged report.json on s3: %v", err)
		}
		if n := normalised(t, got, b.prefix+"archive/"+sampleDate+"/", b.query); !reflect.DeepEqual(n, want) {
			t.Errorf("merged report.json from s3 differs from the local scan's:\ns3:    %s\nlocal: %s", got, localJSON)
		}
	})
}

// testBucket names objects in the bucket of a store under test.
type testBucket struct {
	prefix string // scheme://bucket/
	query  string // the bucket's URL query that gocloud reads; "" for none
}

// url is the URL of the object key, with the bucket's query.
func (b testBucket) url(key string) string {
	if b.query == "" {
		return b.prefix + key
	}
	return b.prefix + key + "?" + b.query
}

// scanOnStore uploads the sample archive and its reference set to b, scans
// them there with the report and the drift history on b too, and checks
// that report.json is the one a local run gives, paths aside, and that the
// history has the run's entry. It returns the config that reads the
// archive on b, and the local run's report.json normalised and as written.
func scanOnStore(t *testing.T, b testBucket) (remoteCfg string, want any, localJSON []byte) {
	t.Helper()
	ctx := context.Background()
	scheme, _, _ := strings.Cut(b.prefix, "://")
	root := repoRoot(t)
	archive := filepath.Join(root, "testdata", "archive", sampleDate)
	ents, err := os.ReadDir(archive)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		upload(t, filepath.Join(archive, e.Name()), b.url("archive/"+sampleDate+"/"+e.Name()))
	}
	upload(t, filepath.Join(root, "testdata", "users.csv"), b.url("ref/users.csv"))

	example, err := os.ReadFile(filepath.Join(root, "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	query := ""
	if b.query != "" {
		query = "?" + b.query
	}
	remoteYAML := strings.NewReplacer(
		`"testdata/archive/{date}/`, `"`+b.prefix+`archive/{date}/`,
		`.avro"`, `.avro`+query+`"`,
		`.log.gz"`, `.log.gz`+query+`"`,
		`path: testdata/users.csv`, `path: "`+b.url("ref/users.csv")+`"`,
	).Replace(string(example))
	if !strings.Contains(remoteYAML, b.url("ref/users.csv")) || strings.Count(remoteYAML, b.prefix+"archive/") != 2 {
		t.Fatalf("config.example.yaml changed: its inputs and reference were not rewritten:\n%s", remoteYAML)
	}
	remoteCfg = filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(remoteCfg, []byte(remoteYAML), 0o644); err != nil {
		t.Fatal(err)
	}

	localOut := t.TempDir()
	code, _, stderr := runCLI(t, "scan", "--config", filepath.Join(root, "config.example.yaml"), "--date", sampleDate,
		"--out", localOut, "--format", "json", "--history", t.TempDir(), "--quiet")
	if code != int(audit.ExitFail) {
		t.Fatalf("local scan: exit %d: %s", code, stderr)
	}
	_, localJSON = readReport(t, localOut)
	want = normalised(t, localJSON, archive+"/", "")

	history := b.url("history")
	code, _, stderr = runCLI(t, "scan", "--config", remoteCfg, "--date", sampleDate,
		"--out", b.url("reports/{date}"), "--format", "json", "--history", history, "--quiet")
	if code != int(audit.ExitFail) {
		t.Fatalf("%s scan: exit %d, want %d: %s", scheme, code, audit.ExitFail, stderr)
	}
	got, err := store.ReadFile(ctx, b.url("reports/"+sampleDate+"/report.json"))
	if err != nil {
		t.Fatalf("report.json on %s: %v", scheme, err)
	}
	if n := normalised(t, got, b.prefix+"archive/"+sampleDate+"/", b.query); !reflect.DeepEqual(n, want) {
		t.Errorf("report.json from %s differs from the local run's:\n%s: %s\nlocal: %s", scheme, scheme, got, localJSON)
	}
	dates, err := audit.OpenHistory(history).Dates(ctx)
	if err != nil || !reflect.DeepEqual(dates, []string{sampleDate}) {
		t.Errorf("history dates on %s: %v, %v; want [%s]", scheme, dates, err, sampleDate)
	}
	return remoteCfg, want, localJSON
}

// TestObjectStorageHistoryLock: a history on object storage is locked by
// a lock object. A run that finds it held waits, naming the holder; with
// --lock-timeout it gives up, writes nothing and says which object to
// delete; once the lock is released the waiting run completes and
// removes its own lock; a run never deletes a lock that is not its own.
func TestObjectStorageHistoryLock(t *testing.T) {
	q := startS3(t, "dqaudit-test")
	ctx := context.Background()
	cfg, _ := copyArchive(t, true)
	history := "s3://dqaudit-test/history?" + q
	lockObject := "s3://dqaudit-test/history/.lock?" + q
	h := audit.OpenHistory(history)
	// Each request on the lock may take Stale/6 (10 s here): a shorter
	// Stale makes one slow answer from the emulator on a loaded machine
	// fail a Lock or an Unlock. Nothing here waits for a lock to go stale.
	opts := audit.LockOptions{Warn: func(msg string) { t.Errorf("warning: %s", msg) }, Stale: time.Minute}

	lock, err := h.Lock(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	pid := "pid " + strconv.Itoa(os.Getpid())
	b, err := store.ReadFile(ctx, lockObject)
	if err != nil || !strings.Contains(string(b), `"pid":`+strconv.Itoa(os.Getpid())) {
		t.Fatalf("lock object: %s, %v; want a record with this pid", b, err)
	}
	// Give up as soon as Lock says it waits: it has then read the holder,
	// however long the emulator took to answer.
	short, cancel := context.WithCancel(ctx)
	waiting := opts
	waiting.Waiting = func(string) { cancel() }
	_, err = h.Lock(short, waiting)
	cancel()
	var locked *audit.LockedError
	if !errors.As(err, &locked) || !strings.Contains(locked.Holder, pid) || !errors.Is(err, context.Canceled) {
		t.Fatalf("a second Lock of the held lock: %v; want a LockedError naming this pid", err)
	}

	out := t.TempDir()
	// The lock is held throughout, so the run can only give up; the
	// timeout need only let it create and read the lock object once to
	// name the holder, and 3 s leaves room for a loaded machine at the
	// cost of 3 s.
	code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--history", history,
		"--out", out, "--lock-timeout", "3s", "--quiet")
	for _, want := range []string{"gave up after --lock-timeout 3s", "is locked by another dqaudit run (host ", pid,
		"if no run is using it, delete s3://dqaudit-test/history/.lock"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	if code != int(audit.ExitInput) {
		t.Errorf("exit %d while the lock was held, want %d", code, audit.ExitInput)
	}
	if ents, _ := os.ReadDir(out); len(ents) > 0 {
		t.Errorf("a run that gave up on the lock wrote %d files", len(ents))
	}

	code, stderr = runWaitsForLock(t, lock.Unlock, "scan", "--config", cfg, "--date", sampleDate, "--history", history, "--out", out, "--quiet")
	if code != int(audit.ExitFail) || !strings.Contains(stderr, "waiting for another run's lock on "+history+" (host ") {
		t.Errorf("exit %d, stderr %q; want %d and a waiting message naming the holder", code, stderr, audit.ExitFail)
	}
	if dates, err := h.Dates(ctx); err != nil || len(dates) != 1 || dates[0] != sampleDate {
		t.Errorf("history dates %v, %v; want [%s]", dates, err, sampleDate)
	}
	if _, err := store.ReadFile(ctx, lockObject); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock object after the run: %v; want it removed", err)
	}

	// A lock replaced by another run's (after someone deleted a lock
	// they took for stale) is left alone.
	lock, err = h.Lock(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	other := []byte(`{"host":"elsewhere","pid":1,"started":"2026-01-01T00:00:00Z","token":"other"}`)
	upload(t, writeTemp(t, other), lockObject)
	if err := lock.Unlock(); err == nil || !strings.Contains(err.Error(), "replaced by another run's lock") {
		t.Errorf("unlock of a replaced lock: %v", err)
	}
	if b, err := store.ReadFile(ctx, lockObject); err != nil || !bytes.Equal(b, other) {
		t.Errorf("the other run's lock after unlock: %s, %v; want it intact", b, err)
	}
	// A store that answers with errors (here, no such bucket) is no other
	// run's lock: the run must not say it waits for one.
	var waited []string
	short, cancel = context.WithTimeout(ctx, 20*time.Second)
	_, err = audit.OpenHistory("s3://no-such-bucket/history?"+q).Lock(short, audit.LockOptions{
		Stale: opts.Stale, Waiting: func(holder string) { waited = append(waited, holder) }})
	cancel()
	if err == nil || errors.Is(err, context.DeadlineExceeded) || len(waited) > 0 {
		t.Errorf("lock in a missing bucket: %v, waiting messages %q; want its error, and no waiting", err, waited)
	}
	// Nor is a store that refuses the credentials.
	secret := os.Getenv("AWS_SECRET_ACCESS_KEY")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
	waited = nil
	short, cancel = context.WithTimeout(ctx, 20*time.Second)
	_, err = audit.OpenHistory(history).Lock(short, audit.LockOptions{
		Stale: opts.Stale, Waiting: func(holder string) { waited = append(waited, holder) }})
	cancel()
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	if err == nil || errors.Is(err, context.DeadlineExceeded) || len(waited) > 0 {
		t.Errorf("lock with wrong credentials: %v, waiting messages %q; want its error, and no waiting", err, waited)
	}
	t.Run("lease", func(t *testing.T) { checkLease(t, testBucket{"s3://dqaudit-test/", q}) })
	checkConditionalLock(t, testBucket{"s3://dqaudit-test/", q})
}

// writeTemp writes b to a temporary file and returns its path.
func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestObjectStorageFailedRenderKeepsPreviousReports: on object storage,
// where reports are uploaded one by one, a report that cannot be rendered
// keeps every upload from starting; when all render, report.json goes
// up last, so that a new report.json means new reports beside it.
func TestObjectStorageFailedRenderKeepsPreviousReports(t *testing.T) {
	q := startS3(t, "dqaudit-test")
	b := testBucket{"s3://dqaudit-test/", q}
	ctx := context.Background()
	for _, name := range []string{"report.json", "report.html"} {
		upload(t, writeTemp(t, []byte("previous "+name)), b.url("reports/"+name))
	}
	dir := "s3://dqaudit-test/reports?" + q
	ws := []reportWriter{{reporter: &reports.JSON{}, file: "report.json", last: true}, {reporter: failingReporter{}, file: "report.html"}}
	if _, err := writeReports(ctx, dir, ws, &audit.Result{Date: sampleDate}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("writeReports: %v; want the reporter's error", err)
	}
	for _, name := range []string{"report.json", "report.html"} {
		if got, err := store.ReadFile(ctx, b.url("reports/"+name)); err != nil || string(got) != "previous "+name {
			t.Errorf("%s after a failed render: %q, %v; want the previous one", name, got, err)
		}
	}
	ws[1].reporter = &reports.Markdown{}
	paths, err := writeReports(ctx, dir, ws, &audit.Result{Date: sampleDate})
	if err != nil || len(paths) != 2 || !strings.HasPrefix(paths[1], "s3://dqaudit-test/reports/report.json") {
		t.Errorf("writeReports: %v, %v; want report.json written last", paths, err)
	}
}

// TestObjectStorageMissingBucketIsNamed: a bucket (an Azure container)
// that does not exist is named as such in every error, rather than taken
// for a missing file; an object missing from a bucket that exists is
// still fs.ErrNotExist.
func TestObjectStorageMissingBucketIsNamed(t *testing.T) {
	stores := []struct {
		scheme string
		start  func(t *testing.T, bucket string) string
		word   string
	}{
		{"s3", startS3, "bucket"},
		{"gs", startGCS, "bucket"},
		{"azblob", startAzurite, "container"},
	}
	for _, st := range stores {
		t.Run(st.scheme, func(t *testing.T) {
			query := st.start(t, "dqaudit-test")
			there := testBucket{st.scheme + "://dqaudit-test/", query}
			missing := testBucket{st.scheme + "://no-such-bucket/", query}
			want := "the " + st.word + " " + st.scheme + "://no-such-bucket does not exist"
			ctx := context.Background()
			write := func(w io.Writer) error { _, err := w.Write([]byte("x")); return err }
			ops := map[string]func() error{
				"open":         func() error { _, _, err := store.Open(ctx, missing.url("day.log")); return err },
				"read":         func() error { _, err := store.ReadFile(ctx, missing.url("h/2024-03-19.json")); return err },
				"glob":         func() error { _, err := store.Glob(ctx, missing.url("{date}/*.log")); return err },
				"list":         func() error { _, err := store.List(ctx, missing.url("history")); return err },
				"write":        func() error { return store.WriteAtomic(ctx, missing.url("reports/report.json"), write) },
				"create new":   func() error { _, err := store.CreateNew(ctx, missing.url("history/.lock"), []byte("{}")); return err },
				"read version": func() error { _, _, err := store.ReadVersioned(ctx, missing.url("history/.lock")); return err },
			}
			for name, op := range ops {
				err := op()
				if err == nil || !strings.Contains(err.Error(), want) || errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s: %v; want an error saying %q, not fs.ErrNotExist", name, err, want)
				}
			}
			if _, err := store.ReadFile(ctx, there.url("no-such-key.json")); !errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "the "+st.word) {
				t.Errorf("missing key in a bucket that exists: %v; want fs.ErrNotExist, the bucket not blamed", err)
			}
		})
	}

	// Through the command: the input's error in the report, check
	// --references and the reports' write name the bucket.
	query := startS3(t, "dqaudit-test")
	missing := testBucket{"s3://no-such-bucket/", query}
	const want = "the bucket s3://no-such-bucket does not exist"
	cfg := smallConfig(t, missing.url("{date}/*.log"), "references:\n  users: {path: \""+missing.url("users.csv")+"\", column: user_id}\nreport:\n  formats: [json]\n")
	if code, _, stderr := runCLI(t, "check", "--config", cfg, "--references"); code != int(audit.ExitUsage) || !strings.Contains(stderr, `reference "users": s3://no-such-bucket/users.csv: `+want) {
		t.Errorf("check --references: exit %d, stderr %q; want 2 and %q", code, stderr, want)
	}
	cfg = smallConfig(t, missing.url("{date}/*.log"), "report:\n  formats: [json]\n")
	out := t.TempDir()
	code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out, "--quiet")
	if code != int(audit.ExitInput) || !strings.Contains(stderr, want) {
		t.Errorf("scan of an input on a missing bucket: exit %d, stderr %q; want 3 and %q", code, stderr, want)
	}
	if rep, _ := readReport(t, out); len(rep.Inputs) != 1 || rep.Inputs[0].Error == nil || !strings.Contains(*rep.Inputs[0].Error, want) {
		t.Errorf("report.json inputs: %+v; want the input's error to say %q", rep.Inputs, want)
	}
	cfg = smallConfig(t, "day.log", "report:\n  formats: [json]\n")
	code, _, stderr = runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", missing.url("reports"), "--quiet")
	if code != int(audit.ExitInput) || !strings.Contains(stderr, "write reports: ") || !strings.Contains(stderr, want) {
		t.Errorf("scan with reports to a missing bucket: exit %d, stderr %q; want 3 and %q", code, stderr, want)
	}
}
