package generate

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSampleArchiveIsReproducible regenerates the shipped sample archive's
// ground truth: if the generator changes, testdata must be regenerated
// with the command in README's Development section.
func TestSampleArchiveIsReproducible(t *testing.T) {
	dir := t.TempDir()
	day := time.Date(2024, 3, 19, 0, 0, 0, 0, time.UTC)
	if _, err := Write(dir, Options{Date: day, Events: 10000, Seed: 1, KnownUsers: 5000}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../testdata/archive/2024-03-19/truth.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("truth.json differs from testdata/archive/2024-03-19/truth.json; regenerate the sample archive\ngot:\n%s", got)
	}
	for _, name := range []string{"kafka.log.gz", "watch.avro", "watch-subtitles.avro", "ratings.avro", "recommendations.avro"} {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join("../../testdata/archive/2024-03-19", name))
		if string(a) != string(b) {
			t.Errorf("%s differs from the shipped sample", name)
		}
	}
}

func TestWriteRejectsNoEvents(t *testing.T) {
	if _, err := Write(t.TempDir(), Options{Events: 0}); err == nil {
		t.Error("Write with 0 events succeeded; want an error")
	}
}

func TestSameSeedSameTruth(t *testing.T) {
	day := time.Date(2024, 3, 20, 0, 0, 0, 0, time.UTC)
	a, err := Write(t.TempDir(), Options{Date: day, Events: 3000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Write(t.TempDir(), Options{Date: day, Events: 3000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if a.Faults != b.Faults || a.Events["MovieWatchEvent"] != b.Events["MovieWatchEvent"] {
		t.Errorf("same seed, different truth: %+v vs %+v", a, b)
	}
	var total int64
	for _, n := range a.Events {
		total += n
	}
	if total != 3000 {
		t.Errorf("generated %d events, want 3000", total)
	}
}
