package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

// TestPlanReadsAFileOnceWhateverPathReachesIt: a link beside its target
// (latest.log -> part-0001.log) and a second input over the same files
// plan each file once, from a config directory whose name a pattern would
// read as a wildcard.
func TestPlanReadsAFileOnceWhateverPathReachesIt(t *testing.T) {
	base := filepath.Join(t.TempDir(), "team[ml]")
	day := filepath.Join(base, "in", "2024-03-19")
	if err := os.MkdirAll(day, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(day, "part-0001.log"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("part-0001.log", filepath.Join(day, "latest.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(day, "part-0001.log"), filepath.Join(day, "hard.log")); err != nil {
		t.Fatal(err)
	}
	cfg := &rules.Config{Inputs: []rules.Input{
		{Name: "a", Format: "kafka-log", Paths: []string{"in/{date}/*.log"}},
		{Name: "b", Format: "kafka-log", Paths: []string{"in/{date}/part-0001.log"}},
	}}
	plan, err := audit.NewPlan(context.Background(), cfg, time.Date(2024, 3, 19, 0, 0, 0, 0, time.UTC), base)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Files) != 1 || len(plan.Errors) != 0 {
		t.Fatalf("planned %+v, errors %+v; want one file and no error", plan.Files, plan.Errors)
	}
	if plan.Files[0].Input != "a" {
		t.Errorf("the file went to input %s, want a, the first to match it", plan.Files[0].Input)
	}
}
