package reports

import (
	"encoding/json"
	"io"
	"math"
	"time"

	"github.com/dqaudit/dqaudit/audit"
)

// SchemaVersion is the version of report.json's layout. It changes only
// when a key is removed or changes meaning; new keys may appear anytime.
const SchemaVersion = 1

// JSON writes report.json, the report other programs read.
type JSON struct{}

var _ Reporter = (*JSON)(nil)

// The document below is the contract documented in README's "report.json".
type jsonReport struct {
	SchemaVersion int                     `json:"schema_version"`
	Tool          jsonTool                `json:"tool"`
	Date          string                  `json:"date"`
	Status        string                  `json:"status"`
	ExitCode      int                     `json:"exit_code"`
	Run           jsonRun                 `json:"run"`
	Events        map[string]int64        `json:"events"`
	OtherDay      map[string]int64        `json:"events_other_day,omitempty"` // events dated another day, per type
	NoHour        map[string]int64        `json:"events_no_hour,omitempty"`   // events left out of Hours, per type
	Inputs        []jsonInput             `json:"inputs"`
	Malformed     jsonMalformed           `json:"malformed"`
	Schemas       map[string][]jsonSchema `json:"schemas"`
	Rules         []jsonRule              `json:"rules"`
	Baseline      *jsonBaseline           `json:"baseline"`
	Drift         []jsonDrift             `json:"drift"`
	Hours         map[string][24]int64    `json:"events_per_hour"`
}

type jsonBaseline struct {
	Source string   `json:"source"`
	Dates  []string `json:"dates"`
	Note   string   `json:"note,omitempty"` // how far the days are, when not the ones just before
}

type jsonDrift struct {
	Name         string            `json:"name"`
	Kind         string            `json:"kind"`
	Event        string            `json:"event"`
	Field        string            `json:"field"`
	Metric       string            `json:"metric"`
	Value        *float64          `json:"value"` // null when not a finite number
	Warn         *float64          `json:"warn"`  // null when that level is off
	Fail         *float64          `json:"fail"`
	Status       string            `json:"status"`
	Note         string            `json:"note"` // "" when the check has none: README lists it for every check
	Baseline     jsonDriftBaseline `json:"baseline"`
	Current      jsonDriftCurrent  `json:"current"`
	Distribution *jsonDistribution `json:"distribution,omitempty"`
	Trend        []jsonTrendPoint  `json:"trend,omitempty"`
}

type jsonDriftBaseline struct {
	Dates  []string `json:"dates"`
	Events int64    `json:"events"`
}

type jsonDriftCurrent struct {
	Events int64 `json:"events"`
}

type jsonDistribution struct {
	Numeric  bool      `json:"numeric"`
	Labels   []string  `json:"labels"`
	Baseline []float64 `json:"baseline"`
	Current  []float64 `json:"current"`
}

type jsonTrendPoint struct {
	Date  string   `json:"date"`
	Value *float64 `json:"value"`
}

// finite returns &v, or nil for NaN and ±Inf, which JSON cannot hold.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type jsonRun struct {
	StartedAt     string       `json:"started_at"`
	DurationMS    int64        `json:"duration_ms"`
	Workers       int          `json:"workers"`
	GunzipRereads []jsonReread `json:"gunzip_rereads,omitempty"`
}

// jsonReread is a .gz file whose external decoder's output was refused
// and that the built-in decoder read again.
type jsonReread struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

type jsonInput struct {
	Name        string  `json:"name"`
	Format      string  `json:"format"`
	Path        string  `json:"path"`
	Bytes       int64   `json:"bytes"`
	Events      int64   `json:"events"`
	Malformed   int64   `json:"malformed"`
	Error       *string `json:"error"`
	ErrorOffset *int64  `json:"error_offset"`
	ErrorBlock  *int64  `json:"error_block,omitempty"`
	ErrorLine   *int64  `json:"error_line,omitempty"`
}

type jsonMalformed struct {
	Total    int64                 `json:"total"`
	ByReason map[string]int64      `json:"by_reason"`
	Samples  []jsonMalformedSample `json:"samples"`
}

type jsonMalformedSample struct {
	Path   string `json:"path"`
	Line   int64  `json:"line,omitempty"`
	Block  *int64 `json:"block,omitempty"`
	Record *int64 `json:"record,omitempty"`
	Reason string `json:"reason"`
	Text   string `json:"text"`
}

type jsonSchema struct {
	Fingerprint string            `json:"fingerprint"`
	Fields      []jsonSchemaField `json:"fields"`
	Files       []string          `json:"files"`
}

type jsonSchemaField struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type jsonRule struct {
	Name        string           `json:"name"`
	Event       string           `json:"event"`
	Field       string           `json:"field"`
	Kind        string           `json:"kind"`
	Params      string           `json:"params"`
	Severity    string           `json:"severity"`
	Status      string           `json:"status"`
	Checked     int64            `json:"checked"`
	Failed      int64            `json:"failed"`
	FailedRatio float64          `json:"failed_ratio"`
	Tolerance   string           `json:"tolerance"`
	Description string           `json:"description,omitempty"`
	Samples     []jsonSample     `json:"samples"`
	Trend       []jsonTrendPoint `json:"trend,omitempty"`
}

type jsonSample struct {
	Path   string `json:"path"`
	Line   *int64 `json:"line,omitempty"`
	Block  *int64 `json:"block,omitempty"`
	Record *int64 `json:"record,omitempty"`
	Value  string `json:"value"`
}

// Write writes r as indented JSON.
func (JSON) Write(w io.Writer, r *audit.Result) error {
	doc := jsonReport{
		SchemaVersion: SchemaVersion,
		Tool:          jsonTool{Name: "dqaudit", Version: r.Version},
		Date:          r.Date,
		Status:        r.Status.String(),
		ExitCode:      int(r.ExitCode),
		Run: jsonRun{
			StartedAt:  r.StartedAt.UTC().Format(time.RFC3339),
			DurationMS: r.Duration.Round(time.Millisecond).Milliseconds(), // as the other reports round it
			Workers:    r.Workers,
		},
		Events:  r.Events,
		Inputs:  []jsonInput{},
		Schemas: map[string][]jsonSchema{},
		Rules:   []jsonRule{},
		Drift:   []jsonDrift{},
		Hours:   map[string][24]int64{},
		Malformed: jsonMalformed{
			Total:    r.Malformed.Total,
			ByReason: r.Malformed.ByReason,
			Samples:  []jsonMalformedSample{},
		},
	}
	doc.OtherDay, _ = r.EventsOtherDay()
	doc.NoHour, _ = r.EventsNoHour()
	for name, h := range r.Hours {
		doc.Hours[name] = *h
	}
	for _, rr := range r.GunzipRereads {
		doc.Run.GunzipRereads = append(doc.Run.GunzipRereads, jsonReread{Path: rr.Path, Reason: rr.Reason})
	}
	for _, f := range r.Inputs {
		in := jsonInput{Name: f.Input, Format: f.Format, Path: f.Path, Bytes: f.Bytes, Events: f.Events, Malformed: f.Malformed}
		if f.Err != "" {
			in.Error = &f.Err
			if f.ErrOffset >= 0 {
				in.ErrorOffset = &f.ErrOffset
			}
			if f.ErrBlock >= 0 {
				in.ErrorBlock = &f.ErrBlock
			}
			if f.ErrLine > 0 {
				in.ErrorLine = &f.ErrLine
			}
		}
		doc.Inputs = append(doc.Inputs, in)
	}
	for _, s := range r.Malformed.Samples {
		ms := jsonMalformedSample{Path: s.Path, Line: s.Line, Reason: s.Reason, Text: s.Text}
		if s.Line == 0 {
			ms.Block, ms.Record = &s.Block, &s.Record
		}
		doc.Malformed.Samples = append(doc.Malformed.Samples, ms)
	}
	for event, list := range r.Schemas {
		for _, s := range list {
			js := jsonSchema{Fingerprint: s.Fingerprint, Fields: []jsonSchemaField{}, Files: s.Files}
			for _, f := range s.Fields {
				js.Fields = append(js.Fields, jsonSchemaField{Name: f.Name, Type: f.Type})
			}
			doc.Schemas[event] = append(doc.Schemas[event], js)
		}
	}
	for _, rr := range r.Rules {
		jr := jsonRule{
			Name: rr.Name, Event: rr.Event, Field: rr.Field, Kind: rr.Kind, Params: rr.Params,
			Severity: rr.Severity, Status: rr.Status.String(), Checked: rr.Checked, Failed: rr.Failed,
			FailedRatio: rr.FailedRatio(), Tolerance: rr.Tolerance, Description: rr.Description,
			Samples: []jsonSample{},
		}
		for _, s := range rr.Samples {
			js := jsonSample{Path: s.Path, Value: s.Value}
			if s.Avro {
				js.Block, js.Record = &s.Block, &s.Record
			} else {
				js.Line = &s.Line
			}
			jr.Samples = append(jr.Samples, js)
		}
		for _, p := range r.RuleTrends[rr.Name] {
			jr.Trend = append(jr.Trend, jsonTrendPoint{Date: p.Date, Value: finite(p.Value)})
		}
		doc.Rules = append(doc.Rules, jr)
	}
	if r.BaselineSource != "" {
		doc.Baseline = &jsonBaseline{Source: r.BaselineSource, Dates: r.BaselineDates, Note: r.BaselineNote}
	}
	for _, d := range r.Drift {
		jd := jsonDrift{
			Name: d.Name, Kind: d.Kind, Event: d.Event, Field: d.Field, Metric: d.Metric, Value: finite(d.Value),
			Warn: threshold(d.Warn), Fail: threshold(d.Fail), Status: d.Status.String(), Note: d.Note,
			Baseline: jsonDriftBaseline{Dates: d.BaselineDates, Events: d.BaselineEvents},
			Current:  jsonDriftCurrent{Events: d.CurrentEvents},
		}
		if jd.Baseline.Dates == nil {
			jd.Baseline.Dates = []string{}
		}
		if d.Dist != nil {
			jd.Distribution = &jsonDistribution{Numeric: d.Dist.Numeric, Labels: d.Dist.Labels, Baseline: d.Dist.Base, Current: d.Dist.Cur}
		}
		for _, p := range d.Trend {
			jd.Trend = append(jd.Trend, jsonTrendPoint{Date: p.Date, Value: finite(p.Value)})
		}
		doc.Drift = append(doc.Drift, jd)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// threshold is a drift level as report.json gives it: null when it is off
// (0), as the other reports show "—".
func threshold(v float64) *float64 {
	if v == 0 {
		return nil
	}
	return &v
}
