package rules

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzConfig feeds Parse arbitrary bytes. It must never panic, must
// answer with an ErrorList whose every error names the file, and a config
// it accepts must compile and evaluate.
func FuzzConfig(f *testing.F) {
	for _, dir := range []string{"testdata/valid", "testdata/invalid"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	shapes := []*Shape{watch, rating, reco, custom}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(bytes.NewReader(data), "fuzz.yaml")
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T is not an ErrorList: %v", err, err)
			}
			for _, e := range list {
				if e.File != "fuzz.yaml" || e.Msg == "" || e.Line < 0 || e.Column < 0 {
					t.Fatalf("bad error %#v", e)
				}
			}
			return
		}
		if d := cfg.Drift; d != nil {
			checkDrift(t, d)
		}
		refs := map[string]Set{}
		for _, r := range cfg.References {
			refs[r.Name] = NewSetBuilder(0).Set()
		}
		b, err := Compile(cfg, refs, testDay)
		if err != nil {
			t.Fatalf("Parse accepted a config that does not compile: %v", err)
		}
		ev := b.NewEvaluator()
		for _, s := range shapes {
			b.CheckShape(s)
			ev.Eval(event(s))
			for _, c := range b.Checks {
				c.Params()
				c.Status(10, 3)
			}
		}
	})
}

// checkDrift asserts what Parse promises of an accepted drift section.
func checkDrift(t *testing.T, d *Drift) {
	t.Helper()
	if d.History == "" || d.MinEvents < 0 || d.MissingHours == LevelUnset || d.Schema == LevelUnset {
		t.Fatalf("drift not complete: %+v", d)
	}
	switch b := d.Baseline; b.Kind {
	case BaselinePrevious:
	case BaselineWindow:
		if b.Window < 1 || b.Window > MaxWindow {
			t.Fatalf("window %d", b.Window)
		}
	case BaselineFile:
		if b.Path == "" {
			t.Fatal("file baseline without a path")
		}
	default:
		t.Fatalf("baseline %+v", b)
	}
	for _, th := range []Thresholds{d.Volume, d.Outliers, d.Malformed, d.Anomalies} {
		if th.Off && (th.Warn != 0 || th.Fail != 0) || th.Warn < 0 || th.Warn > th.Fail {
			t.Fatalf("thresholds %+v", th)
		}
	}
	names := map[string]bool{}
	for _, c := range d.Checks {
		if c.Name == "" || names[c.Name] {
			t.Fatalf("check name %q empty or repeated", c.Name)
		}
		names[c.Name] = true
		if !contains(DriftMetrics(), c.Metric) || c.Event == "" || c.Event == "*" || c.Field == "" {
			t.Fatalf("check %+v", c)
		}
		if (c.Metric == "quantile_change") != (c.Quantile > 0 && c.Quantile < 1) || c.Warn < 0 || c.Warn > c.Fail {
			t.Fatalf("check %+v", c)
		}
	}
}

// FuzzParseBaseline feeds ParseBaseline arbitrary flag values. What it
// accepts must print back to itself through Baseline.String.
func FuzzParseBaseline(f *testing.F) {
	for _, s := range []string{"previous", "window:7", "window:0", "window", "b.json", "h/{date}.json", "previus", "", "window:-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBaseline(s)
		if err != nil {
			if err.Error() == "" || b != (Baseline{}) {
				t.Fatalf("error %q with %+v", err, b)
			}
			return
		}
		back, err := ParseBaseline(b.String())
		if err != nil || back != b {
			t.Fatalf("%q reads as %+v, which prints as %q and reads back as %+v, %v", s, b, b.String(), back, err)
		}
	})
}
