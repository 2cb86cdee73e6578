package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dqaudit/dqaudit/audit/profile"
	"github.com/dqaudit/dqaudit/audit/store"
	"github.com/dqaudit/dqaudit/rules"
)

// HistoryVersion is the version of a history file's layout.
const HistoryVersion = 1

// HistoryEntry is what one scan leaves in the history for the drift checks
// of later days: the day's profile and the counts the checks compare.
type HistoryEntry struct {
	Version   int                        `json:"history_version"`
	Date      string                     `json:"date"`
	Events    map[string]int64           `json:"events"`
	Malformed int64                      `json:"malformed"`
	Rules     map[string]RuleCounts      `json:"rules"`
	Schemas   map[string][]HistorySchema `json:"schemas"`
	Profile   *profile.Profile           `json:"profile"`
}

// RuleCounts is one rule's counts on one day.
type RuleCounts struct {
	Checked int64 `json:"checked"`
	Failed  int64 `json:"failed"`
	// Definition is the rule's RuleDefinition on that day; "" in entries
	// written before it was kept, which are taken as unchanged.
	Definition string `json:"definition,omitempty"`
}

// RuleDefinition is a short hash of what r counts (rules.Rule.Definition).
func RuleDefinition(r rules.Rule) string {
	return fmt.Sprintf("%x", sha256.Sum256([]byte(r.Definition())))[:16]
}

// sameRule reports whether c was counted by the rule as rr defines it:
// a failed share counted under another definition (a threshold, field or
// where changed) says nothing of today's.
func sameRule(c RuleCounts, rr RuleResult) bool {
	return c.Definition == "" || rr.Definition == "" || c.Definition == rr.Definition
}

// FailedRatio is Failed / Checked, 0 when nothing was checked.
func (c RuleCounts) FailedRatio() float64 { return failedRatio(c.Failed, c.Checked) }

// HistorySchema is a writer schema as the history keeps it.
type HistorySchema struct {
	Fingerprint string        `json:"fingerprint"`
	Fields      []SchemaField `json:"fields"`
}

// NewHistoryEntry extracts what the history keeps of a result.
func NewHistoryEntry(r *Result) *HistoryEntry {
	e := &HistoryEntry{
		Version: HistoryVersion, Date: r.Date, Events: r.Events, Malformed: r.Malformed.Total,
		Rules: map[string]RuleCounts{}, Schemas: map[string][]HistorySchema{}, Profile: r.Profile,
	}
	for _, rr := range r.Rules {
		e.Rules[rr.Name] = RuleCounts{Checked: rr.Checked, Failed: rr.Failed, Definition: rr.Definition}
	}
	for event, list := range r.Schemas {
		for _, s := range list {
			e.Schemas[event] = append(e.Schemas[event], HistorySchema{Fingerprint: s.Fingerprint, Fields: s.Fields})
		}
	}
	return e
}

// History is a directory of per-date history files, "YYYY-MM-DD.json": a
// local directory, or an object-storage prefix (see package store).
type History struct {
	dir string
}

// OpenHistory returns the history kept in dir; the directory is created
// when the first entry is saved.
func OpenHistory(dir string) *History { return &History{dir: dir} }

// Dir returns the history's directory.
func (h *History) Dir() string { return h.dir }

// Dates returns the dates that have an entry, oldest first.
func (h *History) Dates(ctx context.Context) ([]string, error) {
	names, err := store.List(ctx, h.dir)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	var dates []string
	for _, name := range names {
		date, ok := strings.CutSuffix(name, ".json")
		if !ok {
			continue
		}
		if _, err := time.Parse(DateLayout, date); err == nil {
			dates = append(dates, date)
		}
	}
	slices.Sort(dates)
	return dates, nil
}

// Load reads the entry of one date.
func (h *History) Load(ctx context.Context, date string) (*HistoryEntry, error) {
	path := store.Join(h.dir, date+".json")
	e, err := ReadHistoryEntry(ctx, path)
	if err == nil && e.Date != date {
		// A copy saved under another day's name would count one day
		// twice in a window, or stand in for a day never scanned.
		return nil, fmt.Errorf("%s: holds the entry of %q, not of its name's date", path, e.Date)
	}
	return e, err
}

// ReadHistoryEntry reads and validates one history file.
func ReadHistoryEntry(ctx context.Context, path string) (*HistoryEntry, error) {
	b, err := store.ReadFile(ctx, path)
	if err != nil {
		return nil, err
	}
	var e HistoryEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if e.Version != HistoryVersion {
		return nil, fmt.Errorf("%s: history_version %d, this dqaudit reads %d", path, e.Version, HistoryVersion)
	}
	if e.Profile == nil {
		return nil, fmt.Errorf("%s: no profile", path)
	}
	return &e, nil
}

// Save writes the entry of its date atomically, replacing an earlier run's
// entry of the same date. Stale temporary files of killed runs are removed
// from a local history.
func (h *History) Save(ctx context.Context, e *HistoryEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if !store.IsRemote(h.dir) {
		if err := os.MkdirAll(h.dir, 0o755); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		RemoveStaleTemps(h.dir)
	}
	err = store.WriteAtomic(ctx, store.Join(h.dir, e.Date+".json"), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// staleTemp matches the temporary files of reports and history entries:
// renameio names them ".<target><random digits>".
var staleTemp = regexp.MustCompile(`^\.(report\.(html|md|json)|\d{4}-\d{2}-\d{2}\.json)\d+$`)

// RemoveStaleTemps deletes the temporary files that a killed run left in
// dir more than a minute ago (a younger one may be a running write); it is
// best-effort.
func RemoveStaleTemps(dir string) { removeStale(dir, staleTemp) }

// RemoveStaleTempsOf is RemoveStaleTemps for the temporary files of one
// target, such as a partial file, whose name is the user's.
func RemoveStaleTempsOf(target string) {
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	removeStale(dir, regexp.MustCompile(`^\.`+regexp.QuoteMeta(base)+`\d+$`))
}

func removeStale(dir string, temp *regexp.Regexp) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() && temp.MatchString(name) {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Minute {
				os.Remove(filepath.Join(dir, name))
			}
		}
	}
}

// Baseline is what today is compared with: one or more earlier days.
type Baseline struct {
	Source  string           // "previous", "window:N" or a file path
	Dates   []string         // the days it covers, oldest first
	Entries []*HistoryEntry  // one per date (a file baseline has one)
	Profile *profile.Profile // the entries' profiles merged
	// Asked is how many days the source asks for: 1 for previous, N for
	// window:N, 0 for a file, which names its day itself.
	Asked int
	// Skipped counts the history entries passed over as unreadable
	// while the days were picked.
	Skipped int
}

// Days is how many days the baseline covers, at least 1.
func (b *Baseline) Days() int { return max(len(b.Entries), 1) }

// earlier returns the last n dates of the history before date, oldest
// first.
func (h *History) earlier(ctx context.Context, date string, n int) ([]string, error) {
	dates, err := h.Dates(ctx)
	if err != nil {
		return nil, err
	}
	i, _ := slices.BinarySearch(dates, date)
	dates = dates[:i]
	return dates[max(0, len(dates)-n):], nil
}

// LoadBaseline picks the baseline of date from the history: the latest
// readable earlier date (previous), the N latest readable earlier dates
// (window), however far back they lie, or a history file named by path;
// GapNote says when they are not the days just before date. Unreadable
// history files are skipped and described in problems, so that one
// damaged day does not leave a run without a baseline; no readable
// earlier date gives a nil Baseline.
func (h *History) LoadBaseline(ctx context.Context, spec rules.Baseline, date string) (b *Baseline, problems []string) {
	if spec.Kind == rules.BaselineFile {
		e, err := ReadHistoryEntry(ctx, spec.Path)
		if err != nil {
			return nil, []string{"baseline file skipped: " + err.Error()}
		}
		return newBaseline(spec.String(), []*HistoryEntry{e}), nil
	}
	n := 1
	if spec.Kind == rules.BaselineWindow {
		n = spec.Window
	}
	dates, err := h.earlier(ctx, date, math.MaxInt)
	if err != nil {
		return nil, []string{err.Error()}
	}
	var entries []*HistoryEntry // latest first
	for i := len(dates) - 1; i >= 0 && len(entries) < n; i-- {
		e, err := h.Load(ctx, dates[i])
		if err != nil {
			problems = append(problems, "history entry skipped: "+err.Error())
			continue
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, problems
	}
	slices.Reverse(entries)
	b = newBaseline(spec.String(), entries)
	b.Asked, b.Skipped = n, len(problems)
	return b, problems
}

// GapNote says how b's days differ from the days just before date that
// its source asks for, and is "" when they are those days: a previous
// baseline more than a day before date, or a window that holds fewer days
// than asked or reaches back further than its N days. A window counts
// history entries, not calendar days, so both happen once the history
// has a gap. A baseline file, which names its own day, gets no note.
func (b *Baseline) GapNote(date string) string {
	if b.Asked == 0 || len(b.Dates) == 0 {
		return ""
	}
	day, err := time.Parse(DateLayout, date)
	oldest, err1 := time.Parse(DateLayout, b.Dates[0])
	latest, err2 := time.Parse(DateLayout, b.Dates[len(b.Dates)-1])
	if err != nil || err1 != nil || err2 != nil {
		return ""
	}
	before := func(t time.Time) int { return int(day.Sub(t).Hours() / 24) } // UTC: every day has 24 hours
	reach := before(oldest)
	between := reach - 1            // days after the oldest and before date
	missing := reach - len(b.Dates) // of those, days the baseline lacks
	short := len(b.Dates) < b.Asked // the history has no more readable days
	entry, unread := "history entry", ""
	if b.Skipped > 0 {
		entry = "readable history entry"
		unread = fmt.Sprintf(" (%d could not be read; see the history warnings)", b.Skipped)
	}
	if b.Asked == 1 {
		if reach <= 1 {
			return ""
		}
		return fmt.Sprintf("baseline %s is %d days before %s: no %s for %s between%s",
			b.Dates[0], reach, date, entry, ofDays(missing, between), unread)
	}
	if !short && missing == 0 {
		return ""
	}
	note := "baseline " + b.Source
	if short {
		note += fmt.Sprintf(" holds %s, not %d", nDays(len(b.Dates)), b.Asked)
	}
	if missing == 0 {
		return note + ": no " + entry + " before " + b.Dates[0] + unread
	}
	if short {
		note += ", and"
	}
	note += fmt.Sprintf(" reaches back to %s, %d days before %s: no %s for %s between", b.Dates[0], reach, date, entry, ofDays(missing, between))
	if short {
		note += ", and none before"
	}
	if lead := before(latest); lead > 1 {
		note += fmt.Sprintf("; its latest day, %s, is %d days before", b.Dates[len(b.Dates)-1], lead)
	}
	return note + unread
}

// ofDays is "the day", "the 76 days" or "12 of the 19 days": missing days
// among n.
func ofDays(missing, n int) string {
	switch {
	case missing == n && n == 1:
		return "the day"
	case missing == n:
		return fmt.Sprintf("the %d days", n)
	}
	return fmt.Sprintf("%d of the %d days", missing, n)
}

// nDays is "1 day" or "7 days".
func nDays(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

func newBaseline(source string, entries []*HistoryEntry) *Baseline {
	b := &Baseline{Source: source, Entries: entries, Profile: &profile.Profile{}}
	for _, e := range entries {
		b.Dates = append(b.Dates, e.Date)
		b.Profile.Merge(e.Profile)
	}
	return b
}

// TrendDays is how many earlier days the rule trends of a report show.
const TrendDays = 30

// RuleTrends returns, per rule of r, its failed share on up to n earlier
// days of the history and today, oldest first. Unreadable entries are
// skipped (LoadBaseline reports them).
func (h *History) RuleTrends(ctx context.Context, r *Result, n int) map[string][]TrendPoint {
	dates, err := h.earlier(ctx, r.Date, n)
	if err != nil {
		return nil
	}
	var entries []*HistoryEntry
	for _, d := range dates {
		if e, err := h.Load(ctx, d); err == nil {
			entries = append(entries, e)
		}
	}
	trends := map[string][]TrendPoint{}
	out := map[string][]TrendPoint{}
	for _, rr := range r.Rules {
		for _, e := range entries {
			if c, ok := e.Rules[rr.Name]; ok && sameRule(c, rr) {
				trends[rr.Name] = append(trends[rr.Name], TrendPoint{Date: e.Date, Value: c.FailedRatio()})
			}
		}
		if len(trends[rr.Name]) > 0 {
			out[rr.Name] = append(trends[rr.Name], TrendPoint{Date: r.Date, Value: rr.FailedRatio()})
		}
	}
	return out
}

// DriftHistory is the history a scan takes its baseline from and records
// its day in.
type DriftHistory struct {
	*History
	Baseline rules.Baseline
}

// Apply runs the drift checks of r against the baseline. A history that
// cannot be read fully does not stop the run: each problem becomes a
// warning entry of r.Drift.
func (h *DriftHistory) Apply(ctx context.Context, cfg *rules.Drift, r *Result) {
	bl, problems := h.LoadBaseline(ctx, h.Baseline, r.Date)
	r.DriftEnabled = true
	r.Drift = Drift(cfg, r, bl)
	keptOut := r.InputErrors() > 0
	kept := keptOut && h.hasEntry(ctx, r.Date)
	if bl == nil {
		// Say why there is none: the default note is for a history that
		// has no earlier day, and that this run starts.
		note := ""
		switch {
		case len(problems) > 0:
			note = "no usable baseline: the history could not be read (see the history warnings); drift is not checked until it can be"
		case kept:
			note = "no baseline yet: the history has no day before " + r.Date
		case keptOut:
			note = "no baseline yet, and this day is not added to the history either, since its files could not all be read"
		default:
			// A backfill that starts with a late day: the history is not
			// new, it only has nothing before this date.
			if dates, err := h.Dates(ctx); err == nil && len(dates) > 0 && dates[len(dates)-1] > r.Date {
				first := dates[0]
				if first == r.Date && len(dates) > 1 {
					first = dates[1] // this date's own earlier run is no other day
				}
				note = "no baseline: the history has no day before " + r.Date + " (its first other day is " + first + "); drift is checked once earlier days are in it"
			}
		}
		for i := range r.Drift {
			if d := &r.Drift[i]; note != "" && d.Kind == DriftBaseline {
				d.Note = note // Drift's one entry for the missing baseline
			}
		}
	}
	for _, p := range problems {
		r.Drift = append(r.Drift, DriftResult{Name: "history", Kind: DriftBaseline, Value: math.NaN(), Status: StatusWarn, Note: p})
	}
	if keptOut {
		// Record will not write this day: say so in the reports, and
		// above all that a re-run leaves the earlier run's entry in place.
		r.Drift = append(r.Drift, DriftResult{Name: HistoryEntryName, Kind: DriftHistoryEntry, Value: math.NaN(), Status: StatusWarn,
			Note: h.keptOutNote(r.Date, kept)})
	}
	if bl != nil {
		// The notes above are for a missing baseline, this one for a
		// baseline that is not the day, or days, just before.
		r.BaselineSource, r.BaselineDates, r.BaselineNote = bl.Source, bl.Dates, bl.GapNote(r.Date)
	}
	r.RuleTrends = h.RuleTrends(ctx, r, TrendDays)
}

// HistoryEntryName is the name of the drift entry that says a day with
// input errors was kept out of the history (kind DriftHistoryEntry).
const HistoryEntryName = "history entry"

// ErrKeptOut is Record's answer for a day whose files could not all be
// read: nothing is written, and the history keeps what it had of the date.
var ErrKeptOut = errors.New("input errors: the day is kept out of the history")

// hasEntry reports whether the history has a file for date, readable or
// not: either way it stays as it is when this run is kept out.
func (h *History) hasEntry(ctx context.Context, date string) bool {
	dates, err := h.Dates(ctx)
	return err == nil && slices.Contains(dates, date)
}

// keptOutNote says that date's run is not recorded, and whether an
// earlier run's entry of the date stays in its place.
func (h *History) keptOutNote(date string, kept bool) string {
	if kept {
		return fmt.Sprintf("the history keeps its earlier entry of %s, not this run's: input errors would skew later baselines; a run that reads every file replaces it (%s)",
			date, store.Join(h.dir, date+".json"))
	}
	return date + " is not added to the history: input errors would skew later baselines"
}

// HistoryNote returns the note of r's history entry warning (see Apply):
// what happened to the day's entry when it was kept out of the history,
// or "" when it was not.
func HistoryNote(r *Result) string {
	for _, d := range r.Drift {
		if d.Kind == DriftHistoryEntry {
			return d.Note
		}
	}
	return ""
}

// Record saves r's day in the history; a failure becomes an input error
// of r (exit 3), so that the reports tell it, and is returned. A day with
// input errors is not saved, so that it cannot overwrite a clean run's
// entry or skew later baselines: Record returns ErrKeptOut, and Apply has
// already told the reports.
func (h *DriftHistory) Record(ctx context.Context, r *Result) error {
	if r.InputErrors() > 0 {
		return ErrKeptOut
	}
	err := h.Save(ctx, NewHistoryEntry(r))
	if err != nil {
		r.Inputs = append(r.Inputs, FileResult{Input: "history", Format: "history", Path: h.Dir(), Err: err.Error(), ErrOffset: -1, ErrBlock: -1})
	}
	return err
}
