package reports

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/profile"
	"github.com/dqaudit/dqaudit/internal/testutil"
	"github.com/dqaudit/dqaudit/internal/testutil/fixture"
	"github.com/dqaudit/dqaudit/rules"
)

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := (JSON{}).Write(&b, fixture.Result()); err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "testdata/golden/report.json", b.Bytes())

	var doc struct {
		SchemaVersion int    `json:"schema_version"`
		Status        string `json:"status"`
		ExitCode      int    `json:"exit_code"`
		Rules         []struct {
			Name string `json:"name"`
		} `json:"rules"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("report.json is not JSON: %v", err)
	}
	if doc.SchemaVersion != SchemaVersion || doc.Status != "error" || doc.ExitCode != 3 || len(doc.Rules) != 8 {
		t.Errorf("report.json: schema %d, status %q, exit %d, %d rules; want %d, error, 3, 8",
			doc.SchemaVersion, doc.Status, doc.ExitCode, len(doc.Rules), SchemaVersion)
	}

	var again bytes.Buffer
	if err := (JSON{}).Write(&again, fixture.Result()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), again.Bytes()) {
		t.Error("two renders of the same Result differ")
	}
}

// TestJSONPerTypeCounts: events dated another day and events without a
// readable hour (left out of events_per_hour) are counted per type.
func TestJSONPerTypeCounts(t *testing.T) {
	s := rules.NewShape("MovieRatingEvent", []rules.Field{{Name: "time", Kind: rules.KindString, Type: "string"}})
	b := profile.NewBuilder()
	if err := b.SetDay("2024-03-19"); err != nil {
		t.Fatal(err)
	}
	for _, tm := range []rules.Value{rules.Str("2024-03-19T10:00:00"), rules.Str("2024-03-20T10:00:00"), rules.Null(), rules.Str("soon")} {
		e := audit.NewEvent(s)
		e.Values[0] = tm
		b.Observe(e)
	}
	r := fixture.Result()
	r.Profile = b.Profile()
	var buf bytes.Buffer
	if err := (JSON{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OtherDay map[string]int64 `json:"events_other_day"`
		NoHour   map[string]int64 `json:"events_no_hour"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OtherDay["MovieRatingEvent"] != 1 || doc.NoHour["MovieRatingEvent"] != 2 || len(doc.OtherDay) != 1 || len(doc.NoHour) != 1 {
		t.Errorf("events_other_day %v, events_no_hour %v; want MovieRatingEvent 1 and 2", doc.OtherDay, doc.NoHour)
	}
}

// TestJSONDriftKeys: every drift entry carries the keys README lists for
// it, note included, even when the check has no note; a pipeline reads
// them without testing for absence.
func TestJSONDriftKeys(t *testing.T) {
	r := fixture.Result()
	r.Drift = append(r.Drift, audit.DriftResult{Name: "MovieWatchEvent:missing_hours", Kind: "hours", Event: "MovieWatchEvent", Metric: "missing_hours", Status: audit.StatusPass})
	var b bytes.Buffer
	if err := (JSON{}).Write(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Drift []map[string]json.RawMessage `json:"drift"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Drift) == 0 {
		t.Fatal("no drift entries")
	}
	for _, d := range doc.Drift {
		for _, k := range []string{"name", "kind", "event", "field", "metric", "value", "warn", "fail", "status", "note", "baseline", "current"} {
			if _, ok := d[k]; !ok {
				t.Errorf("drift entry %s has no key %q", d["name"], k)
			}
		}
	}
}

// TestJSONBaselineNote: a baseline that is not the day, or days, just
// before the audited one says how far it is in baseline.note; the key is
// absent otherwise, so older readers see the same document.
func TestJSONBaselineNote(t *testing.T) {
	paused, whole := baselineAfterPause()
	tests := []struct {
		name string
		r    *audit.Result
		want *string
	}{
		{"previous after a pause", paused, ptr("baseline 2025-01-02 is 71 days before 2025-03-14: no history entry for the 70 days between")},
		{"window of the days just before", whole, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := (JSON{}).Write(&b, tc.r); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Baseline struct {
					Source string  `json:"source"`
					Note   *string `json:"note"`
				} `json:"baseline"`
			}
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			quote := func(s *string) string {
				if s == nil {
					return "absent"
				}
				return strconv.Quote(*s)
			}
			if got := doc.Baseline.Note; quote(got) != quote(tc.want) {
				t.Errorf("baseline %s: note %s, want %s", doc.Baseline.Source, quote(got), quote(tc.want))
			}
		})
	}
}
