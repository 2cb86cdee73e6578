package audit_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/avro"
	"github.com/dqaudit/dqaudit/audit/kafkalog"
	"github.com/dqaudit/dqaudit/rules"
)

// FuzzHistoryEntry feeds mutations of a real history entry, the day
// before a scanned day, to everything that reads the history: loading the
// baseline, the drift checks against it, and the rule trends. History
// files live for years on disks and in buckets; a damaged or hand-edited
// one must be skipped or give odd drift values, never a panic.
func FuzzHistoryEntry(f *testing.F) {
	dir := tinyDay(f)
	day := time.Date(2024, 3, 19, 0, 0, 0, 0, time.UTC)
	cfg, err := rules.Load("../config.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	cfg.Inputs = []rules.Input{
		{Name: "avro", Format: "avro", Paths: []string{filepath.Join(dir, "*.avro")}},
		{Name: "log", Format: "kafka-log", Paths: []string{filepath.Join(dir, "kafka.log.gz")}},
	}
	ctx := context.Background()
	plan, err := audit.NewPlan(ctx, cfg, day, "..")
	if err != nil {
		f.Fatal(err)
	}
	refs, err := audit.LoadReferences(ctx, cfg, "..", day, nil)
	if err != nil {
		f.Fatal(err)
	}
	book, err := rules.Compile(cfg, refs, day)
	if err != nil {
		f.Fatal(err)
	}
	res, err := audit.Scan(ctx, plan, book, audit.Options{
		RuleSamples: 3,
		Readers:     map[string]audit.Reader{"avro": avro.New(), "kafka-log": kafkalog.New(kafkalog.Options{})},
	})
	if err != nil {
		f.Fatal(err)
	}
	entry := audit.NewHistoryEntry(res)
	entry.Date = "2024-03-18"
	seed, err := json.Marshal(entry)
	if err != nil {
		f.Fatal(err)
	}
	apply := func(t testing.TB, data []byte) *audit.Result {
		hdir := t.TempDir()
		if err := os.WriteFile(filepath.Join(hdir, "2024-03-18.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		h := &audit.DriftHistory{History: audit.OpenHistory(hdir), Baseline: rules.Baseline{Kind: rules.BaselinePrevious}}
		r := *res
		h.Apply(ctx, cfg.Drift, &r)
		return &r
	}
	if r := apply(f, seed); len(r.BaselineDates) != 1 || len(r.Drift) < 5 {
		f.Fatalf("the seed entry gives baseline dates %v and %d drift results; want it used", r.BaselineDates, len(r.Drift))
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) { apply(t, data) })
}
