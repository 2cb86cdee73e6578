package audit

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/audit/profile"
	"github.com/dqaudit/dqaudit/rules"
)

// testEvent is a minimal rules.Event for building profiles.
type testEvent struct {
	shape *rules.Shape
	vals  []rules.Value
}

func (e *testEvent) Shape() *rules.Shape     { return e.shape }
func (e *testEvent) Value(i int) rules.Value { return e.vals[i] }

var ratingShape = rules.NewShape(rules.MovieRatingEvent, []rules.Field{
	{Name: "time", Kind: rules.KindString}, {Name: "rating", Kind: rules.KindInt},
})

// day builds a result whose profile holds n ratings, spread over the
// hours in hours, with ratings drawn round-robin from values.
func day(date string, n int, hours []int, values []int64, malformed int64) *Result {
	b := profile.NewBuilder()
	for i := range n {
		h := hours[i%len(hours)]
		ts := date + "T" + string(rune('0'+h/10)) + string(rune('0'+h%10)) + ":00:00"
		b.Observe(&testEvent{ratingShape, []rules.Value{rules.Str(ts), rules.Int(values[i%len(values)])}})
	}
	p := b.Profile()
	p.Dates = []string{date}
	r := &Result{Date: date, Events: map[string]int64{}, Profile: p, Malformed: MalformedSummary{Total: malformed}}
	for ev, ep := range p.Events {
		r.Events[ev] = ep.Count
	}
	return r
}

func allHours() []int {
	h := make([]int, 24)
	for i := range h {
		h[i] = i
	}
	return h
}

func baselineOf(results ...*Result) *Baseline {
	var entries []*HistoryEntry
	for _, r := range results {
		entries = append(entries, NewHistoryEntry(r))
	}
	src := "previous"
	if len(entries) > 1 {
		src = "window:7"
	}
	return newBaseline(src, entries)
}

func find(t *testing.T, rs []DriftResult, name string) DriftResult {
	t.Helper()
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	t.Fatalf("no drift check %q among %v", name, names)
	return DriftResult{}
}

func TestDriftWithoutBaselineNeverFails(t *testing.T) {
	cfg := rules.DefaultDrift()
	cfg.Checks = []rules.DriftCheck{{Name: "ratings", Event: rules.MovieRatingEvent, Field: "rating", Metric: "psi", Warn: 0.1, Fail: 0.25}}
	got := Drift(&cfg, day("2024-03-19", 5000, allHours(), []int64{4}, 0), nil)
	if len(got) != 2 {
		t.Fatalf("%d entries, want the baseline note and the explicit check", len(got))
	}
	for _, d := range got {
		if d.Status != StatusNoBaseline {
			t.Errorf("%s: status %v, want no_baseline", d.Name, d.Status)
		}
	}
	if got[1].CurrentEvents != 5000 {
		t.Errorf("explicit check without a baseline: %d events today, want 5000", got[1].CurrentEvents)
	}
}

// TestApplySaysWhyThereIsNoBaseline: the note of the "baseline" entry
// tells an empty history from one that could not be read, and from a day
// that will not start the history because its files had errors.
func TestApplySaysWhyThereIsNoBaseline(t *testing.T) {
	cfg := rules.DefaultDrift()
	tests := []struct {
		name      string
		earlier   string // content of the history entry of the day before, if any
		inputErr  bool
		wantNote  string
		wantWarns int
	}{
		{name: "empty history", wantNote: NoBaselineYet},
		{name: "input errors", inputErr: true, wantNote: "this day is not added to the history either"},
		{name: "unreadable history", earlier: `{"version":`, wantNote: "no usable baseline: the history could not be read", wantWarns: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.earlier != "" {
				if err := os.WriteFile(filepath.Join(dir, "2024-03-18.json"), []byte(tc.earlier), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := day("2024-03-19", 100, allHours(), []int64{4}, 0)
			if tc.inputErr {
				r.Inputs = []FileResult{{Path: "a.avro", Err: "unexpected EOF"}}
			}
			h := &DriftHistory{History: OpenHistory(dir), Baseline: rules.Baseline{Kind: rules.BaselinePrevious}}
			h.Apply(context.Background(), &cfg, r)
			base := find(t, r.Drift, "baseline")
			if base.Status != StatusNoBaseline || !strings.Contains(base.Note, tc.wantNote) {
				t.Errorf("baseline entry %v %q, want no_baseline saying %q", base.Status, base.Note, tc.wantNote)
			}
			warns := 0
			for _, d := range r.Drift {
				if d.Name == "history" && d.Status == StatusWarn {
					warns++
				}
			}
			if warns != tc.wantWarns {
				t.Errorf("%d history warnings, want %d", warns, tc.wantWarns)
			}
		})
	}
}

func TestDriftChecks(t *testing.T) {
	cfg := rules.DefaultDrift()
	base := day("2024-03-18", 5000, allHours(), []int64{4, 4, 4, 5, 3}, 5)
	tests := []struct {
		name   string
		cur    *Result
		check  string
		status Status
		note   string
		value  float64 // checked when not NaN
	}{
		{name: "same day passes", cur: day("2024-03-19", 5000, allHours(), []int64{4, 4, 4, 5, 3}, 5), check: "MovieRatingEvent.rating:linf", status: StatusPass, value: 0},
		{name: "1-star-heavy fails", cur: day("2024-03-19", 5000, allHours(), []int64{1, 1, 1, 2, 4}, 5), check: "MovieRatingEvent.rating:linf", status: StatusFail, value: 0.6},
		{name: "volume halved fails", cur: day("2024-03-19", 2500, allHours(), []int64{4}, 5), check: "MovieRatingEvent:volume", status: StatusFail, value: -0.5},
		{name: "volume -20% passes", cur: day("2024-03-19", 4000, allHours(), []int64{4}, 5), check: "MovieRatingEvent:volume", status: StatusPass, value: -0.2},
		{name: "silent hours warn", cur: day("2024-03-19", 5000, allHours()[:20], []int64{4}, 5), check: "MovieRatingEvent:missing_hours", status: StatusWarn, note: "20, 21, 22, 23", value: 4},
		{name: "malformed share up fails", cur: day("2024-03-19", 5000, allHours(), []int64{4}, 200), check: "malformed_share", status: StatusFail, value: math.NaN()},
		{name: "small samples cannot fail", cur: day("2024-03-19", 500, allHours(), []int64{1}, 5), check: "MovieRatingEvent.rating:linf", status: StatusPass, note: "min_events", value: math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := find(t, Drift(&cfg, tc.cur, baselineOf(base)), tc.check)
			if got.Status != tc.status {
				t.Errorf("status %v, want %v (value %v, note %q)", got.Status, tc.status, got.Value, got.Note)
			}
			if !math.IsNaN(tc.value) && math.Abs(got.Value-tc.value) > 1e-9 {
				t.Errorf("value %v, want %v", got.Value, tc.value)
			}
			if !strings.Contains(got.Note, tc.note) {
				t.Errorf("note %q does not mention %q", got.Note, tc.note)
			}
		})
	}
}

func TestSchemaDriftListsChanges(t *testing.T) {
	cfg := rules.DefaultDrift()
	base := day("2024-03-18", 10, allHours(), []int64{4}, 0)
	base.Schemas = map[string][]SchemaSeen{rules.MovieWatchEvent: {{Fingerprint: "a", Fields: []SchemaField{{"minute", "int"}, {"movieId", "string"}}}}}
	cur := day("2024-03-19", 10, allHours(), []int64{4}, 0)
	cur.Schemas = map[string][]SchemaSeen{rules.MovieWatchEvent: {{Fingerprint: "b", Fields: []SchemaField{{"minute", "long"}, {"subtitles", "boolean"}}}}}
	got := find(t, Drift(&cfg, cur, baselineOf(base)), "MovieWatchEvent:schema")
	if got.Status != StatusWarn {
		t.Errorf("status %v, want warn", got.Status)
	}
	for _, want := range []string{"added subtitles (boolean)", "retyped minute from int to long", "removed movieId", "1 new writer schema"} {
		if !strings.Contains(got.Note, want) {
			t.Errorf("note %q lacks %q", got.Note, want)
		}
	}
}

func TestAnomalyOfRuleFailedShare(t *testing.T) {
	cfg := rules.DefaultDrift()
	var days []*Result
	for i, share := range []int64{10, 12, 9, 11, 10} { // failures per 10,000: about 0.1%
		r := day("2024-03-1"+string(rune('0'+i)), 2000, allHours(), []int64{4}, 0)
		r.Rules = []RuleResult{{Name: "rating-in-range", Checked: 10000, Failed: share}}
		days = append(days, r)
	}
	cur := day("2024-03-19", 2000, allHours(), []int64{4}, 0)
	cur.Rules = []RuleResult{{Name: "rating-in-range", Checked: 10000, Failed: 300}} // 3%, still below a 5% tolerance
	got := find(t, Drift(&cfg, cur, baselineOf(days...)), "rating-in-range:anomaly")
	if got.Status != StatusFail || len(got.Trend) != 6 {
		t.Errorf("status %v trend %d points (value %v); want fail with 6 points", got.Status, len(got.Trend), got.Value)
	}
	if got.BaselineEvents != 5*10000 || got.CurrentEvents != 10000 {
		t.Errorf("events checked: %d in the baseline, %d today; want 50000 and 10000", got.BaselineEvents, got.CurrentEvents)
	}
	cur.Rules[0].Failed = 11
	if got := find(t, Drift(&cfg, cur, baselineOf(days...)), "rating-in-range:anomaly"); got.Status != StatusPass {
		t.Errorf("usual share: status %v, want pass", got.Status)
	}
}

// TestOutliersSetButNotComputable: outliers set in the config that the
// window cannot feed (a young history) leave a note instead of nothing;
// left at their default, they are skipped quietly.
func TestOutliersSetButNotComputable(t *testing.T) {
	cfg := rules.DefaultDrift()
	cur := day("2024-03-19", 2000, allHours(), []int64{4}, 0)
	base := baselineOf(day("2024-03-17", 2000, allHours(), []int64{4}, 0), day("2024-03-18", 2000, allHours(), []int64{4}, 0))
	for _, r := range Drift(&cfg, cur, base) {
		if r.Kind == DriftOutlier {
			t.Errorf("default outliers on 2 days: %s %q, want nothing", r.Name, r.Note)
		}
	}
	cfg.OutliersGiven = true
	got := find(t, Drift(&cfg, cur, base), "outliers")
	if got.Status != StatusNoBaseline || got.Note != "not checked: the window has 2 readable days, and outliers need 3" {
		t.Errorf("outliers set on 2 days: status %v, note %q", got.Status, got.Note)
	}
	three := baselineOf(day("2024-03-16", 2000, allHours(), []int64{4}, 0), day("2024-03-17", 2000, allHours(), []int64{4}, 0), day("2024-03-18", 2000, allHours(), []int64{4}, 0))
	if got := find(t, Drift(&cfg, cur, three), rules.MovieRatingEvent+":volume_outlier"); got.Status != StatusPass {
		t.Errorf("outliers on 3 days: status %v, want pass", got.Status)
	}
}

// TestDriftCheckOnAFieldNoEventHas: an explicit check on a field that
// neither side has (a misspelt field of an extra type) says so, rather
// than "no values on one side".
func TestDriftCheckOnAFieldNoEventHas(t *testing.T) {
	cfg := rules.DefaultDrift()
	cfg.Checks = []rules.DriftCheck{{Name: "c", Event: rules.MovieRatingEvent, Field: "ratng", Metric: "psi", Warn: 0.1, Fail: 0.25}}
	cur := day("2024-03-19", 2000, allHours(), []int64{4}, 0)
	got := find(t, Drift(&cfg, cur, baselineOf(day("2024-03-18", 2000, allHours(), []int64{4}, 0))), "c")
	if got.Status != StatusPass || got.Note != "no MovieRatingEvent had a field ratng, today or in the baseline" {
		t.Errorf("status %v, note %q", got.Status, got.Note)
	}
}

// TestAnomalyWithinSamplingNoise: 17, 25 and 17 failures of 1000 on three
// days and 28 today is what counting noise gives (a binomial standard
// error of about 0.44 points against a rise of 1.1); it must not fail the
// gate.
func TestAnomalyWithinSamplingNoise(t *testing.T) {
	cfg := rules.DefaultDrift()
	var days []*Result
	for i, failed := range []int64{17, 25, 17} {
		r := day("2024-03-1"+string(rune('0'+i)), 2000, allHours(), []int64{4}, 0)
		r.Rules = []RuleResult{{Name: "rating-in-range", Checked: 1000, Failed: failed}}
		days = append(days, r)
	}
	cur := day("2024-03-19", 2000, allHours(), []int64{4}, 0)
	cur.Rules = []RuleResult{{Name: "rating-in-range", Checked: 1000, Failed: 28}}
	if got := find(t, Drift(&cfg, cur, baselineOf(days...)), "rating-in-range:anomaly"); got.Status != StatusPass {
		t.Errorf("status %v (z %v, %s), want pass", got.Status, got.Value, got.Note)
	}
}

// An explicit check on a field the baseline had, which today cannot be
// compared (the field vanished, went all-null, was retyped or became too
// many-valued), must not pass silently; with too few events today it is
// reported and cannot warn, as any check.
func TestExplicitCheckThatCannotBeComputedWarns(t *testing.T) {
	cfg := rules.DefaultDrift()
	cfg.Checks = []rules.DriftCheck{{Name: "c", Event: rules.MovieRatingEvent, Field: "rating", Metric: "psi", Warn: 0.1, Fail: 0.25}}
	base := day("2024-03-18", 2000, allHours(), []int64{4, 5, 3}, 0)
	timeOnly := rules.NewShape(rules.MovieRatingEvent, []rules.Field{{Name: "time", Kind: rules.KindString}})
	for _, tc := range []struct {
		events int
		want   Status
	}{{2000, StatusWarn}, {int(cfg.MinEvents) - 1, StatusPass}} {
		b := profile.NewBuilder()
		for i := range tc.events {
			b.Observe(&testEvent{timeOnly, []rules.Value{rules.Str(fmt.Sprintf("2024-03-19T%02d:00:00", i%24))}})
		}
		p := b.Profile()
		p.Dates = []string{"2024-03-19"}
		cur := &Result{Date: "2024-03-19", Events: map[string]int64{rules.MovieRatingEvent: int64(tc.events)}, Profile: p}
		got := find(t, Drift(&cfg, cur, baselineOf(base)), "c")
		lost := strings.HasPrefix(got.Note, "not computable: ")
		if got.Status != tc.want || !strings.Contains(got.Note, "no values today") || lost != (tc.want == StatusWarn) {
			t.Errorf("%d events today: status %v, note %q; want %v and a note that the field has no values today", tc.events, got.Status, got.Note, tc.want)
		}
	}
}

// A check whose warn and fail are both 0 never warns or fails, and its
// note says so: warn: 0 reads like "warn on any change".
func TestDriftLevelsOffAreSaid(t *testing.T) {
	cfg := rules.DefaultDrift()
	cfg.Checks = []rules.DriftCheck{{Name: "c", Event: rules.MovieRatingEvent, Field: "rating", Metric: "linf"}}
	base := day("2024-03-18", 2000, allHours(), []int64{4, 5, 3}, 0)
	cur := day("2024-03-19", 2000, allHours(), []int64{1, 1, 1}, 0)
	got := find(t, Drift(&cfg, cur, baselineOf(base)), "c")
	if got.Status != StatusPass || got.Value < 0.5 || !strings.Contains(got.Note, "reported only") {
		t.Errorf("status %v, value %v, note %q; want pass, a large value, and a note that it is reported only", got.Status, got.Value, got.Note)
	}
}

// TestHistoryEntryUnderAnotherDatesName: an entry copied or renamed to
// another day's file is skipped with a warning, so that a window does not
// count one day twice or take it for a day never scanned.
func TestHistoryEntryUnderAnotherDatesName(t *testing.T) {
	dir := t.TempDir()
	h := OpenHistory(dir)
	if err := h.Save(context.Background(), NewHistoryEntry(day("2024-03-17", 100, allHours(), []int64{4}, 0))); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "2024-03-17.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "2024-03-18.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	base, problems := h.LoadBaseline(context.Background(), rules.Baseline{Kind: rules.BaselineWindow, Window: 3}, "2024-03-19")
	if base == nil || !slices.Equal(base.Dates, []string{"2024-03-17"}) {
		t.Fatalf("baseline %+v, want the one day 2024-03-17", base)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], `2024-03-18.json: holds the entry of "2024-03-17"`) {
		t.Errorf("problems %q, want one naming the copy", problems)
	}
}

// clicks builds a result of n events of a generic type Click: a time
// spread over the hours, and fields userId and status whose values val
// gives for event i.
func clicks(date string, n int, val func(i int) (userID, status rules.Value)) *Result {
	shape := rules.NewShape("Click", []rules.Field{{Name: "time", Kind: rules.KindString}, {Name: "userId"}, {Name: "status"}})
	b := profile.NewBuilder()
	for i := range n {
		u, s := val(i)
		b.Observe(&testEvent{shape, []rules.Value{rules.Str(fmt.Sprintf("%sT%02d:00:00", date, i%24)), u, s}})
	}
	p := b.Profile()
	p.Dates = []string{date}
	return &Result{Date: date, Events: map[string]int64{"Click": int64(n)}, Profile: p}
}

// TestDefaultChecksNoticeRetypeAndManyValues: a field retyped (userId int
// yesterday, string today) or a categorical field that took too many
// values to compare frequencies (status: 3 values, then thousands) cannot
// be compared, and the default checks say so with a warning, as explicit
// checks do, instead of leaving the field out. A retype that can still be
// measured (few values) keeps its measure and says it was retyped.
func TestDefaultChecksNoticeRetypeAndManyValues(t *testing.T) {
	cfg := rules.DefaultDrift()
	statuses := []string{"ok", "ok", "ok", "ok", "redirect", "error"}
	usual := func(i int) (rules.Value, rules.Value) {
		return rules.Int(int64(1 + i*7919%5000)), rules.Str(statuses[i%len(statuses)])
	}
	base := clicks("2024-03-18", 5000, usual)
	tests := []struct {
		name   string
		cur    func(i int) (rules.Value, rules.Value)
		check  string
		status Status
		note   string
	}{
		{name: "userId int, then string", check: "Click.userId:psi", status: StatusWarn,
			cur: func(i int) (rules.Value, rules.Value) {
				u, s := usual(i)
				return rules.Str(fmt.Sprintf("u-%d", u.Int)), s
			},
			note: "not computable: retyped: int in the baseline, string today"},
		{name: "status of 3 values, then thousands", check: "Click.status:linf", status: StatusWarn,
			cur: func(i int) (rules.Value, rules.Value) {
				u, _ := usual(i)
				return u, rules.Str(fmt.Sprintf("error %d", i))
			},
			note: "not computable: too many distinct values to compare frequencies: 3 in the baseline, about 5"},
		{name: "status string, then int: measured, and said", check: "Click.status:linf", status: StatusFail,
			cur: func(i int) (rules.Value, rules.Value) {
				u, _ := usual(i)
				return u, rules.Int(200)
			},
			note: "retyped: string in the baseline, int today"},
		{name: "an ordinary day is quiet", check: "Click.status:linf", status: StatusPass, cur: usual},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := find(t, Drift(&cfg, clicks("2024-03-19", 5000, tc.cur), baselineOf(base)), tc.check)
			if got.Status != tc.status || !strings.Contains(got.Note, tc.note) {
				t.Errorf("status %v, note %q; want %v and a note saying %q", got.Status, got.Note, tc.status, tc.note)
			}
		})
	}
}
