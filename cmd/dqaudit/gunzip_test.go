package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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
	files := map[string][]byte{
		"whole":            whole,
		"truncated":        whole[:len(whole)*2/3],
		"corrupt":          corrupt,
		"trailing-garbage": append(bytes.Clone(whole), "junk\n"...),
		"two-members":      append(gzipped(t, text[:half]), gzipped(t, text[half:])...),
		"empty":            {},
	}

	dir := t.TempDir()
	liar := filepath.Join(dir, "liar.sh")
	if err := os.WriteFile(liar, []byte("#!/bin/sh\ngzip -dc | head -c 20000\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	decoders := []string{"go", "gzip", liar}
	switch _, err := exec.LookPath("igzip"); {
	case err == nil:
		decoders = append(decoders, "auto")
	case os.Getenv("CI") == "true":
		t.Fatal("igzip is not on PATH (apt-get install isal)")
	default:
		t.Log("igzip is not on PATH: auto is the built-in decoder, not tested apart")
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
			var want []byte
			for _, dec := range decoders {
				out := t.TempDir()
				code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out,
					"--format", "json", "--gunzip", dec)
				if code != 1 && code != 3 { // 3: the damaged file is an input error
					t.Fatalf("--gunzip %s: exit %d: %s", dec, code, stderr)
				}
				_, b := readReport(t, out)
				b = withoutRun(t, b)
				if want == nil {
					want = b
					continue
				}
				if !bytes.Equal(want, b) {
					t.Errorf("--gunzip %s: report differs from the built-in decoder's:\n%s\nwant\n%s", dec, b, want)
				}
			}
		})
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
