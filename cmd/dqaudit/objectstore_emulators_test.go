package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	const dead = `{"host":"gone","pid":7,"started":"2026-01-01T00:00:00Z","renewed":"2026-01-01T00:01:00Z","token":"dead"}`

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
		put(t, "lease-stale/.lock", dead)
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
		cfg, _ := copyArchive(t, true)
		put(t, "lease-scan/.lock", dead)
		code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--history", b.url("lease-scan"),
			"--out", t.TempDir(), "--quiet", "--lock-timeout", "20s", "--lock-stale", stale.String())
		if code != int(audit.ExitFail) || !strings.Contains(stderr, "took over the lock on "+b.url("lease-scan")+" from a run that had not renewed it for at least 1.5s") ||
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
			code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--history", b.url("lease-mid"),
				"--out", out, "--quiet", "--lock-stale", stale.String())
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
		other := `{"host":"elsewhere","pid":9,"started":"2026-01-01T00:00:00Z","renewed":"2026-01-01T00:00:00Z","token":"other"}`
		put(t, "lease-mid/.lock", other)
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
		if raw, err := store.ReadFile(ctx, b.url("lease-mid/.lock")); err != nil || string(raw) != other {
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
		other := `{"host":"elsewhere","pid":9,"started":"2026-01-01T00:00:00Z","renewed":"2026-01-01T00:00:00Z","token":"other"}`
		put(t, "lease-lost/.lock", other)
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
		if raw, err := store.ReadFile(ctx, b.url("lease-lost/.lock")); err != nil || string(raw) != other {
			t.Errorf("the other run's lock after Unlock: %s, %v; want it intact", raw, err)
		}
	})
}
