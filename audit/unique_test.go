package audit

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// keyCount is what each reports for one key.
type keyCount struct {
	key   [2]uint64
	count int64
	first []Position
}

func collect(t *testing.T, u *uniqueKeys) []keyCount {
	t.Helper()
	var out []keyCount
	err := u.each(context.Background(), func(key [2]uint64, count int64, first []Position) {
		out = append(out, keyCount{key, count, slices.Clone(first)})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// want counts occurrences the obvious way: a map, then every key's
// positions sorted.
func want(occ []keyRec, keep int) []keyCount {
	pos := map[[2]uint64][]Position{}
	for _, r := range occ {
		pos[r.key] = append(pos[r.key], r.pos)
	}
	var out []keyCount
	for k, ps := range pos {
		slices.SortFunc(ps, func(a, b Position) int {
			switch {
			case a.Less(b):
				return -1
			case b.Less(a):
				return 1
			}
			return 0
		})
		out = append(out, keyCount{k, int64(len(ps)), ps[:min(keep, len(ps))]})
	}
	slices.SortFunc(out, func(a, b keyCount) int {
		return cmp.Or(cmp.Compare(a.key[0], b.key[0]), cmp.Compare(a.key[1], b.key[1]))
	})
	return out
}

// occurrences makes n occurrences of about n/3 keys, each at a distinct
// position, in a random order: text lines and Avro records of 4 files.
func occurrences(n int, seed uint64) []keyRec {
	rng := rand.New(rand.NewPCG(seed, 1))
	occ := make([]keyRec, n)
	for i := range occ {
		k := rng.Uint64N(uint64(n/3 + 1))
		f := int32(rng.IntN(4))
		pos := Position{File: f, Line: int64(i) + 1}
		if f%2 == 1 {
			pos = Position{File: f, Block: int64(i / 100), Record: int64(i % 100)}
		}
		occ[i] = keyRec{key: [2]uint64{k * 0x9e3779b97f4a7c15, k}, pos: pos, n: 1}
	}
	return occ
}

// TestUniqueKeysSpillGivesTheSameCounts: however small the buffer (so
// that keys spill to runs, and runs are merged into bigger ones), and
// however the occurrences are split between goroutines that merge, each
// gives every key's count and first positions as a map would.
func TestUniqueKeysSpillGivesTheSameCounts(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	const keep = 4
	occ := occurrences(6000, 1)
	expected := want(occ, keep)
	for _, limit := range []int{1 << 30, 1000, 37, 5} {
		for _, parts := range []int{1, 3} {
			t.Run(fmt.Sprintf("limit %d, %d parts", limit, parts), func(t *testing.T) {
				us := make([]*uniqueKeys, parts)
				for i := range us {
					us[i] = newUniqueKeys(limit, keep)
				}
				for i, r := range occ {
					us[i%parts].add(r.key, r.pos, 1)
				}
				for _, o := range us[1:] {
					us[0].merge(o)
				}
				if limit < 100 && len(us[0].runs) == 0 {
					t.Fatal("no runs: the test does not spill")
				}
				if len(us[0].runs) > maxRuns {
					t.Errorf("%d runs open, want at most %d", len(us[0].runs), maxRuns)
				}
				if got := collect(t, us[0]); !reflect.DeepEqual(got, expected) {
					t.Errorf("each gave %d keys, want %d; first difference %v", len(got), len(expected), firstDiff(got, expected))
				}
			})
		}
	}
}

func firstDiff(a, b []keyCount) string {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return fmt.Sprintf("at %d: %+v, want %+v", i, a[i], b[i])
		}
	}
	return "in length"
}

// TestUniqueKeysFromPartials: keys read back from partials (a key's
// count, its first position and the next few) merge into the counts of
// the whole, as the shards of a scan do.
func TestUniqueKeysFromPartials(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	const keep = 3
	occ := occurrences(5000, 2)
	whole := newUniqueKeys(7, keep)
	for _, part := range [][]keyRec{occ[:2000], occ[2000:]} {
		u := newUniqueKeys(11, keep)
		for _, r := range part {
			u.add(r.key, r.pos, 1)
		}
		// As Encode and DecodePart do.
		for _, kc := range collect(t, u) {
			whole.add(kc.key, kc.first[0], kc.count-int64(len(kc.first)-1))
			for _, p := range kc.first[1:] {
				whole.add(kc.key, p, 1)
			}
		}
	}
	if got, expected := collect(t, whole), want(occ, keep); !reflect.DeepEqual(got, expected) {
		t.Errorf("each gave %d keys, want %d; first difference %v", len(got), len(expected), firstDiff(got, expected))
	}
}

// TestUniqueKeysLeaveNoFiles: runs are unlinked as soon as they are made,
// so the temporary directory stays empty even while they are open.
func TestUniqueKeysLeaveNoFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	u := newUniqueKeys(10, 2)
	for _, r := range occurrences(1000, 3) {
		u.add(r.key, r.pos, 1)
	}
	if len(u.runs) == 0 {
		t.Fatal("no runs")
	}
	if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
		t.Errorf("%d files in TMPDIR while runs are open", len(ents))
	}
	u.close()
}

// TestUniqueKeysSpillError: a temporary directory that cannot be written
// makes the counts an error, never counts that silently miss keys.
func TestUniqueKeysSpillError(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	u := newUniqueKeys(10, 2)
	for _, r := range occurrences(100, 4) {
		u.add(r.key, r.pos, 1)
	}
	err := u.each(context.Background(), func([2]uint64, int64, []Position) {})
	if err == nil || !strings.Contains(err.Error(), "spill the keys of a unique rule") {
		t.Errorf("each after a failed spill: %v", err)
	}
}
