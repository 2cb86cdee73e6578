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
		refs := map[string]Set{}
		for _, r := range cfg.References {
			refs[r.Name] = NewSetBuilder(0).Set()
		}
		b, err := Compile(cfg, refs)
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
