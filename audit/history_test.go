package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/rules"
)

// TestReRunWithInputErrorsSaysTheEntryIsKept: a re-run of a day whose
// files could not all be read leaves the earlier run's entry of the date
// in place, and the result says so (a warning the reports show), with or
// without an earlier day to compare with; a day with no entry yet says it
// is not added. A clean re-run replaces the entry and warns of nothing.
func TestReRunWithInputErrorsSaysTheEntryIsKept(t *testing.T) {
	ctx := context.Background()
	cfg := rules.DefaultDrift()
	tests := []struct {
		name       string
		dayBefore  bool // the history has 2024-03-18, a baseline
		sameDay    bool // the history has 2024-03-19 from an earlier run
		inputErr   bool
		wantNote   string // of the "history entry" warning; "" for none
		wantBase   string // in the "baseline" entry's note, when there is no baseline
		wantRecord bool   // Record writes the day's entry
	}{
		{name: "re-run, no earlier day", sameDay: true, inputErr: true,
			wantNote: "the history keeps its earlier entry of 2024-03-19, not this run's: input errors", wantBase: "no baseline yet: the history has no day before 2024-03-19"},
		{name: "re-run beside a baseline", dayBefore: true, sameDay: true, inputErr: true,
			wantNote: "the history keeps its earlier entry of 2024-03-19, not this run's: input errors"},
		{name: "first run of the day, beside a baseline", dayBefore: true, inputErr: true,
			wantNote: "2024-03-19 is not added to the history: input errors"},
		{name: "first run of the history", inputErr: true,
			wantNote: "2024-03-19 is not added to the history", wantBase: "this day is not added to the history either"},
		{name: "clean re-run replaces", dayBefore: true, sameDay: true, wantRecord: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &DriftHistory{History: OpenHistory(t.TempDir()), Baseline: rules.Baseline{Kind: rules.BaselinePrevious}}
			if tc.dayBefore {
				if err := h.Save(ctx, NewHistoryEntry(day("2024-03-18", 100, allHours(), []int64{4}, 0))); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(h.Dir(), "2024-03-19.json")
			var before []byte
			if tc.sameDay {
				if err := h.Save(ctx, NewHistoryEntry(day("2024-03-19", 100, allHours(), []int64{4}, 0))); err != nil {
					t.Fatal(err)
				}
				var err error
				if before, err = os.ReadFile(path); err != nil {
					t.Fatal(err)
				}
			}
			r := day("2024-03-19", 70, allHours(), []int64{1}, 0) // unlike the earlier run
			if tc.inputErr {
				r.Inputs = []FileResult{{Path: "a.log.gz", Err: "unexpected EOF"}}
			}
			h.Apply(ctx, &cfg, r)

			var notes []DriftResult
			for _, d := range r.Drift {
				if d.Kind == DriftHistoryEntry {
					notes = append(notes, d)
				}
			}
			switch {
			case tc.wantNote == "" && len(notes) > 0:
				t.Errorf("history entry warning %q on a clean run", notes[0].Note)
			case tc.wantNote != "" && len(notes) != 1:
				t.Errorf("%d history entry warnings, want 1 saying %q", len(notes), tc.wantNote)
			case tc.wantNote != "":
				if d := notes[0]; d.Status != StatusWarn || d.Name != HistoryEntryName || !strings.Contains(d.Note, tc.wantNote) {
					t.Errorf("history entry warning %v %q %q, want warn %q saying %q", d.Status, d.Name, d.Note, HistoryEntryName, tc.wantNote)
				}
				if got := HistoryNote(r); got != notes[0].Note {
					t.Errorf("HistoryNote = %q, want %q", got, notes[0].Note)
				}
			}
			if tc.wantBase != "" {
				if base := find(t, r.Drift, "baseline"); !strings.Contains(base.Note, tc.wantBase) {
					t.Errorf("baseline note %q, want it to say %q", base.Note, tc.wantBase)
				}
			}

			err := h.Record(ctx, r)
			after, _ := os.ReadFile(path)
			switch {
			case tc.wantRecord && err != nil:
				t.Fatalf("Record: %v", err)
			case tc.wantRecord:
				e, err := h.Load(ctx, "2024-03-19")
				if err != nil || e.Events["MovieRatingEvent"] != 70 {
					t.Errorf("after a clean re-run the entry is %+v (%v), want this run's 70 events", e, err)
				}
			case !errors.Is(err, ErrKeptOut):
				t.Errorf("Record of a day with input errors: %v, want ErrKeptOut", err)
			case string(after) != string(before):
				t.Errorf("Record of a day with input errors changed %s", path)
			}
			if tc.inputErr && r.InputErrors() != 1 {
				t.Errorf("%d input errors after Record, want the one of the scan: refusing is no I/O error", r.InputErrors())
			}
		})
	}
}

// TestBaselineGapIsSaid: previous takes the latest readable day and
// window:N the N latest, however far back; when they are not the days
// just before the audited one, the result says how far they are, and no
// check's status changes for it. A missing baseline keeps its own note.
func TestBaselineGapIsSaid(t *testing.T) {
	ctx := context.Background()
	cfg := rules.DefaultDrift()
	previous := rules.Baseline{Kind: rules.BaselinePrevious}
	window := func(n int) rules.Baseline { return rules.Baseline{Kind: rules.BaselineWindow, Window: n} }
	tests := []struct {
		name      string
		history   []string // dates with an entry
		damaged   []string // dates with an unreadable entry
		spec      rules.Baseline
		wantDates []string
		wantNote  string
	}{
		{name: "previous is the day before", history: []string{"2024-01-02", "2024-03-18"}, spec: previous,
			wantDates: []string{"2024-03-18"}},
		{name: "previous after a pause", history: []string{"2024-01-01", "2024-01-02"}, spec: previous,
			wantDates: []string{"2024-01-02"},
			wantNote:  "baseline 2024-01-02 is 77 days before 2024-03-19: no history entry for the 76 days between"},
		{name: "previous two days before", history: []string{"2024-03-17"}, spec: previous,
			wantDates: []string{"2024-03-17"},
			wantNote:  "baseline 2024-03-17 is 2 days before 2024-03-19: no history entry for the day between"},
		{name: "previous past a damaged day", history: []string{"2024-03-17"}, damaged: []string{"2024-03-18"}, spec: previous,
			wantDates: []string{"2024-03-17"},
			wantNote:  "baseline 2024-03-17 is 2 days before 2024-03-19: no readable history entry for the day between (1 could not be read; see the history warnings)"},
		{name: "previous in a backfill", history: []string{"2024-01-02", "2024-03-20"}, spec: previous,
			wantDates: []string{"2024-01-02"},
			wantNote:  "baseline 2024-01-02 is 77 days before 2024-03-19: no history entry for the 76 days between"},
		{name: "whole window", history: []string{"2024-03-15", "2024-03-16", "2024-03-17", "2024-03-18"}, spec: window(3),
			wantDates: []string{"2024-03-16", "2024-03-17", "2024-03-18"}},
		{name: "window longer than the history", history: []string{"2024-03-16", "2024-03-17", "2024-03-18"}, spec: window(7),
			wantDates: []string{"2024-03-16", "2024-03-17", "2024-03-18"},
			wantNote:  "baseline window:7 holds 3 days, not 7: no history entry before 2024-03-16"},
		{name: "window with a hole", history: []string{"2024-03-14", "2024-03-15", "2024-03-16", "2024-03-18"}, spec: window(3),
			wantDates: []string{"2024-03-15", "2024-03-16", "2024-03-18"},
			wantNote:  "baseline window:3 reaches back to 2024-03-15, 4 days before 2024-03-19: no history entry for 1 of the 3 days between"},
		{name: "window after a pause", history: []string{"2023-12-30", "2023-12-31", "2024-01-01", "2024-01-02"}, spec: window(3),
			wantDates: []string{"2023-12-31", "2024-01-01", "2024-01-02"},
			wantNote:  "baseline window:3 reaches back to 2023-12-31, 79 days before 2024-03-19: no history entry for 76 of the 78 days between; its latest day, 2024-01-02, is 77 days before"},
		{name: "short window far back", history: []string{"2024-02-08", "2024-03-10", "2024-03-18"}, spec: window(7),
			wantDates: []string{"2024-02-08", "2024-03-10", "2024-03-18"},
			wantNote:  "baseline window:7 holds 3 days, not 7, and reaches back to 2024-02-08, 40 days before 2024-03-19: no history entry for 37 of the 39 days between, and none before"},
		{name: "baseline file names its day", history: []string{"2024-01-02"}, spec: rules.Baseline{Kind: rules.BaselineFile},
			wantDates: []string{"2024-01-02"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			h := OpenHistory(dir)
			for _, d := range tc.history {
				if err := h.Save(ctx, NewHistoryEntry(day(d, 5000, allHours(), []int64{3, 4, 5}, 0))); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range tc.damaged {
				if err := os.WriteFile(filepath.Join(dir, d+".json"), []byte(`{"history_version":`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.spec.Kind == rules.BaselineFile {
				tc.spec.Path = filepath.Join(dir, tc.history[0]+".json")
			}
			r := day("2024-03-19", 5000, allHours(), []int64{3, 4, 5}, 0)
			(&DriftHistory{History: h, Baseline: tc.spec}).Apply(ctx, &cfg, r)
			if !slices.Equal(r.BaselineDates, tc.wantDates) {
				t.Errorf("baseline dates %v, want %v", r.BaselineDates, tc.wantDates)
			}
			if r.BaselineNote != tc.wantNote {
				t.Errorf("baseline note\n%q, want\n%q", r.BaselineNote, tc.wantNote)
			}
			// The same days as the baseline's: a gap is information, and
			// only the damaged entry's own warning may warn.
			for _, d := range r.Drift {
				if d.Status != StatusPass && !(d.Name == "history" && len(tc.damaged) > 0) {
					t.Errorf("%s: %v (%s), want pass", d.Name, d.Status, d.Note)
				}
			}
		})
	}
}

// TestBackfillWithoutBaselineHasOneNote: the first day of a backfill has
// no baseline, which its "baseline" entry says; no gap note comes with it.
func TestBackfillWithoutBaselineHasOneNote(t *testing.T) {
	ctx := context.Background()
	cfg := rules.DefaultDrift()
	h := OpenHistory(t.TempDir())
	if err := h.Save(ctx, NewHistoryEntry(day("2024-06-01", 100, allHours(), []int64{4}, 0))); err != nil {
		t.Fatal(err)
	}
	r := day("2024-03-19", 100, allHours(), []int64{4}, 0)
	(&DriftHistory{History: h, Baseline: rules.Baseline{Kind: rules.BaselinePrevious}}).Apply(ctx, &cfg, r)
	if base := find(t, r.Drift, "baseline"); !strings.Contains(base.Note, "no day before 2024-03-19") {
		t.Errorf("baseline entry %q, want the backfill's note", base.Note)
	}
	if r.BaselineNote != "" || r.BaselineSource != "" {
		t.Errorf("baseline %q, note %q; want neither without a baseline", r.BaselineSource, r.BaselineNote)
	}
}
