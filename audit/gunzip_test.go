package audit

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/dqaudit/dqaudit/audit/store"
	"github.com/dqaudit/dqaudit/internal/gzmembers"
	"github.com/dqaudit/dqaudit/rules"
)

func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gunzip.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGunzipAcceptsOnlyWholeStreams runs programs over good and bad
// streams: the output is accepted only when the program exits cleanly and
// its length matches the gzip trailer; everything else must be flagged
// so that the scan falls back to the built-in decoder.
func TestGunzipAcceptsOnlyWholeStreams(t *testing.T) {
	if _, err := exec.LookPath("gzip"); err != nil {
		t.Skip("gzip not on PATH")
	}
	text := bytes.Repeat([]byte("2024-03-19T10:00:00,1,GET /rate/x=5\n"), 5000)
	whole := gz(t, text)
	reserved := bytes.Clone(whole)
	reserved[3] |= 0xe0 // FLG's reserved bits: the built-in decoder refuses them
	honest := &Gunzip{Path: script(t, "exec gzip -dc")}
	liar := &Gunzip{Path: script(t, "gzip -dc | head -c 1000; exit 0")}
	// quitter decompresses the first member and stops reading: the
	// trailer it saw last is that member's, which matches its output.
	quitter := &Gunzip{Path: script(t, "head -c "+strconv.Itoa(len(whole))+" | gzip -dc; exit 0")}
	missing := &Gunzip{Path: filepath.Join(t.TempDir(), "no-such-program")}
	type gunzipCase struct {
		name     string
		g        *Gunzip
		in       []byte
		accepted bool
		why      string // in Failed's message
	}
	tests := []gunzipCase{
		{name: "whole stream", g: honest, in: whole, accepted: true},
		{name: "truncated", g: honest, in: whole[:len(whole)/2], why: "exit status"},
		{name: "trailing garbage", g: honest, in: append(bytes.Clone(whole), "junk"...), why: ""},
		{name: "two members", g: honest, in: append(gz(t, text[:1000]), gz(t, text[1000:])...), why: "gzip trailer says"},
		{name: "empty", g: honest, in: nil, why: ""},
		{name: "short output, exit 0", g: liar, in: whole, why: "gzip trailer says"},
		{name: "input not read to its end", g: quitter, in: append(bytes.Clone(whole), bytes.Repeat([]byte("junk"), 1<<16)...), why: "before taking all its input"},
	}
	// igzip, when installed (CI installs it), exits 0 on trailing garbage
	// and reads every member: the trailer check must catch both.
	if g, _ := FindGunzip("auto"); g != nil {
		tests = append(tests,
			gunzipCase{name: "igzip, whole stream", g: g, in: whole, accepted: true},
			gunzipCase{name: "igzip, trailing garbage", g: g, in: append(bytes.Clone(whole), "junk"...), why: "gzip trailer says"},
			gunzipCase{name: "igzip, two members", g: g, in: append(gz(t, text[:1000]), gz(t, text[1000:])...), why: "gzip trailer says"},
			gunzipCase{name: "igzip, reserved header flags", g: g, in: reserved, why: "header the built-in decoder refuses"},
		)
	} else if os.Getenv("CI") == "true" {
		t.Fatal("igzip is not on PATH (apt-get install isal)")
	} else {
		t.Log("igzip is not on PATH: its cases are not run")
	}
	// Each case runs with the stream fed through a pipe (objects, and any
	// reader) and with a local file handed to the program as its input.
	for _, tc := range tests {
		for _, fromFile := range []bool{false, true} {
			name := tc.name + ", piped"
			if fromFile {
				name = tc.name + ", from the file"
			}
			t.Run(name, func(t *testing.T) {
				r, read := startGunzipCase(t, tc.g, tc.in, fromFile)
				defer r.Close()
				out, err := io.ReadAll(r)
				if tc.accepted {
					if err != nil || r.Failed() != nil {
						t.Fatalf("read: %v, failed: %v; want the output accepted", err, r.Failed())
					}
					if !bytes.Equal(out, text) {
						t.Fatalf("got %d bytes, want %d", len(out), len(text))
					}
					if fromFile && read.Load() != int64(len(tc.in)) {
						t.Errorf("counted %d bytes read of the file, want %d", read.Load(), len(tc.in))
					}
					return
				}
				if r.Failed() == nil || err == nil {
					t.Fatalf("read %d bytes, err %v, failed %v; want a failure", len(out), err, r.Failed())
				}
				if !strings.Contains(r.Failed().Error(), tc.why) {
					t.Errorf("failed: %v; want it to mention %q", r.Failed(), tc.why)
				}
			})
		}
	}
	if _, err := startGunzip(context.Background(), missing, bytes.NewReader(whole)); err == nil {
		t.Error("a missing program started")
	}
}

// startGunzipCase starts g over in: piped from a reader, or from a file
// opened as a scan opens it, whose bytes read it counts.
func startGunzipCase(t *testing.T, g *Gunzip, in []byte, fromFile bool) (*gunzipReader, *atomic.Int64) {
	t.Helper()
	var read atomic.Int64
	if !fromFile {
		r, err := startGunzip(context.Background(), g, bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		return r, &read
	}
	path := filepath.Join(t.TempDir(), "in.gz")
	if err := os.WriteFile(path, in, 0o644); err != nil {
		t.Fatal(err)
	}
	f, _, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	osf, ok := store.RegularFile(f)
	if !ok {
		t.Fatal("store.RegularFile: not a regular file")
	}
	r, err := startGunzipFile(context.Background(), g, osf, &read, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r, &read
}

// TestGunzipStopsWithTheScan: closing the reader early, as a scan that
// stops does, ends the program even when it neither reads nor writes,
// instead of waiting for it.
func TestGunzipStopsWithTheScan(t *testing.T) {
	stuck := &Gunzip{Path: script(t, "exec sleep 300")}
	r, err := startGunzip(context.Background(), stuck, bytes.NewReader(gz(t, []byte("x\n"))))
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		r.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close still waits for the program after 20 s")
	}
	if r.cmd.ProcessState == nil {
		t.Error("the program was not waited for")
	}
}

func TestFindGunzip(t *testing.T) {
	if g, err := FindGunzip("go"); g != nil || err != nil {
		t.Errorf(`FindGunzip("go") = %v, %v; want the built-in decoder`, g, err)
	}
	if _, err := FindGunzip("no-such-gunzip-program"); err == nil || !strings.Contains(err.Error(), "no-such-gunzip-program") {
		t.Errorf("an unknown program gave %v; want an error naming it", err)
	}
	g, err := FindGunzip("auto")
	if err != nil {
		t.Fatal(err)
	}
	_, lookErr := exec.LookPath("igzip")
	if (g != nil) != (lookErr == nil) {
		t.Errorf("auto chose %v while igzip on PATH is %v", g, lookErr == nil)
	}
	if g != nil && g.MinBytes != DefaultGunzipMinBytes {
		t.Errorf("auto leaves files under %d bytes to the program; want those under %d built in", g.MinBytes, DefaultGunzipMinBytes)
	}
	if g, err := FindGunzip("gzip"); err == nil && g.MinBytes != 0 {
		t.Errorf("a named program is used from %d bytes on; want every file", g.MinBytes)
	}
}

// TestSmallGzipSkipsTheProgram: a .gz below Gunzip.MinBytes is inflated
// by the built-in decoder, since starting a program costs more (a day of
// thousands of small files ran 3 times slower through igzip); from
// MinBytes on, the program decompresses it.
func TestSmallGzipSkipsTheProgram(t *testing.T) {
	p := filepath.Join(t.TempDir(), "small.log.gz")
	text := []byte("2024-03-19T00:00:00,1,GET /rate/m1=4\n")
	if err := os.WriteFile(p, gz(t, text), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		min     int64
		program bool
	}{{st.Size() + 1, false}, {st.Size(), true}, {0, true}} {
		g := &Gunzip{Path: script(t, "exec gzip -dc"), MinBytes: tc.min}
		r, closeFile, gr, err := openFile(context.Background(), p, nil, nil, g)
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(r)
		closeFile()
		if err != nil || !bytes.Equal(out, text) {
			t.Errorf("MinBytes %d: read %q, %v", tc.min, out, err)
		}
		if (gr != nil) != tc.program {
			t.Errorf("MinBytes %d, a file of %d bytes: went through the program %v, want %v", tc.min, st.Size(), gr != nil, tc.program)
		}
	}
}

// lineReader is a Reader that makes one event per line, for scans that
// test what surrounds readers.
type lineReader struct{ shape *rules.Shape }

func (r lineReader) Read(ctx context.Context, in io.Reader, file int32, newSink func() Sink) (FileInfo, error) {
	data, err := io.ReadAll(in)
	var sink Sink
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if sink == nil {
			sink = newSink()
		}
		e := NewEvent(r.shape)
		e.Values[0] = rules.Str(string(line))
		e.Pos = Position{File: file, Line: int64(i + 1)}
		sink.Event(e)
	}
	if err != nil {
		return FileInfo{}, &ReadError{Offset: int64(len(data)), Block: -1, Err: err}
	}
	return FileInfo{}, nil
}

// TestRereadLeavesProgressRight: after a refused program output, the
// progress counters hold one reading of the file, not two.
func TestRereadLeavesProgressRight(t *testing.T) {
	if _, err := exec.LookPath("gzip"); err != nil {
		t.Skip("gzip not on PATH")
	}
	text := bytes.Repeat([]byte("some line\n"), 100_000)
	data := append(gz(t, text[:500_000]), gz(t, text[500_000:])...) // two members: refused
	res, progress := scanOneGzip(t, data, &Gunzip{Path: script(t, "exec gzip -dc")})
	if len(res.GunzipRereads) != 1 {
		t.Fatalf("rereads %+v, want the file once", res.GunzipRereads)
	}
	if got, want := progress.BytesRead.Load(), int64(len(data)); got != want {
		t.Errorf("progress read %d bytes, want %d", got, want)
	}
	if got := progress.Events.Load(); got != 100_000 || res.TotalEvents() != 100_000 {
		t.Errorf("progress counted %d events and the result %d, want 100000", got, res.TotalEvents())
	}
}

// scanOneGzip scans data as the one .gz file of a day, a line an event,
// with g (nil: the built-in decoder), and returns the result and the
// scan's progress counters.
func scanOneGzip(t *testing.T, data []byte, g *Gunzip) (*Result, *Progress) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.gz")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := rules.Parse(strings.NewReader("version: 1\ninputs: [{name: x, format: kafka-log, paths: [x.gz]}]\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	book, err := rules.Compile(cfg, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	plan := &Plan{Date: "2024-03-19", Files: []PlannedFile{{Input: "x", Format: "lines", Path: path, Size: int64(len(data))}}}
	progress := NewProgress(plan)
	shape := rules.NewShape("Line", []rules.Field{{Name: "text", Kind: rules.KindString}})
	res, err := Scan(context.Background(), plan, book, Options{
		Workers:  1,
		Readers:  map[string]Reader{"lines": lineReader{shape: shape}},
		Progress: progress,
		Gunzip:   g,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, progress
}

// TestNamedPipeGetsTheBuiltInDecoder: a .gz named pipe can be read only
// once, so it never goes through the program, whose refused output would
// send the scan back to a pipe that has nothing more to give.
func TestNamedPipeGetsTheBuiltInDecoder(t *testing.T) {
	if _, err := exec.LookPath("gzip"); err != nil {
		t.Skip("gzip not on PATH")
	}
	text := []byte("2024-03-19T10:00:00,1,GET /rate/x=5\n")
	p := filepath.Join(t.TempDir(), "stream.log.gz")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	members := append(gz(t, text), gz(t, text)...) // two: the program's output would be refused
	go func() {
		if w, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			w.Write(members)
			w.Close()
		}
	}()
	r, closeFile, gr, err := openFile(context.Background(), p, nil, nil, &Gunzip{Path: script(t, "exec gzip -dc")})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFile()
	if gr != nil {
		t.Fatal("a named pipe went through the gunzip program")
	}
	if out, err := io.ReadAll(r); err != nil || !bytes.Equal(out, append(bytes.Clone(text), text...)) {
		t.Errorf("read %q, %v; want both members", out, err)
	}
}

// TestGunzipZeroPadding: zero bytes after the last member (tape, dd and
// some uploaders pad files so; GNU gzip ignores them) are read past by
// every decoder, piped or from the file, and counted the same by each.
// Anything else after the last member is still refused, and the built-in
// decoder, which has the last word, names the byte of the file where it
// starts.
func TestGunzipZeroPadding(t *testing.T) {
	if _, err := exec.LookPath("gzip"); err != nil {
		t.Skip("gzip not on PATH")
	}
	text := bytes.Repeat([]byte("2024-03-19T10:00:00,1,GET /rate/x=5\n"), 5000)
	whole := gz(t, text)
	zeros := func(n int) []byte { return make([]byte, n) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	two := cat(gz(t, text[:1000]), gz(t, text[1000:]))
	type paddingCase struct {
		name    string
		in      []byte
		padding int64 // for a file every decoder reads whole
		// the built-in decoder fails, with an error that starts with
		// builtIn (any error when it is empty)
		broken  bool
		builtIn string
		// the program's output is refused and the file read again
		refused bool
	}
	tests := []paddingCase{
		{name: "one zero byte", in: cat(whole, zeros(1)), padding: 1},
		{name: "a tape block of zeros", in: cat(whole, zeros(10240)), padding: 10240},
		// igzip reads 1 MiB at a time and stops at the first byte that
		// starts no member: it leaves most of this unread.
		{name: "3 MiB of zeros", in: cat(whole, zeros(3<<20)), padding: 3 << 20},
		{name: "two members, then zeros", in: cat(two, zeros(512)), padding: 512, refused: true},
		{name: "zeros, then junk", in: cat(whole, zeros(512), []byte("junk")),
			broken: true, builtIn: "gzip: trailing garbage at byte " + strconv.Itoa(len(whole)+512) + " of the file, after 512 zero bytes", refused: true},
		{name: "3 MiB of zeros, then junk", in: cat(whole, zeros(3<<20), []byte("junk")),
			broken: true, builtIn: "gzip: trailing garbage at byte " + strconv.Itoa(len(whole)+3<<20) + " of the file, after 3145728 zero bytes", refused: true},
		{name: "zeros, then a member", in: cat(whole, zeros(512), gz(t, text[:1000])),
			broken: true, builtIn: "gzip: trailing garbage at byte " + strconv.Itoa(len(whole)+512) + " of the file, after 512 zero bytes", refused: true},
		{name: "junk", in: cat(whole, []byte("junk")),
			broken: true, builtIn: "gzip: trailing garbage at byte " + strconv.Itoa(len(whole)) + " of the file", refused: true},
		{name: "a broken second member", in: cat(whole, []byte("\x1f\x8b\x08")),
			broken: true, builtIn: "gzip: member at byte " + strconv.Itoa(len(whole)) + " of the file: unexpected EOF", refused: true},
		{name: "truncated, then zeros", in: cat(whole[:len(whole)-20], zeros(4096)), broken: true, refused: true},
	}
	decoders := []*Gunzip{{Path: script(t, "exec gzip -dc")}}
	if g, _ := FindGunzip("auto"); g != nil {
		g.MinBytes = 0 // these files are small: igzip for them too
		decoders = append(decoders, g)
	} else if os.Getenv("CI") == "true" {
		t.Fatal("igzip is not on PATH (apt-get install isal)")
	}
	for _, tc := range tests {
		t.Run(tc.name+", built in", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.gz")
			if err := os.WriteFile(path, tc.in, 0o644); err != nil {
				t.Fatal(err)
			}
			var read atomic.Int64
			r, closeFile, _, err := openFile(context.Background(), path, &read, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer closeFile()
			out, err := io.ReadAll(r)
			if tc.broken {
				if err == nil || !strings.HasPrefix(err.Error(), tc.builtIn) {
					t.Fatalf("read %d bytes, err %v; want an error starting %q", len(out), err, tc.builtIn)
				}
				return
			}
			if err != nil || !bytes.Equal(out, text) {
				t.Fatalf("read %d bytes, err %v; want %d bytes", len(out), err, len(text))
			}
			if got := r.(*gzmembers.Reader).Padding(); got != tc.padding {
				t.Errorf("padding %d, want %d", got, tc.padding)
			}
			if read.Load() != int64(len(tc.in)) {
				t.Errorf("counted %d bytes read of the file, want %d", read.Load(), len(tc.in))
			}
		})
		for _, g := range decoders {
			for _, fromFile := range []bool{false, true} {
				name := tc.name + ", " + filepath.Base(g.Path) + ", piped"
				if fromFile {
					name = tc.name + ", " + filepath.Base(g.Path) + ", from the file"
				}
				t.Run(name, func(t *testing.T) {
					r, read := startGunzipCase(t, g, tc.in, fromFile)
					defer r.Close()
					out, err := io.ReadAll(r)
					if tc.refused {
						if r.Failed() == nil || err == nil {
							t.Fatalf("read %d bytes, err %v; want the output refused", len(out), err)
						}
						return
					}
					if err != nil || r.Failed() != nil {
						t.Fatalf("read: %v, failed: %v; want the output accepted", err, r.Failed())
					}
					if !bytes.Equal(out, text) {
						t.Fatalf("got %d bytes, want %d", len(out), len(text))
					}
					if r.Padding() != tc.padding {
						t.Errorf("padding %d, want %d", r.Padding(), tc.padding)
					}
					if fromFile && read.Load() != int64(len(tc.in)) {
						t.Errorf("counted %d bytes read of the file, want %d", read.Load(), len(tc.in))
					}
				})
			}
		}
	}
}

// TestGunzipPaddingLeavesProgressRight: a padded file is read once, by
// the program when there is one, and progress counts all of its bytes,
// the padding the program left unread included.
func TestGunzipPaddingLeavesProgressRight(t *testing.T) {
	text := bytes.Repeat([]byte("some line\n"), 100_000)
	data := append(gz(t, text), make([]byte, 3<<20)...)
	decoders := map[string]*Gunzip{"built in": nil}
	if g, _ := FindGunzip("auto"); g != nil {
		g.MinBytes = 0 // these files are small: igzip for them too
		decoders["igzip"] = g
	}
	for name, g := range decoders {
		t.Run(name, func(t *testing.T) {
			res, progress := scanOneGzip(t, data, g)
			if len(res.GunzipRereads) != 0 {
				t.Errorf("rereads %+v, want none", res.GunzipRereads)
			}
			if len(res.Inputs) != 1 || res.Inputs[0].Err != "" {
				t.Errorf("inputs %+v, want one without an error", res.Inputs)
			}
			if got, want := progress.BytesRead.Load(), int64(len(data)); got != want {
				t.Errorf("progress read %d bytes, want %d", got, want)
			}
			if got := progress.Events.Load(); got != 100_000 || res.TotalEvents() != 100_000 {
				t.Errorf("progress counted %d events and the result %d, want 100000", got, res.TotalEvents())
			}
		})
	}
}
