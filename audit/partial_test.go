package audit

import (
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/rules"
)

// TestConfigHashIgnoresWhatChangesNoResult: shards of a config whose copy
// differs only in comments, layout, quoting, key order or file name merge;
// anything that can change a result (a bound, a severity, a tolerance, a
// description the reports show, the order of the rules, the samples kept,
// an input, a rule's line, which input errors cite) gives another hash.
func TestConfigHashIgnoresWhatChangesNoResult(t *testing.T) {
	const base = `# the nightly gate
version: 1
inputs:
  - name: avro
    format: avro
    paths: ["archive/{date}/*.avro"]
rules:
  - name: rating-in-range   # ratings outside 1..5 poison the model
    event: MovieRatingEvent
    field: rating
    between: [1, 5]
  - name: status-ok
    event: RecommendationRequest
    field: status
    in: [200]
    severity: warn
    tolerance: 0.5%
report: {samples: 5}
`
	hash := func(t *testing.T, yaml, name string) string {
		t.Helper()
		cfg, err := rules.Parse(strings.NewReader(yaml), name)
		if err != nil {
			t.Fatal(err)
		}
		return ConfigHash(cfg)
	}
	want := hash(t, base, "config.yaml")
	tests := []struct {
		name     string
		old, new string // replaced in base
		file     string
		same     bool
	}{
		{name: "comment edited", old: "# the nightly gate", new: "# the nightly gate, owned by the ML platform team", same: true},
		{name: "line comment edited", old: "# ratings outside 1..5 poison the model", new: "# see INC-1234", same: true},
		{name: "comment after the rules", old: "report: {samples: 5}\n", new: "report: {samples: 5}\n# rules end here\n", same: true},
		{name: "other quoting", old: `paths: ["archive/{date}/*.avro"]`, new: `paths: ['archive/{date}/*.avro']`, same: true},
		{name: "block list", old: "in: [200]\n", new: "in:\n      - 200\n", same: true},
		{name: "keys in another order", old: "    field: status\n    in: [200]\n", new: "    in: [200]\n    field: status\n", same: true},
		{name: "report as a block", old: "report: {samples: 5}", new: "report:\n  samples: 5", same: true},
		{name: "another file name", file: "/opt/dqaudit/dqaudit.yaml", same: true},
		{name: "bound", old: "between: [1, 5]", new: "between: [1, 10]"},
		{name: "severity", old: "severity: warn", new: "severity: error"},
		{name: "tolerance", old: "tolerance: 0.5%", new: "tolerance: 1%"},
		{name: "description", old: "    tolerance: 0.5%\n", new: "    tolerance: 0.5%\n    description: failed requests\n"},
		{name: "samples kept", old: "report: {samples: 5}", new: "report: {samples: 6}"},
		{name: "input path", old: "archive/{date}/*.avro", new: "archive/{date}/**/*.avro"},
		{name: "values", old: "in: [200]", new: "in: [200, 204]"},
		{name: "a line above a rule", old: "    between: [1, 5]\n", new: "    between:\n      - 1\n      - 5\n"},
		{name: "a line above the rules", old: "# the nightly gate\n", new: "# the nightly gate\n# and a second line\n"},
		{name: "rules in another order", old: "  - name: rating-in-range   # ratings outside 1..5 poison the model\n    event: MovieRatingEvent\n    field: rating\n    between: [1, 5]\n", new: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			yaml := base
			if tc.old != "" {
				if !strings.Contains(base, tc.old) {
					t.Fatalf("%q is not in the base config", tc.old)
				}
				yaml = strings.Replace(base, tc.old, tc.new, 1)
				if tc.name == "rules in another order" {
					yaml = strings.Replace(yaml, "report:", tc.old+"report:", 1)
				}
			}
			got := hash(t, yaml, cmpOr(tc.file, "config.yaml"))
			if (got == want) != tc.same {
				t.Errorf("same hash: %v, want %v, for:\n%s", got == want, tc.same, yaml)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
