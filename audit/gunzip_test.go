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
	"testing"

	"github.com/klauspost/compress/gzip"
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
		{name: "input not read to its end", g: quitter, in: append(bytes.Clone(whole), bytes.Repeat([]byte("junk"), 1<<16)...), why: "before reading all its input"},
	}
	// igzip, when installed (CI installs it), exits 0 on trailing garbage
	// and reads every member: the trailer check must catch both.
	if g, _ := FindGunzip("auto"); g != nil {
		tests = append(tests,
			gunzipCase{name: "igzip, whole stream", g: g, in: whole, accepted: true},
			gunzipCase{name: "igzip, trailing garbage", g: g, in: append(bytes.Clone(whole), "junk"...), why: "gzip trailer says"},
			gunzipCase{name: "igzip, two members", g: g, in: append(gz(t, text[:1000]), gz(t, text[1000:])...), why: "gzip trailer says"},
		)
	} else if os.Getenv("CI") == "true" {
		t.Fatal("igzip is not on PATH (apt-get install isal)")
	} else {
		t.Log("igzip is not on PATH: its cases are not run")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := startGunzip(context.Background(), tc.g, bytes.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			out, err := io.ReadAll(r)
			if tc.accepted {
				if err != nil || r.Failed() != nil {
					t.Fatalf("read: %v, failed: %v; want the output accepted", err, r.Failed())
				}
				if !bytes.Equal(out, text) {
					t.Fatalf("got %d bytes, want %d", len(out), len(text))
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
	if _, err := startGunzip(context.Background(), missing, bytes.NewReader(whole)); err == nil {
		t.Error("a missing program started")
	}
}

// TestGunzipStopsWithTheScan: closing the reader early, as a scan that
// stops does, ends the program instead of leaving it blocked on a pipe.
func TestGunzipStopsWithTheScan(t *testing.T) {
	if _, err := exec.LookPath("gzip"); err != nil {
		t.Skip("gzip not on PATH")
	}
	big := gz(t, bytes.Repeat([]byte("0123456789abcdef\n"), 1<<20))
	r, err := startGunzip(context.Background(), &Gunzip{Path: script(t, "exec gzip -dc")}, bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if r.cmd.ProcessState == nil {
		t.Error("the program still runs after Close")
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
}
