// Package testutil holds helpers shared by dqaudit's tests: golden files
// that `go test ./pkg -update` rewrites. It imports nothing of dqaudit,
// so any package's tests can use it; the Result fixture is in the
// fixture subpackage.
package testutil

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The flag is registered in every test binary that imports testutil, so
// `go test ./reports -update` works. A package whose tests do not import
// testutil rejects the flag: name the packages that have goldens.
var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Golden compares got with the file at path (relative to the test's
// package directory). With -update it writes got to path instead.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test with -update to accept it):\n%s", path, Diff(string(want), string(got)))
	}
}

// Diff describes the first lines where want and got differ, with a little
// context; enough to see what changed without a diff tool.
func Diff(want, got string) string {
	wl := strings.Split(want, "\n")
	gl := strings.Split(got, "\n")
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	if i == len(wl) && i == len(gl) {
		return "(no difference)"
	}
	var b strings.Builder
	for j := max(0, i-2); j < i; j++ {
		fmt.Fprintf(&b, "   %4d  %s\n", j+1, wl[j])
	}
	for j := i; j < min(len(wl), i+4); j++ {
		fmt.Fprintf(&b, "-  %4d  %s\n", j+1, wl[j])
	}
	for j := i; j < min(len(gl), i+4); j++ {
		fmt.Fprintf(&b, "+  %4d  %s\n", j+1, gl[j])
	}
	fmt.Fprintf(&b, "(want %d lines, got %d)", len(wl), len(gl))
	return b.String()
}
