package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/store"
	"gocloud.dev/blob"
)

// TestObjectStorageGCS: a scan whose inputs, reference set, report and
// history are on fake-gcs-server gives the report a local run gives, and
// the history lock on it keeps a second run out.
func TestObjectStorageGCS(t *testing.T) {
	b := testBucket{"gs://dqaudit-test/", startGCS(t, "dqaudit-test")}
	t.Run("scan", func(t *testing.T) { scanOnStore(t, b) })
	t.Run("lock", func(t *testing.T) { checkLock(t, b) })
	t.Run("lease", func(t *testing.T) { checkLease(t, b) })
	checkConditionalLock(t, b)
}

// TestObjectStorageAzure: the same on Azurite.
func TestObjectStorageAzure(t *testing.T) {
	b := testBucket{"azblob://dqaudit-test/", startAzurite(t, "dqaudit-test")}
	// The history lock checks that a second conditional write of its
	// lock object fails. gocloud.dev's azureblob before v0.48.0 panicked
	// in Writer.Close when an upload failed: every run with a history on
	// azblob:// crashed.
	if failedUploadPanics(t, b) {
		t.Fatal("a failed upload to azblob:// panics (gocloud.dev/blob/azureblob before v0.48.0)")
	}
	t.Run("scan", func(t *testing.T) { scanOnStore(t, b) })
	t.Run("lock", func(t *testing.T) { checkLock(t, b) })
	t.Run("lease", func(t *testing.T) { checkLease(t, b) })
	checkConditionalLock(t, b)
}

// startGCS starts fake-gcs-server, a Cloud Storage emulator, on a free
// loopback port with one empty bucket, and points gocloud at it through
// STORAGE_EMULATOR_HOST, with which gcsblob uses plain HTTP and no
// credentials. gs:// URLs need no query for it: it returns "".
func startGCS(t *testing.T, bucket string) string {
	t.Helper()
	bin := emulator(t, "fake-gcs-server", "go install github.com/fsouza/fake-gcs-server@v1.56.1")
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	// Each directory of -data is loaded as a bucket; objects are kept in
	// memory rather than under the filesystem backend's default /storage.
	// Downloads go to the XML API (GET /bucket/key), which the server
	// answers only for requests to its -public-host.
	data := t.TempDir()
	if err := os.Mkdir(filepath.Join(data, bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	startServer(t, "http://"+addr+"/storage/v1/b", bin, "-scheme", "http", "-host", "127.0.0.1", "-port", port,
		"-external-url", "http://"+addr, "-public-host", addr, "-backend", "memory", "-data", data, "-log-level", "info")
	t.Setenv("STORAGE_EMULATOR_HOST", addr)
	return ""
}

// Azurite's well-known development account.
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// startAzurite starts Azurite's blob service, an Azure Storage emulator, on
// a free loopback port over a temporary directory, creates the container
// (Azurite starts empty) and sets the shared-key credentials of its
// development account. It returns the URL query that points azureblob at
// it (plain HTTP, the emulator's path-style account). azureblob reads the
// credentials once per process, so every test that opens azblob:// must
// set the same ones.
func startAzurite(t *testing.T, ctr string) string {
	t.Helper()
	bin := emulator(t, "azurite-blob", "npm install -g azurite@3.35.0")
	addr := freeAddr(t)
	host, port, _ := strings.Cut(addr, ":")
	// The API version check would refuse the Go SDK's newer
	// x-ms-version; telemetry would reach out of the machine.
	startServer(t, "http://"+addr+"/"+azuriteAccount+"?comp=list", bin, "--blobHost", host, "--blobPort", port,
		"--location", t.TempDir(), "--skipApiVersionCheck", "--disableTelemetry")
	t.Setenv("AZURE_STORAGE_ACCOUNT", azuriteAccount)
	t.Setenv("AZURE_STORAGE_KEY", azuriteKey)
	t.Setenv("AZURE_STORAGE_SAS_TOKEN", "") // with one, a URL may not change the endpoint
	query := "protocol=http&domain=" + addr + "&localemu=true"

	ctx := context.Background()
	b, err := blob.OpenBucket(ctx, "azblob://"+ctr+"?"+query)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var c *container.Client
	if !b.As(&c) {
		t.Fatal("azblob bucket: no *container.Client")
	}
	if _, err := c.Create(ctx, nil); err != nil {
		t.Fatalf("create container %s on Azurite: %v", ctr, err)
	}
	return query
}

// checkLock: the history lock on b is taken without the warning that the
// store ignores conditional writes; while it is held a second Lock gives
// up with a *audit.LockedError naming this run; unlock removes the lock
// object, after which the lock can be taken again.
func checkLock(t *testing.T, b testBucket) {
	ctx := context.Background()
	h := audit.OpenHistory(b.url("lock-history"))
	// Polls every 100 ms; not stale within the test.
	opts := audit.LockOptions{Warn: func(msg string) { t.Errorf("warning: %s", msg) }, Stale: 1200 * time.Millisecond}

	lock, err := h.Lock(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = h.Lock(short, opts)
	cancel()
	var locked *audit.LockedError
	if !errors.As(err, &locked) || !strings.Contains(locked.Holder, "pid "+strconv.Itoa(os.Getpid())) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a second Lock of the held lock: %v; want a LockedError naming this pid", err)
	}
	if err := lock.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ReadFile(ctx, b.url("lock-history/.lock")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock object after unlock: %v; want it removed", err)
	}
	lock, err = h.Lock(ctx, opts)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	if err := lock.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// failedUploadPanics creates an object on b with store.CreateNew, then
// again, and reports whether the second, failed conditional write
// panicked. If it did not, it must have reported that it lost.
func failedUploadPanics(t *testing.T, b testBucket) (panicked bool) {
	t.Helper()
	ctx := context.Background()
	key := b.url("probe")
	if ok, err := store.CreateNew(ctx, key, []byte("1")); !ok || err != nil {
		t.Fatalf("CreateNew %s: %v, %v", key, ok, err)
	}
	defer func() {
		if r := recover(); r != nil {
			t.Logf("a failed conditional write panicked: %v", r)
			panicked = true
		}
	}()
	if ok, err := store.CreateNew(ctx, key, []byte("2")); ok || err != nil {
		t.Fatalf("CreateNew of an existing object: %v, %v; want false, nil", ok, err)
	}
	return false
}

// checkLease: a lock on b is a lease. Its holder renews it; a lock left
// by a run that died (a record no one renews) is taken over after
// LockOptions.Stale, by Lock and by a scan, which says so; a record of a
// version that did not renew is never taken over; a holder whose lock
// another run took over hears of it through Lost and Verify, and its
// Unlock leaves the other run's lock alone.
func checkLease(t *testing.T, b testBucket) {
	// Renewals every 250 ms, polls every 125 ms: time enough for a
	// request to an emulator on a loaded machine.
	const stale, renew = 1500 * time.Millisecond, 250 * time.Millisecond
	ctx := context.Background()
	// record reads the lock object key. versitygw's posix backend
	// replaces an object in place, so a read during a renewal can fail its
	// checksum: it is tried again.
	record := func(t *testing.T, key string) map[string]any {
		t.Helper()
		raw, err := store.ReadFile(ctx, b.url(key))
		for try := 0; err != nil && try < 10; try++ {
			time.Sleep(10 * time.Millisecond)
			raw, err = store.ReadFile(ctx, b.url(key))
		}
		if err != nil {
			t.Fatalf("read %s: %v", key, err)
		}
		var r map[string]any
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return r
	}
	put := func(t *testing.T, key, content string) {
		t.Helper()
		upload(t, writeTemp(t, []byte(content)), b.url(key))
	}

	t.Run("renewed", func(t *testing.T) {
		lock, err := audit.OpenHistory(b.url("lease-renew")).Lock(ctx, audit.LockOptions{Stale: stale})
		if err != nil {
			t.Fatal(err)
		}
		first := record(t, "lease-renew/.lock")["renewed"]
		time.Sleep(5 * renew)
		if again := record(t, "lease-renew/.lock")["renewed"]; again == first {
			t.Errorf("lock renewed at %v and still at %v after %s; want renewals every %s", first, again, 5*renew, renew)
		}
		if err := lock.Verify(ctx); err != nil {
			t.Errorf("Verify of a held lock: %v", err)
		}
		if err := lock.Unlock(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("stale lock taken over", func(t *testing.T) {
		put(t, "lease-stale/.lock", deadLock)
		var took string
		start := time.Now()
		bounded, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		lock, err := audit.OpenHistory(b.url("lease-stale")).Lock(bounded, audit.LockOptions{TookOver: func(h string) { took = h }, Stale: stale})
		if err != nil {
			t.Fatalf("Lock of a stale lock: %v", err)
		}
		defer lock.Unlock()
		if waited := time.Since(start); waited < stale {
			t.Errorf("took the stale lock after %s; want at least Stale, %s", waited, stale)
		}
		if !strings.Contains(took, "host gone, pid 7") {
			t.Errorf("TookOver(%q); want the dead run named", took)
		}
		if r := record(t, "lease-stale/.lock"); r["pid"] != float64(os.Getpid()) {
			t.Errorf("lock object after the takeover: %v; want this run's", r)
		}
	})

	t.Run("scan takes over a stale lock", func(t *testing.T) {
		// --lock-stale is also how long the scan's own renewals may take
		// (Stale/2): with 1.5 s, a scan sharing a loaded 2-core machine
		// with the emulator missed that 750 ms and lost its lock. 6 s
		// gives renewals 3 s; the takeover waits 6 s, by design.
		const scanStale = 6 * time.Second
		cfg, _ := copyArchive(t, true)
		put(t, "lease-scan/.lock", deadLock)
		code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--history", b.url("lease-scan"),
			"--out", t.TempDir(), "--quiet", "--lock-timeout", "30s", "--lock-stale", scanStale.String())
		if code != int(audit.ExitFail) || !strings.Contains(stderr, "took over the lock on "+b.url("lease-scan")+" from a run that had not renewed it for at least 6s") ||
			!strings.Contains(stderr, "host gone, pid 7") {
			t.Errorf("exit %d, stderr %q; want %d and the takeover named", code, stderr, audit.ExitFail)
		}
		if _, err := store.ReadFile(ctx, b.url("lease-scan/.lock")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("lock object after the run: %v; want it removed", err)
		}
	})

	t.Run("a lock that is never renewed is kept", func(t *testing.T) {
		// A record without "renewed" is from a version without leases.
		put(t, "lease-old/.lock", `{"host":"old","pid":8,"started":"2026-01-01T00:00:00Z","token":"old"}`)
		short, cancel := context.WithTimeout(ctx, 2*stale)
		defer cancel()
		_, err := audit.OpenHistory(b.url("lease-old")).Lock(short, audit.LockOptions{TookOver: func(h string) { t.Errorf("took over %s", h) }, Stale: stale})
		if !errors.As(err, new(*audit.LockedError)) {
			t.Errorf("Lock of a lock without renewals: %v; want a LockedError", err)
		}
	})

	t.Run("scan stops when its lock is taken over", func(t *testing.T) {
		// The scan reads a FIFO that stays open, so it is mid-file when
		// another run's record replaces its lock.
		dir := t.TempDir()
		stallingFIFO(t, filepath.Join(dir, "stream.log"))
		cfg := filepath.Join(dir, "config.yaml")
		os.WriteFile(cfg, []byte(`version: 1
inputs:
  - {name: log, format: kafka-log, paths: ["stream.log"]}
rules:
  - {name: r, event: MovieRatingEvent, field: rating, between: [1, 5]}
drift: {}
`), 0o644)
		out := t.TempDir()
		type result struct {
			code   int
			stderr string
		}
		done := make(chan result, 1)
		go func() {
			// The same 6 s lease as above, so that a loaded machine does
			// not lose the lock to a slow renewal before the takeover;
			// the takeover is seen at the next renewal, seconds later.
			code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--history", b.url("lease-mid"),
				"--out", out, "--quiet", "--lock-stale", (6 * time.Second).String())
			done <- result{code, stderr}
		}()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if raw, err := store.ReadFile(ctx, b.url("lease-mid/.lock")); err == nil && strings.Contains(string(raw), `"pid":`+strconv.Itoa(os.Getpid())) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the scan did not take the lock")
			}
		}
		put(t, "lease-mid/.lock", otherLock)
		select {
		case r := <-done:
			for _, want := range []string{"lost the history lock", "another run took it over (host elsewhere, pid 9", "no report written"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr %q lacks %q", r.stderr, want)
				}
			}
			if r.code != int(audit.ExitInput) {
				t.Errorf("exit %d after the lock was taken over, want %d", r.code, audit.ExitInput)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the scan went on after its lock was taken over")
		}
		if ents, _ := os.ReadDir(out); len(ents) > 0 {
			t.Errorf("a run that lost its lock wrote %d reports", len(ents))
		}
		if raw, err := store.ReadFile(ctx, b.url("lease-mid/.lock")); err != nil || string(raw) != otherLock {
			t.Errorf("the other run's lock after the run: %s, %v; want it intact", raw, err)
		}
		if dates, err := audit.OpenHistory(b.url("lease-mid")).Dates(ctx); err != nil || len(dates) > 0 {
			t.Errorf("history dates %v, %v; want none", dates, err)
		}
	})

	t.Run("lost", func(t *testing.T) {
		lost := make(chan error, 1)
		lock, err := audit.OpenHistory(b.url("lease-lost")).Lock(ctx, audit.LockOptions{Lost: func(err error) { lost <- err }, Stale: stale})
		if err != nil {
			t.Fatal(err)
		}
		put(t, "lease-lost/.lock", otherLock)
		var gone *audit.LockLostError
		select {
		case err := <-lost:
			if !errors.As(err, &gone) || !strings.Contains(err.Error(), "another run took it over (host elsewhere, pid 9") {
				t.Errorf("Lost(%v); want a LockLostError naming the other run", err)
			}
		case <-time.After(20 * renew):
			t.Fatal("Lost was not called after another run took the lock over")
		}
		if err := lock.Verify(ctx); !errors.As(err, &gone) {
			t.Errorf("Verify of a lock taken over: %v; want a LockLostError", err)
		}
		if err := lock.Unlock(); err == nil || !strings.Contains(err.Error(), "replaced by another run's lock") {
			t.Errorf("Unlock of a lock taken over: %v", err)
		}
		if raw, err := store.ReadFile(ctx, b.url("lease-lost/.lock")); err != nil || string(raw) != otherLock {
			t.Errorf("the other run's lock after Unlock: %s, %v; want it intact", raw, err)
		}
	})
}

// Lock records of other runs: one that left its lock long ago, and one
// that holds it now.
const (
	deadLock  = `{"host":"gone","pid":7,"started":"2026-01-01T00:00:00Z","renewed":"2026-01-01T00:01:00Z","token":"dead"}`
	otherLock = `{"host":"elsewhere","pid":9,"started":"2026-01-01T00:00:00Z","renewed":"2026-01-01T00:00:00Z","token":"other"}`
)

// checkConditionalLock runs the tests of replaces conditional on an
// object's version, on which the lock's takeovers and renewals rely, as
// subtests of t. versitygw v1.8.0, fake-gcs-server v1.56.1 and Azurite
// 3.35.0 all honour them.
func checkConditionalLock(t *testing.T, b testBucket) {
	t.Run("replace if", func(t *testing.T) { checkReplaceIf(t, b) })
	t.Run("takeover race", func(t *testing.T) { checkTakeoverRace(t, b) })
	t.Run("renewal race", func(t *testing.T) { checkRenewalRace(t, b) })
	t.Run("lost answer", func(t *testing.T) { checkLostAnswer(t, b) })
	t.Run("unlock race", func(t *testing.T) { checkUnlockRace(t, b) })
	// Stores that speak S3's API without If-Match exist. Cloud Storage's
	// client retries a 501 as it does every 5xx, until its deadline, and
	// no store behind that API lacks preconditions.
	if !strings.HasPrefix(b.prefix, "gs://") {
		t.Run("if-match refused", func(t *testing.T) { checkIfMatchRefused(t, b) })
	}
}

// checkUnlockRace: a run that releases its lock deletes it only at the
// version it checked: another run's lock written between the check and
// the delete (by a proxy, just before it forwards the delete) stays, and
// Unlock says so.
func checkUnlockRace(t *testing.T, b testBucket) {
	ctx := context.Background()
	proxied, other := interloperProxy(t, b, "unlock-race/.lock", func(r *http.Request) bool { return r.Method == http.MethodDelete })
	lock, err := audit.OpenHistory(proxied.url("unlock-race")).Lock(ctx, audit.LockOptions{
		Stale: time.Minute,
		Warn:  func(msg string) { t.Errorf("warning: %s", msg) },
	})
	if err != nil {
		t.Fatal(err)
	}
	other.armed.Store(true)
	err = lock.Unlock()
	if !other.fired.Load() || other.err != nil {
		t.Fatalf("the other run's lock did not land before the delete (fired %v): %v", other.fired.Load(), other.err)
	}
	if err == nil || !strings.Contains(err.Error(), "replaced by another run's lock") {
		t.Errorf("Unlock when another run's lock replaced this run's: %v; want it to say so", err)
	}
	if raw, err := store.ReadFile(ctx, b.url("unlock-race/.lock")); err != nil || string(raw) != otherLock {
		t.Errorf("the other run's lock after Unlock: %s, %v; want it intact", raw, err)
	}
}

// interloper is another run that, once armed, writes its lock (otherLock)
// to a key just before the proxy forwards the first request it waits for.
type interloper struct {
	armed, fired atomic.Bool
	err          error // of its write; read once fired
}

// interloperProxy puts a proxy in front of b whose interloper writes
// otherLock to key before the first request that match accepts once the
// interloper is armed.
func interloperProxy(t *testing.T, b testBucket, key string, match func(*http.Request) bool) (testBucket, *interloper) {
	i := &interloper{}
	proxied := viaProxy(t, b, func(_ http.ResponseWriter, r *http.Request, _ http.Handler) bool {
		if match(r) && i.armed.CompareAndSwap(true, false) {
			i.err = store.WriteAtomic(context.Background(), b.url(key), func(w io.Writer) error {
				_, err := io.WriteString(w, otherLock)
				return err
			})
			i.fired.Store(true)
		}
		return false
	})
	return proxied, i
}

// checkLostAnswer: a conditional create of the lock that lands but whose
// answer is lost (a proxy forwards it and answers 500) leaves the lock
// this run's: the client's retry meets the condition failed by its own
// write, or the run removes what it wrote, and either way the run takes
// the lock at once rather than wait for its own record to go stale.
func checkLostAnswer(t *testing.T, b testBucket) {
	var lost atomic.Bool
	b = viaProxy(t, b, func(w http.ResponseWriter, r *http.Request, forward http.Handler) bool {
		if createRequest(r) && lost.CompareAndSwap(false, true) {
			forward.ServeHTTP(httptest.NewRecorder(), r)
			http.Error(w, "the answer was lost", http.StatusInternalServerError)
			return true
		}
		return false
	})
	// Longer than the test waits: a run that waited for its own lock to
	// go stale would fail.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lock, err := audit.OpenHistory(b.url("lost-answer")).Lock(ctx, audit.LockOptions{Stale: time.Minute})
	if err != nil {
		t.Fatalf("Lock after its create's answer was lost: %v", err)
	}
	if !lost.Load() {
		t.Fatal("no conditional create went through the proxy")
	}
	if err := lock.Unlock(); err != nil {
		t.Errorf("Unlock: %v", err)
	}
	if _, err := store.ReadFile(ctx, b.url("lost-answer/.lock")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock object after Unlock: %v; want it gone", err)
	}
}

// checkIfMatchRefused: on a store that gives versions but answers every
// write conditional on one with an error (an S3 clone without If-Match,
// played by a proxy answering 501), the lock still works as on a store
// without versions: a stale lock is taken over, the holder's renewals
// land and it never hears it lost the lock, and the run is warned.
func checkIfMatchRefused(t *testing.T, b testBucket) {
	const stale = 1500 * time.Millisecond
	upload(t, writeTemp(t, []byte(deadLock)), b.url("if-match-refused/.lock"))
	var refused atomic.Int32
	b = viaProxy(t, b, func(w http.ResponseWriter, r *http.Request, _ http.Handler) bool {
		if r.Header.Get("If-Match") != "" || replaceRequest(r) && r.URL.Query().Has("ifGenerationMatch") {
			refused.Add(1)
			http.Error(w, "conditional writes are not implemented", http.StatusNotImplemented)
			return true
		}
		return false
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var warnings []string
	var mu sync.Mutex
	lost := make(chan error, 1)
	lock, err := audit.OpenHistory(b.url("if-match-refused")).Lock(ctx, audit.LockOptions{
		Stale: stale,
		Warn:  func(msg string) { mu.Lock(); warnings = append(warnings, msg); mu.Unlock() },
		Lost:  func(err error) { lost <- err },
	})
	if err != nil {
		t.Fatalf("Lock of a stale lock on a store refusing If-Match: %v", err)
	}
	read := func() string {
		raw, err := store.ReadFile(ctx, b.url("if-match-refused/.lock"))
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	first := read()
	select {
	case err := <-lost:
		t.Errorf("Lost(%v) on a store refusing If-Match; want the lock kept", err)
	case <-time.After(2 * stale):
	}
	if again := read(); again == first || strings.Contains(again, `"dead"`) {
		t.Errorf("lock %s after %s, first %s; want this run's, renewed", again, 2*stale, first)
	}
	if err := lock.Unlock(); err != nil {
		t.Errorf("Unlock: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if refused.Load() == 0 || len(warnings) != 1 || !strings.Contains(warnings[0], "refuses conditional replaces") {
		t.Errorf("%d conditional writes refused, warnings %q; want some, and one warning that the store refuses them", refused.Load(), warnings)
	}
}

// checkReplaceIf: store.ReplaceIf on b replaces an object at the version
// store.ReadVersioned read, and only then: a version replaced since, one
// that no object has or an object deleted since leave the store as it
// is. Of two writers that replace one version at once, exactly one wins.
// store.RemoveIf deletes only at the version read.
func checkReplaceIf(t *testing.T, b testBucket) {
	ctx := context.Background()
	p := b.url("replace-if/object")
	read := func(want string) string {
		t.Helper()
		got, version, err := store.ReadVersioned(ctx, p)
		if err != nil || string(got) != want || version == "" {
			t.Fatalf("ReadVersioned: %q, version %q, %v; want %q and a version", got, version, err, want)
		}
		return version
	}
	if ok, err := store.CreateNew(ctx, p, []byte("one")); !ok || err != nil {
		t.Fatalf("CreateNew: %v, %v", ok, err)
	}
	v1 := read("one")
	if ok, err := store.ReplaceIf(ctx, p, []byte("two"), v1); !ok || err != nil {
		t.Fatalf("ReplaceIf at the version read: %v, %v; want true", ok, err)
	}
	v2 := read("two")
	if v2 == v1 {
		t.Errorf("version %q unchanged by a replace", v1)
	}
	if ok, err := store.ReplaceIf(ctx, p, []byte("three"), v1); ok || err != nil {
		t.Errorf("ReplaceIf at a version replaced since: %v, %v; want false, nil", ok, err)
	}
	read("two")
	if ignored, err := store.IgnoresReplaceIf(ctx, p, []byte("two")); ignored || err != nil {
		t.Errorf("IgnoresReplaceIf: %v, %v; want false, nil", ignored, err)
	}

	last := "two"
	for round := range 20 {
		version := read(last)
		var won [2]bool
		var errs [2]error
		var wg sync.WaitGroup
		for i := range won {
			wg.Go(func() {
				won[i], errs[i] = store.ReplaceIf(ctx, p, fmt.Appendf(nil, "round %d writer %d", round, i), version)
			})
		}
		wg.Wait()
		if errors.Join(errs[:]...) != nil || won[0] == won[1] {
			t.Fatalf("round %d: two writers replacing version %q at once: won %v, errors %v; want exactly one to win", round, version, won, errs)
		}
		winner := 0
		if won[1] {
			winner = 1
		}
		last = fmt.Sprintf("round %d writer %d", round, winner)
	}
	v2 = read(last)

	// Deletes are conditional the same way.
	if ok, err := store.RemoveIf(ctx, p, v1); ok || err != nil {
		t.Errorf("RemoveIf at a version replaced since: %v, %v; want false, nil", ok, err)
	}
	read(last)
	if ok, err := store.RemoveIf(ctx, p, v2); !ok || err != nil {
		t.Errorf("RemoveIf at the version read: %v, %v; want true", ok, err)
	}
	if ok, err := store.RemoveIf(ctx, p, v2); ok || err != nil {
		t.Errorf("RemoveIf of a deleted object: %v, %v; want false, nil", ok, err)
	}
	if err := store.Remove(ctx, p); err != nil {
		t.Fatal(err)
	}
	if ok, err := store.ReplaceIf(ctx, p, []byte("gone"), v2); ok || err != nil {
		t.Errorf("ReplaceIf of a deleted object: %v, %v; want false, nil", ok, err)
	}
	if _, err := store.ReadFile(ctx, p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("deleted object after ReplaceIf: %v; want it still gone", err)
	}
}

// checkTakeoverRace: two runs that wait for the same stale lock and take
// it for stale at the same time cannot both take it over: the takeover
// replaces the version of the stale lock they read, and only one replace
// of it succeeds. A proxy in front of the store holds each replace back
// for a while, so that both runs have read the stale lock before either
// replace lands: nearly every round is a race, which ends with two
// winners when the replace is not conditional. Six rounds run at once,
// each on its own lock.
func checkTakeoverRace(t *testing.T, b testBucket) {
	// Polls every 500 ms, renewals and request timeouts every second:
	// eight waiting runs polling at once keep requests to the emulators
	// well within that, held-back replaces included, on a loaded machine
	// too (each request on s3:// costs some 5 ms of CPU to open its
	// bucket). The loser is given stale/2 to take the lock as well, which
	// a second winner, by replace or by removing the winner's lock, would
	// need far less than.
	const rounds, stale, hold = 4, 6 * time.Second, 100 * time.Millisecond
	for round := range rounds {
		upload(t, writeTemp(t, []byte(deadLock)), b.url("takeover-race/"+strconv.Itoa(round)+"/.lock"))
	}
	b = viaProxy(t, b, func(_ http.ResponseWriter, r *http.Request, _ http.Handler) bool {
		if replaceRequest(r) {
			time.Sleep(hold)
		}
		return false
	})
	race := func(round int) (won, tookOver int, errs []error) {
		history := b.url("takeover-race/" + strconv.Itoa(round))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var took atomic.Int32
		var mu sync.Mutex
		opts := audit.LockOptions{
			Stale:    stale,
			TookOver: func(string) { took.Add(1) },
			Warn:     func(msg string) { t.Errorf("warning: %s", msg) },
			Lost: func(err error) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("lost: %w", err))
				mu.Unlock()
			},
		}
		type result struct {
			lock *audit.HeldLock
			err  error
		}
		results := make(chan result, 2)
		for range 2 {
			go func() {
				lock, err := audit.OpenHistory(history).Lock(ctx, opts)
				results <- result{lock, err}
			}()
		}
		got := []result{<-results}
		select {
		case r := <-results:
			got = append(got, r)
		case <-time.After(stale / 2):
			cancel() // the loser waits for the winner's lock: stop it
			got = append(got, <-results)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range got {
			switch {
			case r.lock != nil:
				won++
			case !errors.As(r.err, new(*audit.LockedError)) || !errors.Is(r.err, context.Canceled):
				errs = append(errs, r.err)
			}
		}
		for _, r := range got {
			if r.lock == nil {
				continue
			}
			// A winner whose lock another run replaced or removed finds
			// out here.
			if err := r.lock.Verify(context.Background()); err != nil {
				errs = append(errs, fmt.Errorf("verify: %w", err))
			}
			if err := r.lock.Unlock(); err != nil {
				errs = append(errs, fmt.Errorf("unlock: %w", err))
			}
		}
		return won, int(took.Load()), errs
	}
	var wg sync.WaitGroup
	for round := range rounds {
		wg.Go(func() {
			if won, tookOver, errs := race(round); won != 1 || tookOver != 1 || len(errs) > 0 {
				t.Errorf("round %d: %d of two waiting runs took the stale lock, TookOver called %d times, errors %v; want exactly one, once, none",
					round, won, tookOver, errs)
			}
		})
	}
	wg.Wait()
}

// checkRenewalRace: a holder whose lock another run takes over between
// the holder's check of the lock and its renewal's upload does not
// overwrite the other run's lock: the renewal replaces only the version
// it checked, fails, and the holder hears through Lost that it lost the
// lock. A proxy in front of the store lands the other run's lock just
// before the renewal's upload.
func checkRenewalRace(t *testing.T, b testBucket) {
	// The other run's write and the forwarded renewal must land within
	// stale/2 of the previous renewal, or the holder hears that it could
	// not renew rather than that another run took the lock.
	const stale = 3 * time.Second
	ctx := context.Background()
	proxied, other := interloperProxy(t, b, "renewal-race/.lock", replaceRequest)
	lost := make(chan error, 1)
	lock, err := audit.OpenHistory(proxied.url("renewal-race")).Lock(ctx, audit.LockOptions{
		Stale: stale,
		Lost:  func(err error) { lost <- err },
		Warn:  func(msg string) { t.Errorf("warning: %s", msg) },
	})
	if err != nil {
		t.Fatal(err)
	}
	// The next upload through the proxy is a renewal's, sent after its
	// check of the lock.
	other.armed.Store(true)
	select {
	case err := <-lost:
		var gone *audit.LockLostError
		if !errors.As(err, &gone) || !strings.Contains(err.Error(), "another run took it over (host elsewhere, pid 9") {
			t.Errorf("Lost(%v); want a LockLostError naming the other run", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("Lost was not called after another run took the lock over")
	}
	if !other.fired.Load() || other.err != nil {
		t.Fatalf("the other run's lock did not land before a renewal (fired %v): %v", other.fired.Load(), other.err)
	}
	if raw, err := store.ReadFile(ctx, b.url("renewal-race/.lock")); err != nil || string(raw) != otherLock {
		t.Errorf("the other run's lock after the renewal: %s, %v; want it intact", raw, err)
	}
	if err := lock.Unlock(); err == nil || !strings.Contains(err.Error(), "replaced by another run's lock") {
		t.Errorf("Unlock of a lock taken over: %v", err)
	}
}

// uploadRequest reports whether r uploads an object.
func uploadRequest(r *http.Request) bool {
	return r.Method == http.MethodPut || r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/upload/")
}

// createRequest reports whether r uploads an object as a conditional
// create: If-None-Match: * on S3 and Azure, a generation-match of 0 on
// GCS.
func createRequest(r *http.Request) bool {
	return uploadRequest(r) && (r.Header.Get("If-None-Match") == "*" || r.URL.Query().Get("ifGenerationMatch") == "0")
}

// replaceRequest reports whether r uploads an object other than as a
// conditional create.
func replaceRequest(r *http.Request) bool { return uploadRequest(r) && !createRequest(r) }

// viaProxy puts a reverse proxy in front of b's emulator, which calls
// before with each request before it forwards it, unless before answered
// it itself and returns true (it may forward it with forward first), and
// returns b reached through it. For GCS it points STORAGE_EMULATOR_HOST at the proxy until
// the test ends.
func viaProxy(t *testing.T, b testBucket, before func(w http.ResponseWriter, r *http.Request, forward http.Handler) bool) testBucket {
	t.Helper()
	scheme, _, _ := strings.Cut(b.prefix, "://")
	var target string
	switch scheme {
	case "s3":
		_, target, _ = strings.Cut(b.query, "endpoint=http://")
	case "azblob":
		_, target, _ = strings.Cut(b.query, "domain=")
	case "gs":
		target = os.Getenv("STORAGE_EMULATOR_HOST")
	}
	target, _, _ = strings.Cut(target, "&")
	if target == "" {
		t.Fatalf("no emulator address for %s", b.prefix)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: target})
			if scheme == "s3" {
				r.Out.Host = r.In.Host // the request is signed for the proxy's host
			}
		},
		// Clients that give up on a request held back are expected:
		// answer without logging.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) },
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !before(w, r, proxy) {
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	if scheme == "gs" {
		t.Setenv("STORAGE_EMULATOR_HOST", addr)
		return b
	}
	return testBucket{b.prefix, strings.Replace(b.query, target, addr, 1)}
}
