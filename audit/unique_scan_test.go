package audit_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/avro"
	"github.com/dqaudit/dqaudit/audit/generate"
	"github.com/dqaudit/dqaudit/audit/kafkalog"
	"github.com/dqaudit/dqaudit/rules"
)

// uniqueDay plans the archive in root (the sample's when "") with two
// unique rules, one over every event and one over ratings.
func uniqueDay(t testing.TB, root string) (*audit.Plan, *rules.Book) {
	t.Helper()
	if root == "" {
		var err error
		if root, err = filepath.Abs("../testdata/archive/{date}"); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	err := os.WriteFile(cfgPath, []byte(`version: 1
inputs:
  - {name: avro, format: avro, paths: ["`+root+`/*.avro"]}
  - {name: log, format: kafka-log, paths: ["`+root+`/kafka.log.gz"]}
rules:
  - {name: one-event-per-user, event: "*", unique: [userId]}
  - {name: one-rating-per-movie, event: MovieRatingEvent, unique: [movieId], severity: warn}
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := rules.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plan, err := audit.NewPlan(ctx, cfg, time.Date(2024, 3, 19, 0, 0, 0, 0, time.UTC), filepath.Dir(cfgPath))
	if err != nil || len(plan.Files) == 0 || len(plan.Errors) > 0 {
		t.Fatalf("plan: %v, %d files, errors %v", err, len(plan.Files), plan.Errors)
	}
	book, err := rules.Compile(cfg, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return plan, book
}

// TestUniqueRulesSpillToDisk: with so little memory for unique keys that
// they spill to disk many times, a scan gives the rule results (counts
// and samples) of a scan that keeps them all in memory, for any number
// of workers.
func TestUniqueRulesSpillToDisk(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	plan, book := uniqueDay(t, "")
	scan := func(workers, memory int, gz *audit.Gunzip) []audit.RuleResult {
		t.Helper()
		res, err := audit.Scan(context.Background(), plan, book, audit.Options{
			Workers:      workers,
			RuleSamples:  5,
			UniqueMemory: memory,
			Gunzip:       gz,
			Readers:      map[string]audit.Reader{"avro": avro.New(), "kafka-log": kafkalog.New(kafkalog.Options{Workers: workers})},
		})
		if err != nil {
			t.Fatal(err)
		}
		return res.Rules
	}
	inMemory := scan(1, 1<<30, nil)
	for _, r := range inMemory {
		if r.Checked == 0 || r.Failed == 0 || len(r.Samples) == 0 {
			t.Fatalf("%s: %d checked, %d failed, %d samples: the day does not exercise the rule", r.Name, r.Checked, r.Failed, len(r.Samples))
		}
	}
	for _, workers := range []int{1, 3} {
		if got := scan(workers, 64<<10, nil); !reflect.DeepEqual(got, inMemory) {
			t.Errorf("workers %d, 64 KiB for keys:\n%+v\nwant\n%+v", workers, got, inMemory)
		}
	}
	// A file read through a Gunzip program gets sinks of its own, which
	// take the keys of the sinks the worker keeps for other files (see
	// fileWorker): one worker reads two Avro files before the log.
	if gzip, err := exec.LookPath("gzip"); err == nil {
		for _, memory := range []int{64 << 10, 1 << 30} {
			if got := scan(1, memory, &audit.Gunzip{Path: gzip, Args: []string{"-dc"}}); !reflect.DeepEqual(got, inMemory) {
				t.Errorf("the log through gzip -dc, %d KiB for keys:\n%+v\nwant\n%+v", memory>>10, got, inMemory)
			}
		}
	}
	// The same scan without a temporary directory fails: it does spill.
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	_, err := audit.Scan(context.Background(), plan, book, audit.Options{
		Workers:      1,
		UniqueMemory: 64 << 10,
		Readers:      map[string]audit.Reader{"avro": avro.New(), "kafka-log": kafkalog.New(kafkalog.Options{Workers: 1})},
	})
	if !errors.As(err, new(*audit.SpillError)) {
		t.Errorf("scan with 64 KiB for keys and no TMPDIR: %v; want a SpillError, as it must spill", err)
	}
}

// TestUniqueSpillErrorFailsTheScan: a temporary directory that cannot be
// written fails the scan with an error naming the rule, rather than
// counting a part of the keys.
func TestUniqueSpillErrorFailsTheScan(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	plan, book := uniqueDay(t, "")
	_, err := audit.Scan(context.Background(), plan, book, audit.Options{
		UniqueMemory: 4 << 10,
		Readers:      map[string]audit.Reader{"avro": avro.New(), "kafka-log": kafkalog.New(kafkalog.Options{})},
	})
	if !errors.As(err, new(*audit.SpillError)) || !strings.Contains(err.Error(), `unique rule "one-event-per-user"`) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("scan with an unwritable TMPDIR: %v", err)
	}
}

// tinyDay writes a generated day of 60 events (its Avro files and Kafka
// log) to a temporary directory, for targets that run many times.
func tinyDay(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	if _, err := generate.Write(dir, generate.Options{Date: time.Date(2024, 3, 19, 0, 0, 0, 0, time.UTC), Events: 60, Seed: 1}); err != nil {
		tb.Fatal(err)
	}
	return dir
}
