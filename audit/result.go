package audit

import (
	"time"

	"github.com/dqaudit/dqaudit/audit/profile"
)

// Result is everything one scan found. It is the single model that the
// gate and every report read. Slices are sorted and maps are keyed, so a
// Result of the same inputs and config is the same for any worker count.
type Result struct {
	Date     string
	Version  string   // dqaudit's version, set by the caller
	Status   Status   // set by the gate
	ExitCode ExitCode // set by the gate

	StartedAt time.Time
	Duration  time.Duration
	Workers   int
	// GunzipRereads are the files whose Gunzip program output was refused
	// and that the built-in decoder read again, in plan order. Like the
	// times, they vary with the machine (what is installed); the rest of
	// the Result does not.
	GunzipRereads []GunzipReread
	// Reports are the names of the report files the run writes
	// (report.json, report.html, report.md), which a report may point to
	// for what it leaves out; empty means all of them.
	Reports []string

	Events    map[string]int64 // events per event type
	Hours     map[string]*[24]int64
	Inputs    []FileResult
	Malformed MalformedSummary
	Schemas   map[string][]SchemaSeen // writer schemas per event type, by first file
	Rules     []RuleResult
	Profile   *profile.Profile // the day's profile, saved to the history

	// Drift holds the drift checks when the config has a drift section;
	// DriftEnabled tells "not configured" from "nothing to report".
	DriftEnabled bool
	Drift        []DriftResult
	// Baseline names what drift compared with: its source and dates, and
	// in BaselineNote, when they are not the days just before the date,
	// how far they are (Baseline.GapNote). The note changes no status.
	BaselineSource string
	BaselineDates  []string
	BaselineNote   string
	// RuleTrends holds, per rule, its failed share over the history's
	// last days and today (only rules with history).
	RuleTrends map[string][]TrendPoint
}

// FileResult is one file's share of the scan, or an input whose patterns
// matched nothing (Path is then the pattern).
type FileResult struct {
	Input     string
	Format    string
	Path      string
	Bytes     int64
	Events    int64
	Malformed int64
	Err       string // empty when the file was read fully
	ErrOffset int64  // where reading stopped; -1 unknown
	ErrBlock  int64  // Avro block that failed; -1 none
	ErrLine   int64  // text line where reading stopped; 0 none
}

// MalformedSummary counts lines that were not events.
type MalformedSummary struct {
	Total    int64
	ByReason map[string]int64
	Samples  []MalformedSample
}

// MalformedSample is one malformed line, cut to MaxSampleText bytes (see
// there).
type MalformedSample struct {
	Path   string
	Line   int64
	Block  int64
	Record int64
	Reason string
	Text   string
}

// SchemaSeen is one writer schema of an event type and the files that used it.
type SchemaSeen struct {
	Fingerprint string
	Fields      []SchemaField
	Files       []string
}

// SchemaField is a field of a writer schema.
type SchemaField struct {
	Name string
	Type string
}

// RuleResult is one rule's verdict over the run.
type RuleResult struct {
	Name        string
	Event       string
	Field       string
	Kind        string
	Params      string
	Severity    string
	Description string
	Tolerance   string
	// Definition is a hash of what the rule counts (see
	// rules.Rule.Definition): earlier days counted under another one are
	// not compared with today.
	Definition string
	Status     Status
	Checked    int64
	Failed     int64
	Samples    []Sample
}

// FailedRatio is Failed / Checked, 0 when nothing was checked.
func (r RuleResult) FailedRatio() float64 { return failedRatio(r.Failed, r.Checked) }

func failedRatio(failed, checked int64) float64 {
	if checked == 0 {
		return 0
	}
	return float64(failed) / float64(checked)
}

// Sample is one failing event of a rule.
type Sample struct {
	Path   string
	Line   int64 // text files
	Block  int64 // Avro files
	Record int64
	Avro   bool // Block and Record apply, not Line
	Value  string
}

// MaxSampleText bounds the text kept of a malformed line or failing value;
// longer text is cut there and ends with "…".
const MaxSampleText = 200

// InputErrors counts inputs and files that could not be read fully.
func (r *Result) InputErrors() int {
	n := 0
	for _, f := range r.Inputs {
		if f.Err != "" {
			n++
		}
	}
	return n
}

// TotalEvents is the number of events of all types.
func (r *Result) TotalEvents() int64 {
	var n int64
	for _, c := range r.Events {
		n += c
	}
	return n
}

// EventsOtherDay returns, per event type, the events whose time falls on
// another date than the audited day (late or replayed events, counted in
// their hour all the same), and their total; nil and 0 when there are none.
func (r *Result) EventsOtherDay() (map[string]int64, int64) {
	return r.perType(func(e *profile.EventProfile) int64 { return e.OtherDay })
}

// EventsNoHour returns, per event type, the events without a readable
// hour, which events per hour leave out, and their total; nil and 0 when
// there are none.
func (r *Result) EventsNoHour() (map[string]int64, int64) {
	return r.perType(func(e *profile.EventProfile) int64 { return e.NoHour })
}

func (r *Result) perType(count func(*profile.EventProfile) int64) (map[string]int64, int64) {
	var out map[string]int64
	var total int64
	if r.Profile == nil {
		return nil, 0
	}
	for name, e := range r.Profile.Events {
		if n := count(e); n > 0 {
			if out == nil {
				out = map[string]int64{}
			}
			out[name] = n
			total += n
		}
	}
	return out, total
}

// Findings summarises the result for the gate.
func (r *Result) Findings() Findings {
	f := Findings{Worst: StatusPass, InputErrors: r.InputErrors()}
	for _, rr := range r.Rules {
		f.Worst = max(f.Worst, rr.Status)
	}
	for _, d := range r.Drift {
		f.Worst = max(f.Worst, d.Status)
	}
	return f
}

// GunzipReread is a file read twice: see Options.Gunzip.
type GunzipReread struct {
	Path   string
	Reason string
}
