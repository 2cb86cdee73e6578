package store

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"
)

func TestURLPaths(t *testing.T) {
	const q = "?endpoint=http://127.0.0.1:9000&use_path_style=true"
	tests := []struct {
		name   string
		dir    string
		file   string
		joined string
		remote bool
	}{
		{name: "local", dir: "/data/history", file: "2024-03-19.json", joined: "/data/history/2024-03-19.json"},
		{name: "s3 with query", dir: "s3://bucket/history" + q, file: "2024-03-19.json", joined: "s3://bucket/history/2024-03-19.json" + q, remote: true},
		{name: "bucket root", dir: "gs://bucket", file: "report.json", joined: "gs://bucket/report.json", remote: true},
		{name: "trailing slash", dir: "azblob://c/reports/", file: "report.html", joined: "azblob://c/reports/report.html", remote: true},
		{name: "unknown scheme is local", dir: "http://host/x", file: "y", joined: "http:/host/x/y"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsRemote(tc.dir); got != tc.remote {
				t.Errorf("IsRemote(%q) = %v, want %v", tc.dir, got, tc.remote)
			}
			if got := Join(tc.dir, tc.file); got != tc.joined {
				t.Errorf("Join = %q, want %q", got, tc.joined)
			}
		})
	}
	if got := Name("s3://b/k/users.csv.gz" + q); got != "s3://b/k/users.csv.gz" {
		t.Errorf("Name = %q", got)
	}
	if got := Resolve("/etc/dq", "s3://b/k"); got != "s3://b/k" {
		t.Errorf("Resolve of a URL = %q", got)
	}
	if got := Resolve("/etc/dq", "data/x.avro"); got != "/etc/dq/data/x.avro" {
		t.Errorf("Resolve = %q", got)
	}
}

func TestLiteralPrefix(t *testing.T) {
	for pattern, want := range map[string]string{
		"archive/2024-03-19/*.avro": "archive/2024-03-19/",
		"archive/**/x.log.gz":       "archive/",
		"archive/{a,b}/x":           "archive/",
		"archive/x.avro":            "archive/x.avro",
		"*":                         "",
	} {
		if got := pattern[:literalPrefix(pattern)]; got != want {
			t.Errorf("literal prefix of %q = %q, want %q", pattern, got, want)
		}
	}
	if ValidPattern("s3://b/archive/[a.avro") {
		t.Error("an unclosed [ is a valid pattern")
	}
}

// TestLocalRoundTrip: a local WriteAtomic creates the directory, and Glob,
// List and ReadFile see the file with its size; a failed write leaves the
// previous content.
func TestLocalRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "history")
	path := filepath.Join(dir, "2024-03-19.json")
	if err := WriteAtomic(ctx, path, func(w io.Writer) error { _, err := io.WriteString(w, "{}\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(ctx, path, func(w io.Writer) error { io.WriteString(w, "half"); return errors.New("full") }); err == nil {
		t.Fatal("failed write returned no error")
	}
	files, err := Glob(ctx, filepath.Join(dir, "*.json"))
	if err != nil || len(files) != 1 || files[0].Path != path || files[0].Size != 3 || files[0].Err != nil {
		t.Errorf("Glob = %v, %v", files, err)
	}
	names, err := List(ctx, dir)
	if err != nil || !reflect.DeepEqual(names, []string{"2024-03-19.json"}) {
		t.Errorf("List = %v, %v; want only the entry, no temp file", names, err)
	}
	if names, err := List(ctx, filepath.Join(dir, "nope")); err != nil || names != nil {
		t.Errorf("List of a missing directory = %v, %v; want none", names, err)
	}
	if b, err := ReadFile(ctx, path); err != nil || string(b) != "{}\n" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
}

// TestCreateNewOnlyOnce: CreateNew writes a local file that does not
// exist, then refuses to replace it; Remove deletes it and ignores a
// missing one.
func TestCreateNewOnlyOnce(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), ".lock")
	for i, tc := range []struct {
		content string
		want    bool
	}{{"first", true}, {"second", false}} {
		ok, err := CreateNew(ctx, p, []byte(tc.content))
		if err != nil || ok != tc.want {
			t.Fatalf("CreateNew #%d: %v, %v; want %v", i+1, ok, err, tc.want)
		}
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "first" {
		t.Fatalf("content %q, %v; want the first writer's", b, err)
	}
	for range 2 {
		if err := Remove(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := CreateNew(ctx, p, []byte("third")); err != nil || !ok {
		t.Fatalf("CreateNew after Remove: %v, %v", ok, err)
	}
}

// TestStoreReplaceIfWithoutVersions: where there is no version to replace
// against, nothing is replaced unconditionally. A local file has no
// version, and ReplaceIf refuses it; a gocloud driver other than S3's,
// GCS's and Azure's (memblob here) gives no version either, and a write
// made conditional on one through it fails rather than go through.
func TestStoreReplaceIfWithoutVersions(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), ".lock")
	if err := os.WriteFile(p, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, version, err := ReadVersioned(ctx, p); err != nil || string(b) != "mine" || version != "" {
		t.Errorf("ReadVersioned of a local file: %q, version %q, %v; want its content and no version", b, version, err)
	}
	if ok, err := ReplaceIf(ctx, p, []byte("theirs"), "1"); ok || err == nil {
		t.Errorf("ReplaceIf of a local file: %v, %v; want an error", ok, err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "mine" {
		t.Errorf("local file after ReplaceIf: %q, %v; want it unchanged", b, err)
	}

	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	if err := bucket.WriteAll(ctx, "lock", []byte("mine"), nil); err != nil {
		t.Fatal(err)
	}
	r, err := bucket.NewReader(ctx, "lock", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if version := readVersion(r); version != "" {
		t.Errorf("memblob reader version %q; want none", version)
	}
	if err := bucket.WriteAll(ctx, "lock", []byte("theirs"), &blob.WriterOptions{BeforeWrite: onVersion(`"1"`, false)}); err == nil {
		t.Error("a write conditional on a version went through a driver that cannot make it conditional")
	}
	if b, err := bucket.ReadAll(ctx, "lock"); err != nil || string(b) != "mine" {
		t.Errorf("memblob object after the conditional write: %q, %v; want it unchanged", b, err)
	}
}

// TestGlobLinksAndOddFiles: a looping or dangling link is one bad file
// beside the good ones, ** does not loop through a link to a directory
// above it, a link to a directory is no file, a named pipe is listed (it
// is read when opened), a link and its target carry the same ID, and
// without a loop a wildcard goes through a link to a directory.
func TestGlobLinksAndOddFiles(t *testing.T) {
	dir := t.TempDir()
	day := filepath.Join(dir, "day")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(day, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(day, "good.log"), []byte("x\n"), 0o644))
	must(os.Symlink("self.log", filepath.Join(day, "self.log")))
	must(os.Symlink("gone.log", filepath.Join(day, "dangling.log")))
	must(os.Symlink("..", filepath.Join(day, "sub", "up.log"))) // a directory cycle, named like a log
	must(os.Symlink("good.log", filepath.Join(day, "latest.log")))
	must(syscall.Mkfifo(filepath.Join(day, "pipe.log"), 0o644))

	files, err := Glob(context.Background(), filepath.Join(day, "**", "*.log"))
	if err != nil {
		t.Fatalf("Glob: %v", err)
	}
	got := map[string]File{}
	for _, f := range files {
		got[filepath.Base(f.Path)] = f
	}
	for name, bad := range map[string]bool{"good.log": false, "latest.log": false, "pipe.log": false, "self.log": true, "dangling.log": true} {
		f, ok := got[name]
		if !ok || (f.Err != nil) != bad {
			t.Errorf("%s: listed %v, error %v; want listed, error %v", name, ok, f.Err, bad)
		}
	}
	if _, ok := got["up.log"]; ok || len(files) != 5 {
		t.Errorf("%d files, up.log listed %v; want 5 and the link to a directory left out", len(files), ok)
	}
	if g, l := got["good.log"], got["latest.log"]; g.ID == nil || g.ID != l.ID {
		t.Errorf("IDs of a file and its link: %v, %v; want equal", g.ID, l.ID)
	}

	// With the looping link still there, a link to a directory is
	// followed, by ** and by *.
	must(os.MkdirAll(filepath.Join(dir, "elsewhere"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "elsewhere", "a.log"), nil, 0o644))
	must(os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(day, "sub", "linkdir")))
	for _, pat := range []string{filepath.Join(day, "**", "a.log"), filepath.Join(day, "*", "*", "a.log")} {
		if files, err := Glob(context.Background(), pat); err != nil || len(files) != 1 || files[0].Err != nil {
			t.Errorf("%s beside a looping link: %+v, %v; want sub/linkdir/a.log", pat, files, err)
		}
	}

	// in/today -> a real directory, as over linked mounts.
	in := filepath.Join(dir, "in")
	must(os.MkdirAll(filepath.Join(dir, "real"), 0o755))
	must(os.MkdirAll(in, 0o755))
	must(os.WriteFile(filepath.Join(dir, "real", "e.log"), nil, 0o644))
	must(os.Symlink(filepath.Join(dir, "real"), filepath.Join(in, "today")))
	if files, err := Glob(context.Background(), filepath.Join(in, "*", "e.log")); err != nil || len(files) != 1 {
		t.Errorf("in/*/e.log through a link to a directory: %+v, %v; want one file", files, err)
	}
}

// TestOpenNamedPipeGivesWayToCancel: opening a named pipe without a
// writer waits, and a cancelled context ends the wait.
func TestOpenNamedPipeGivesWayToCancel(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pipe.log")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := Open(ctx, p)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Open returned before a writer came: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Open after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Open did not give way to the cancelled context")
	}
}

func TestResolvePatternEscapesBase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "team[ml]")
	if err := os.MkdirAll(filepath.Join(dir, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "in", "a.log"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := Glob(context.Background(), ResolvePattern(dir, "in/*.log"))
	if err != nil || len(files) != 1 || files[0].Path != filepath.Join(dir, "in", "a.log") {
		t.Errorf("Glob(ResolvePattern(%q, in/*.log)) = %+v, %v; want in/a.log", dir, files, err)
	}
	if got := ResolvePattern("/base", "s3://b/k/*.log"); got != "s3://b/k/*.log" {
		t.Errorf("a URL pattern: %q", got)
	}
}

// TestWriteAtomicWritesBesideTheTarget: the temporary file is made in the
// target's directory, where the next run cleans up after a killed one,
// even when $TMPDIR is on the same file system.
func TestWriteAtomicWritesBesideTheTarget(t *testing.T) {
	tmp, dir := t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp)
	path := filepath.Join(dir, "report.html")
	err := WriteAtomic(context.Background(), path, func(w io.Writer) error {
		inTmp, _ := os.ReadDir(tmp)
		beside, _ := os.ReadDir(dir)
		if len(inTmp) != 0 || len(beside) != 1 {
			t.Errorf("while writing: %d files in $TMPDIR, %d beside the target; want 0 and 1", len(inTmp), len(beside))
		}
		_, err := io.WriteString(w, "<p>")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "<p>" {
		t.Errorf("report.html: %q, %v", b, err)
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		path string
		want string // "" for no error
	}{
		{"/data/archive/*.log", ""},
		{"relative/x.log", ""},
		{"s3://bucket/key", ""},
		{"s3://bucket", ""},
		{"gs://bucket/k?x=1", ""},
		{"s3:///key", "s3:///key: no bucket in URL; write s3://BUCKET/..."},
		{"s3://", "s3://: no bucket in URL; write s3://BUCKET/..."},
		{"gs://?endpoint=http://127.0.0.1:1", "gs://: no bucket in URL; write gs://BUCKET/..."},
		{"azblob:///c/k", "azblob:///c/k: no container in URL; write azblob://CONTAINER/..."},
	}
	for _, tc := range tests {
		err := CheckURL(tc.path)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckURL(%q) = %v, want nil", tc.path, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("CheckURL(%q) = %v, want %q", tc.path, err, tc.want)
		}
	}
	// Every operation refuses such a URL with the same words, before any
	// request.
	if _, _, err := Open(context.Background(), "s3:///key"); err == nil || err.Error() != "s3:///key: no bucket in URL; write s3://BUCKET/..." {
		t.Errorf("Open(s3:///key) = %v", err)
	}
}
