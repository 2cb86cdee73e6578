package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// TestReportIsTheSameForAnyGunzip scans good and damaged copies of the
// sample's gzipped log with the built-in decoder, with igzip (installed by
// CI), with GNU gzip through --gunzip, and with a program that exits 0
// after writing only part of the stream. Every report must be the
// built-in decoder's, byte for byte: an external program's output is used
// only when it is provably the whole stream, and otherwise the file is
// read again by the built-in decoder.
func TestReportIsTheSameForAnyGunzip(t *testing.T) {
	root := repoRoot(t)
	whole, err := os.ReadFile(filepath.Join(root, "testdata/archive", sampleDate, "kafka.log.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(whole))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	half := bytes.IndexByte(text[len(text)/2:], '\n') + len(text)/2 + 1
	corrupt := bytes.Clone(whole)
	corrupt[len(corrupt)/2] ^= 0xff
	reserved := bytes.Clone(whole)
	reserved[3] |= 0xe0 // FLG's reserved bits: igzip lets them pass
	files := map[string][]byte{
		"whole":            whole,
		"truncated":        whole[:len(whole)*2/3],
		"corrupt":          corrupt,
		"trailing-garbage": append(bytes.Clone(whole), "junk\n"...),
		"two-members":      append(gzipped(t, text[:half]), gzipped(t, text[half:])...),
		"empty":            {},
		"reserved-flags":   reserved,
		// Zero padding after the last member is read past by every
		// decoder, the 3 MiB that igzip leaves unread too.
		"zero-padding":       append(bytes.Clone(whole), make([]byte, 10240)...),
		"zero-padding-3MiB":  append(bytes.Clone(whole), make([]byte, 3<<20)...),
		"zeros-then-garbage": append(append(bytes.Clone(whole), make([]byte, 512)...), "junk\n"...),
	}
	// sound files: an honest program's output is used, and the report
	// has no input error
	sound := map[string]bool{"whole": true, "zero-padding": true, "zero-padding-3MiB": true}
	// damaged files whose error names the byte of the file where the
	// damage starts
	garbageAt := map[string]string{
		"trailing-garbage":   "gzip: trailing garbage at byte " + strconv.Itoa(len(whole)) + " of the file",
		"zeros-then-garbage": "gzip: trailing garbage at byte " + strconv.Itoa(len(whole)+512) + " of the file, after 512 zero bytes",
	}

	dir := t.TempDir()
	liar := filepath.Join(dir, "liar.sh")
	if err := os.WriteFile(liar, []byte("#!/bin/sh\ngzip -dc | head -c 20000\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// marked is GNU gzip that leaves a mark, to show it was run.
	marker := filepath.Join(dir, "ran")
	marked := filepath.Join(dir, "marked.sh")
	if err := os.WriteFile(marked, []byte("#!/bin/sh\ntouch '"+marker+"'\nexec gzip -dc\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	decoders := []string{"go", marked, liar}
	switch _, err := exec.LookPath("igzip"); {
	case err == nil:
		// Named, so that it decompresses these small files too: auto
		// leaves files under audit.DefaultGunzipMinBytes built in.
		decoders = append(decoders, "igzip")
	case os.Getenv("CI") == "true":
		t.Fatal("igzip is not on PATH (apt-get install isal)")
	default:
		t.Log("igzip is not on PATH: not tested")
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			day := filepath.Join(dir, name, sampleDate)
			if err := os.MkdirAll(day, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(day, "kafka.log.gz"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(dir, name, "config.yaml")
			body := "version: 1\ninputs:\n  - {name: log, format: kafka-log, paths: [\"{date}/*.gz\"]}\n" +
				"rules:\n  - {name: rating-in-range, event: MovieRatingEvent, field: rating, between: [1, 5]}\n"
			if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			var first []byte
			for _, dec := range decoders {
				out := t.TempDir()
				code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out,
					"--format", "json", "--gunzip", dec)
				if code != 1 && code != 3 { // 3: the damaged file is an input error
					t.Fatalf("--gunzip %s: exit %d: %s", dec, code, stderr)
				}
				_, b := readReport(t, out)
				rereads := rereadsOf(t, b)
				b = withoutRun(t, b)
				// The built-in decoder reads once; a program's output is
				// refused, and the file read again, unless the program is
				// honest and the file whole.
				want := 1
				if dec == "go" || dec != liar && sound[name] {
					want = 0
				}
				if errs := inputErrorsOf(t, b); sound[name] && len(errs) != 0 {
					t.Errorf("--gunzip %s: input errors %q, want none", dec, errs)
				} else if msg := garbageAt[name]; msg != "" && (len(errs) != 1 || errs[0] != msg) {
					t.Errorf("--gunzip %s: input errors %q, want %q", dec, errs, msg)
				}
				if len(rereads) != want {
					t.Errorf("--gunzip %s: files read again %v, want %d", dec, rereads, want)
				}
				if dec == marked && name == "whole" {
					if _, err := os.Stat(marker); err != nil {
						t.Errorf("--gunzip %s did not run the program: %v", dec, err)
					}
				}
				if first == nil {
					first = b
					continue
				}
				if !bytes.Equal(first, b) {
					t.Errorf("--gunzip %s: report differs from the built-in decoder's:\n%s\nwant\n%s", dec, b, first)
				}
			}
		})
	}
}

// inputErrorsOf returns the errors of report.json's inputs.
func inputErrorsOf(t *testing.T, b []byte) []string {
	t.Helper()
	var doc struct {
		Inputs []struct{ Error *string } `json:"inputs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var errs []string
	for _, in := range doc.Inputs {
		if in.Error != nil {
			errs = append(errs, *in.Error)
		}
	}
	return errs
}

// rereadsOf returns the paths of report.json's run.gunzip_rereads.
func rereadsOf(t *testing.T, b []byte) []string {
	t.Helper()
	var doc struct {
		Run struct {
			GunzipRereads []struct{ Path, Reason string } `json:"gunzip_rereads"`
		} `json:"run"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, r := range doc.Run.GunzipRereads {
		if r.Reason == "" {
			t.Errorf("reread of %s without a reason", r.Path)
		}
		paths = append(paths, r.Path)
	}
	return paths
}

// TestInputOfSeveralMembersStopsUsingTheProgram: once a file of an input
// turns out to hold several gzip members, the input's other files skip
// the program instead of being decompressed twice each.
func TestInputOfSeveralMembersStopsUsingTheProgram(t *testing.T) {
	root := repoRoot(t)
	whole, err := os.ReadFile(filepath.Join(root, "testdata/archive", sampleDate, "kafka.log.gz"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	day := filepath.Join(dir, sampleDate)
	if err := os.MkdirAll(day, 0o755); err != nil {
		t.Fatal(err)
	}
	doubled := append(bytes.Clone(whole), whole...)
	for _, name := range []string{"a.log.gz", "b.log.gz", "c.log.gz"} {
		if err := os.WriteFile(filepath.Join(day, name), doubled, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\ninputs:\n  - {name: log, format: kafka-log, paths: [\"{date}/*.gz\"]}\n"+
		"rules:\n  - {name: rating-in-range, event: MovieRatingEvent, field: rating, between: [1, 5]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out, "--format", "json",
		"--workers", "1", "--gunzip", "gzip")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, b := readReport(t, out)
	if rereads := rereadsOf(t, b); len(rereads) != 1 {
		t.Errorf("rereads %v, want only the first file of the input", rereads)
	}
	if !strings.Contains(stderr, "read again with the built-in gzip decoder") {
		t.Errorf("stderr does not say a file was read again:\n%s", stderr)
	}
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
