package main

import (
	"context"
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
	poll := audit.LockPoll
	audit.LockPoll = 100 * time.Millisecond
	t.Cleanup(func() { audit.LockPoll = poll })
	ctx := context.Background()
	h := audit.OpenHistory(b.url("lock-history"))
	opts := audit.LockOptions{Warn: func(msg string) { t.Errorf("warning: %s", msg) }}

	unlock, err := h.Lock(ctx, opts)
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
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ReadFile(ctx, b.url("lock-history/.lock")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock object after unlock: %v; want it removed", err)
	}
	unlock, err = h.Lock(ctx, opts)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	if err := unlock(); err != nil {
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
