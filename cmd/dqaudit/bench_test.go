package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
)

// BenchmarkScanSmall is a whole `dqaudit scan` of the sample archive
// (10,000 events in five files) with config.example.yaml, in process:
// config, reference set, scan, drift against an empty history, and all
// three reports. It is what a small nightly run costs beyond starting the
// process; docs/bench.sh times the same kind of run from the shell.
func BenchmarkScanSmall(b *testing.B) {
	root, err := filepath.Abs("../..")
	if err != nil {
		b.Fatal(err)
	}
	config := filepath.Join(root, "config.example.yaml")
	tmp := b.TempDir()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// A history of its own for each run, so that every run is a first
		// run, like the one the first iteration makes.
		i++
		dir := filepath.Join(tmp, strconv.Itoa(i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		code := run(context.Background(), []string{"scan", "--config", config, "--date", sampleDate, "--quiet",
			"--out", filepath.Join(dir, "reports"), "--history", filepath.Join(dir, "history")}, io.Discard, io.Discard)
		if code != int(audit.ExitFail) {
			b.Fatalf("exit %d, want %d (the sample fails the gate)", code, audit.ExitFail)
		}
	}
}
