package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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
