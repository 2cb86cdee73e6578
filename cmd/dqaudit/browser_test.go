package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSampleReportInChromium renders the HTML report of the shipped sample
// archive in headless Chromium and checks the rendered DOM.
func TestSampleReportInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not on PATH; CI must install it")
		}
		t.Skip("chromium is not on PATH")
	}
	out := t.TempDir()
	code, _, stderr := runCLI(t, "scan", "--config", filepath.Join(repoRoot(t), "config.example.yaml"),
		"--date", sampleDate, "--out", out, "--format", "html", "--history", t.TempDir())
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+filepath.Join(out, "report.html"))
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	for _, want := range []string{
		`<header class="banner s-fail" id="summary">`,
		`<span class="word">FAIL</span>`,
		`<table class="checks">`,
		`rating-in-range`,
		`ratings.avro block 0 record 5`,
		`<svg class="chart"`,
		`<section id="drift"`,
	} {
		if !strings.Contains(string(dom), want) {
			t.Errorf("rendered sample report lacks %q", want)
		}
	}
}
