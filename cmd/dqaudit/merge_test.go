package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
)

// shardConfig is the example config with every rule kind that merges
// state beyond counts (unique keys, samples), reading the sample archive.
func shardConfig(t *testing.T) string {
	return writeConfig(t, `  - name: rating-in-range
    event: MovieRatingEvent
    field: rating
    between: [1, 5]
  - name: known-user
    event: "*"
    field: userId
    in_reference: known_users
    severity: warn
    tolerance: 0.5%
  - name: one-rating-per-user-and-movie
    event: MovieRatingEvent
    unique: [userId, movieId]
    severity: warn
  - name: recommendations-present
    event: RecommendationRequest
    where: status == 200
    field: recommendations
    not_null: true
`, "")
}

func runShards(t *testing.T, cfg string, n int, dir string) []string {
	t.Helper()
	var paths []string
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("part-%d.json", i))
		code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--shard", fmt.Sprintf("%d/%d", i, n), "--partial", p, "--quiet")
		if code != 0 {
			t.Fatalf("shard %d/%d: exit %d: %s", i, n, code, stderr)
		}
		paths = append(paths, p)
	}
	return paths
}

// TestShardRemovesItsStaleTempFiles: a shard killed while writing its
// partial leaves renameio's temp file beside it; the next run of the shard
// removes it (a young one may be a running write, and stays), and leaves
// other files alone.
func TestShardRemovesItsStaleTempFiles(t *testing.T) {
	cfg := shardConfig(t)
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	stale := filepath.Join(dir, ".part-0.json8237461923")
	young := filepath.Join(dir, ".part-0.json1234")
	other := filepath.Join(dir, ".part-1.json5550001")
	for _, p := range []string{stale, young, other} {
		if err := os.WriteFile(p, []byte(`{"partial_version": `), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chtimes(stale, old, old)
	os.Chtimes(other, old, old)
	runShards(t, cfg, 1, dir)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file of part-0.json was not removed (%v)", err)
	}
	for _, p := range []string{young, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v; want it kept", p, err)
		}
	}
}

// TestMergedShardsEqualOneScan: report.json of a merge of n shards is
// byte-identical to a single scan's outside "run", for n with and without
// empty shards.
func TestMergedShardsEqualOneScan(t *testing.T) {
	cfg := shardConfig(t)
	single := t.TempDir()
	code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", single)
	if code != 1 {
		t.Fatalf("single scan: exit %d: %s", code, stderr)
	}
	_, want := readReport(t, single)
	want = withoutRun(t, want)
	for _, n := range []int{1, 2, 3, 7} { // 5 files: 7 shards leave two empty
		t.Run(fmt.Sprintf("%d shards", n), func(t *testing.T) {
			dir := t.TempDir()
			parts := runShards(t, cfg, n, dir)
			out := t.TempDir()
			// Reports give whole seconds, so a shard's start in the same
			// second passes too; Go's zero time, as before, does not.
			begin := time.Now().Truncate(time.Second)
			code, _, stderr := runCLI(t, append([]string{"merge", "--config", cfg, "--date", sampleDate, "--out", out, "--quiet"}, parts...)...)
			if code != 1 {
				t.Fatalf("merge: exit %d, want 1 like the single scan: %s", code, stderr)
			}
			_, got := readReport(t, out)
			// The run is the merge's own, not Go's zero time.
			var doc struct {
				Run struct {
					StartedAt time.Time `json:"started_at"`
				} `json:"run"`
			}
			if err := json.Unmarshal(got, &doc); err != nil || doc.Run.StartedAt.Before(begin) {
				t.Errorf("run.started_at %v, want the merge's start (after %v); %v", doc.Run.StartedAt, begin, err)
			}
			if got = withoutRun(t, got); !bytes.Equal(got, want) {
				t.Errorf("merged report differs from the single scan's")
			}
		})
	}
}

func TestMergeRefusesMismatchedPartials(t *testing.T) {
	cfg := shardConfig(t)
	dir := t.TempDir()
	parts := runShards(t, cfg, 3, dir)

	// A setting that changes the report (how many samples it keeps),
	// the rules' lines unmoved.
	other := shardConfig(t)
	b, _ := os.ReadFile(other)
	os.WriteFile(other, append(b, []byte("  samples: 3\n")...), 0o644)
	otherParts := runShards(t, other, 3, t.TempDir())
	// Only a comment differs: the same results, so its shards fit.
	commented := shardConfig(t)
	b, _ = os.ReadFile(commented)
	os.WriteFile(commented, append(b, []byte("# edited\n")...), 0o644)
	commentedParts := runShards(t, commented, 3, t.TempDir())
	// A config with other rules: its partials do not fit this one's
	// layout, and must still be refused as another config's.
	fewer := runShards(t, writeConfig(t, "  - name: r\n    event: MovieRatingEvent\n    field: rating\n    between: [1, 5]\n", ""), 3, t.TempDir())

	otherDate := filepath.Join(t.TempDir(), "other-date.json")
	// The same archive scanned as another date: its plan matches no file,
	// and its date differs.
	if code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", "2024-03-18", "--shard", "0/3", "--partial", otherDate, "--quiet"); code != 0 {
		t.Fatalf("other date shard: exit %d: %s", code, stderr)
	}
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte(`{"partial_version": 1, "oops": true}`), 0o644)
	// The keys of unique rules follow the document a line each, then a
	// line that counts them: a partial cut anywhere in them is refused.
	var lines []string
	withKeys := 0 // the shard with the most keys
	for i, p := range parts {
		whole, _ := os.ReadFile(p)
		if l := strings.SplitAfter(strings.TrimSuffix(string(whole), "\n"), "\n"); len(l) > len(lines) {
			lines, withKeys = l, i
		}
	}
	if len(lines) < 4 || !strings.Contains(lines[len(lines)-1], `"end_keys"`) {
		t.Fatalf("partial of %d lines, the last %q; want a document, keys and an end line", len(lines), lines[len(lines)-1])
	}
	others := slices.Delete(slices.Clone(parts), withKeys, withKeys+1)
	cut := filepath.Join(dir, "cut.json")
	os.WriteFile(cut, []byte(strings.Join(lines[:len(lines)-2], "")), 0o644)
	short := filepath.Join(dir, "short.json")
	os.WriteFile(short, []byte(strings.Join(append(lines[:len(lines)-2:len(lines)-2], lines[len(lines)-1]), "")), 0o644)

	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		{"missing shard", parts[:2], "missing shard(s) 2/3"},
		{"extra shard of another config", []string{parts[0], parts[1], parts[2], otherParts[1]}, "another config"},
		{"same shard twice", []string{parts[0], parts[1], parts[1], parts[2]}, ""},
		{"a config that differs by a comment", []string{commentedParts[0], parts[1], parts[2]}, ""},
		{"other config", []string{otherParts[0], parts[1], parts[2]}, "another config"},
		{"other config with other rules", []string{fewer[0], parts[1], parts[2]}, fewer[0] + ": written with another config"},
		{"other date", []string{otherDate, parts[1], parts[2]}, "is for 2024-03-18, not 2024-03-19"},
		{"not a partial", []string{garbage, parts[1], parts[2]}, "not a dqaudit partial"},
		{"cut short", append([]string{cut}, others...), "partial is cut short"},
		{"a key line missing", append([]string{short}, others...), "but says"},
		{"no such file", []string{filepath.Join(dir, "nope-*.json")}, "no such partial file"},
		{"a flag after the partials", []string{parts[0], parts[1], parts[2], "--warn-exit-code", "99"}, "--warn-exit-code comes after a PARTIAL file; flags go before them"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			code, _, stderr := runCLI(t, append([]string{"merge", "--config", cfg, "--date", sampleDate, "--out", out, "--quiet"}, tc.parts...)...)
			if tc.want == "" { // the merge succeeds
				if code != 1 {
					t.Errorf("exit %d: %s", code, stderr)
				}
				return
			}
			if code != int(audit.ExitUsage) || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
			if _, err := os.Stat(filepath.Join(out, "report.json")); err == nil {
				t.Error("a refused merge wrote a report")
			}
		})
	}
}

func TestDuplicateShardFromAnotherRunIsNamed(t *testing.T) {
	cfg := shardConfig(t)
	a := runShards(t, cfg, 2, t.TempDir())
	b := runShards(t, cfg, 2, t.TempDir())
	code, _, stderr := runCLI(t, "merge", "--config", cfg, "--date", sampleDate, "--out", t.TempDir(), "--quiet", a[0], a[1], b[1])
	if code != int(audit.ExitUsage) || !strings.Contains(stderr, "shard 1/2 is also in "+a[1]) {
		t.Errorf("exit %d, stderr %q; want the duplicate named", code, stderr)
	}
}

func TestShardFlagsAreChecked(t *testing.T) {
	cfg := shardConfig(t)
	for _, args := range [][]string{
		{"--shard", "3/3", "--partial", "p.json"},
		{"--shard", "0/0", "--partial", "p.json"},
		{"--shard", "a/b", "--partial", "p.json"},
		{"--shard", "0/2"},
	} {
		code, _, stderr := runCLI(t, append([]string{"scan", "--config", cfg, "--date", sampleDate}, args...)...)
		if code != int(audit.ExitUsage) {
			t.Errorf("%v: exit %d (%s), want 2", args, code, stderr)
		}
	}
}

// TestMergeTakesPartialsAfterDoubleDash: after --, the conventional end of
// flags, a PARTIAL may start with -; without it, such an argument after a
// PARTIAL is still taken for a misplaced flag.
func TestMergeTakesPartialsAfterDoubleDash(t *testing.T) {
	cfg := smallConfig(t, "day.log", "report:\n  formats: [json]\n")
	dir := t.TempDir()
	t.Chdir(dir) // a name that starts with - is relative
	for i := range 2 {
		code, _, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--shard", fmt.Sprintf("%d/2", i), "--partial", fmt.Sprintf("-part-%d.json", i), "--quiet")
		if code != 0 {
			t.Fatalf("shard %d/2: exit %d: %s", i, code, stderr)
		}
	}
	out := filepath.Join(dir, "out")
	code, _, stderr := runCLI(t, "merge", "--config", cfg, "--date", sampleDate, "--out", out, "--quiet", "--", "-part-0.json", "-part-1.json")
	if code == int(audit.ExitUsage) {
		t.Fatalf("merge -- -part-0.json -part-1.json: exit 2: %s", stderr)
	}
	if rep, _ := readReport(t, out); rep.Events["MovieRatingEvent"] == 0 {
		t.Errorf("merged report has no rating events: %v", rep.Events)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"flag after a PARTIAL", []string{"p.json", "--quiet"}, "dqaudit merge: --quiet comes after a PARTIAL file"},
		{"-- taken as --out's value", []string{"--out", "--", "p.json", "-part-1.json"}, "dqaudit merge: -part-1.json comes after a PARTIAL file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"merge", "--config", cfg, "--date", sampleDate}, tc.args...)
			if code, _, stderr := runCLI(t, args...); code != int(audit.ExitUsage) || !strings.Contains(stderr, tc.want) {
				t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
			}
		})
	}
}
