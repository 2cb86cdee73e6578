package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/avro"
	"github.com/dqaudit/dqaudit/audit/generate"
	"github.com/dqaudit/dqaudit/audit/kafkalog"
	"github.com/dqaudit/dqaudit/rules"
)

// TestOrdinaryDaysRaiseNoKindChange: generated ordinary days of several
// sizes, compared with the day before and with a window, show no default
// check that cannot be computed, none that says a field was retyped or
// took too many values, and no default distribution check without a
// measure: the checks that notice such changes stay quiet on days
// without them, whose ids are high-cardinality every day.
func TestOrdinaryDaysRaiseNoKindChange(t *testing.T) {
	ctx := context.Background()
	cfg, err := rules.Parse(strings.NewReader("version: 1\ninputs:\n  - {name: avro, format: avro, paths: [\"*.avro\"]}\n  - {name: log, format: kafka-log, paths: [\"*.log.gz\"]}\ndrift: {}\n"), "config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var days []*audit.Result
	// Sizes around where fields outgrow exact counting (userId, movieId
	// and recommendation lists), and days of different volume.
	for i, events := range []int{3000, 12000, 5000, 20000, 8000} {
		day := time.Date(2024, 3, 14+i, 0, 0, 0, 0, time.UTC)
		dir := t.TempDir()
		if _, err := generate.Write(dir, generate.Options{Date: day, Events: events, Seed: uint64(i + 1)}); err != nil {
			t.Fatal(err)
		}
		plan, err := audit.NewPlan(ctx, cfg, day, dir)
		if err != nil {
			t.Fatal(err)
		}
		book, err := rules.Compile(cfg, nil, day)
		if err != nil {
			t.Fatal(err)
		}
		res, err := audit.Scan(ctx, plan, book, audit.Options{
			Readers: map[string]audit.Reader{rules.FormatAvro: avro.New(), rules.FormatKafkaLog: kafkalog.New(kafkalog.Options{})},
		})
		if err != nil {
			t.Fatal(err)
		}
		days = append(days, res)
	}
	hist := audit.OpenHistory(t.TempDir())
	checked := 0
	for i, today := range days {
		for _, spec := range []rules.Baseline{{Kind: rules.BaselinePrevious}, {Kind: rules.BaselineWindow, Window: 7}} {
			base, problems := hist.LoadBaseline(ctx, spec, today.Date)
			if len(problems) > 0 {
				t.Fatal(problems)
			}
			if base == nil {
				continue
			}
			for _, d := range audit.Drift(cfg.Drift, today, base) {
				if d.Kind != audit.DriftDistribution {
					continue
				}
				checked++
				what := fmt.Sprintf("%s against %s: %s %v (value %v, note %q)", today.Date, spec, d.Name, d.Status, d.Value, d.Note)
				for _, word := range []string{"not computable", "retyped", "too many distinct values"} {
					if strings.Contains(d.Note, word) {
						t.Errorf("%s: says %q on an ordinary day", what, word)
					}
				}
				if d.Status >= audit.StatusWarn && d.Value != d.Value {
					t.Errorf("%s: warns without a measure", what)
				}
			}
		}
		if err := hist.Save(ctx, audit.NewHistoryEntry(days[i])); err != nil {
			t.Fatal(err)
		}
	}
	if checked < 20 {
		t.Errorf("%d default distribution checks ran, want the fields of 4 days against 2 baselines", checked)
	}
}
