package audit

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/dqaudit/dqaudit/audit/profile"
	"github.com/dqaudit/dqaudit/rules"
)

// The kinds of drift checks, in report order.
const (
	DriftBaseline     = "baseline"     // the one entry of a run without a baseline
	DriftDistribution = "distribution" // a field's distribution (psi, js, linf, ...)
	DriftVolume       = "volume"       // events per type
	DriftOutlier      = "outlier"      // events per type against the window's days
	DriftHours        = "hours"        // hours without events that the baseline had
	DriftMalformed    = "malformed"    // share of malformed lines
	DriftSchema       = "schema"       // writer schemas: fields added, removed, retyped
	DriftAnomaly      = "anomaly"      // a rule's failed share against its history
	// DriftHistoryEntry is not a check: it says that the day's own
	// history entry was not written (its files could not all be read),
	// and whether an earlier run's entry of the date was kept instead.
	DriftHistoryEntry = "history"
)

// DriftResult is one drift check's verdict.
type DriftResult struct {
	Name   string
	Kind   string
	Event  string
	Field  string
	Metric string
	// Value is the measure compared with Warn and Fail; it may be ±Inf (a
	// relative change from zero) or NaN (not computable).
	Value      float64
	Warn, Fail float64
	Status     Status // StatusNoBaseline, StatusPass, StatusWarn or StatusFail
	Note       string // why, in words: what changed, or why it cannot fail

	BaselineDates  []string
	BaselineEvents int64 // events of the type in the baseline, all its days
	CurrentEvents  int64

	// Dist holds the compared distributions of a psi, js or linf check,
	// for charts.
	Dist *profile.Distribution
	// Trend is the measured series over the baseline's days and today,
	// for anomaly and volume checks.
	Trend []TrendPoint
}

// TrendPoint is one day's value of a series.
type TrendPoint struct {
	Date  string
	Value float64
}

// Thresholds used where the measure has no configured pair.
const (
	// hourMinMean is how many events an hour must have had per day in
	// the baseline for its absence today to count.
	hourMinMean = 5.0
	// anomalyMinDays: fewer baseline days give no robust spread, and the
	// check is skipped (rules.MinOutlierDays likewise for outliers).
	anomalyMinDays = 3
)

// NoBaselineYet is the note of the "baseline" entry of a day whose history
// has no earlier day.
const NoBaselineYet = "no baseline yet: this run starts the history; drift is checked from the next day on"

// Drift compares the result of a day with its baseline. It is a pure
// function of its arguments; a nil baseline gives one "no baseline" entry
// (and one per explicit check), never a failure.
func Drift(cfg *rules.Drift, r *Result, base *Baseline) []DriftResult {
	if cfg == nil {
		return nil
	}
	if base == nil {
		out := []DriftResult{{Name: "baseline", Kind: DriftBaseline, Status: StatusNoBaseline,
			Value: math.NaN(), Note: NoBaselineYet}}
		for _, c := range cfg.Checks {
			out = append(out, DriftResult{Name: c.Name, Kind: DriftDistribution, Event: c.Event, Field: c.Field, Metric: c.Metric,
				Value: math.NaN(), Warn: c.Warn, Fail: c.Fail, Status: StatusNoBaseline, Note: "no baseline", CurrentEvents: r.Events[c.Event]})
		}
		return out
	}
	d := &drifter{cfg: cfg, r: r, base: base}
	d.distributions()
	d.volume()
	d.outliers()
	d.hours()
	d.malformed()
	d.schemas()
	d.anomalies()
	sortDrift(d.out)
	return d.out
}

type drifter struct {
	cfg  *rules.Drift
	r    *Result
	base *Baseline
	out  []DriftResult
}

// add grades v against the thresholds and appends the check. small says
// the sample is below min_events: the check is reported but cannot fail.
func (d *drifter) add(res DriftResult, small bool, oneSided bool) {
	res.BaselineDates = d.base.Dates
	v := res.Value
	if oneSided {
		v = max(v, 0)
	} else {
		v = math.Abs(v)
	}
	switch {
	case math.IsNaN(v):
		res.Status = StatusPass
	case v >= res.Fail && res.Fail > 0:
		res.Status = StatusFail
	case v >= res.Warn && res.Warn > 0:
		res.Status = StatusWarn
	default:
		res.Status = StatusPass
	}
	if res.Warn == 0 && res.Fail == 0 {
		// Set so in the config: the value is reported, never gated. Said
		// in so many words, as warn: 0 reads like "warn on any change".
		res.Note = strings.TrimPrefix(res.Note+"; reported only: warn and fail are 0, which turns both levels off", "; ")
	}
	if small && res.Status > StatusPass {
		res.Status = StatusPass
		res.Note = strings.TrimPrefix(res.Note+fmt.Sprintf("; fewer than min_events (%d) events: reported, cannot fail", d.cfg.MinEvents), "; ")
	}
	d.out = append(d.out, res)
}

func (d *drifter) baseEvents(event string) int64 {
	if ep := d.base.Profile.Events[event]; ep != nil {
		return ep.Count
	}
	return 0
}

// distributions runs the explicit checks and, with default_checks, psi or
// linf plus null-ratio change on every other field of the types seen.
func (d *drifter) distributions() {
	explicit := map[[2]string]bool{}
	for _, c := range d.cfg.Checks {
		explicit[[2]string{c.Event, c.Field}] = true
		m, err := profile.ParseMetric(c.Metric)
		if err != nil {
			continue // validated with the config
		}
		d.field(c.Name, c.Event, c.Field, m, c.Quantile, c.Warn, c.Fail, true)
	}
	if !d.cfg.DefaultChecks {
		return
	}
	cur := d.r.Profile
	for _, event := range cur.EventTypes() {
		bp := d.base.Profile.Events[event]
		if bp == nil {
			continue
		}
		for _, field := range cur.Events[event].FieldNames() {
			if field == profile.TimeField || explicit[[2]string{event, field}] {
				continue
			}
			bf, cf := bp.Fields[field], cur.Events[event].Fields[field]
			if bf == nil || cf == nil {
				continue
			}
			// A field that cannot be compared is left out, as ids of
			// many values are every day, unless it changed in kind:
			// retyped, or grown from few values to too many to count.
			_, err := profile.Distributions(bf, cf)
			if err == nil || profile.Retyped(bf, cf) != "" || profile.Outgrown(bf, cf) != "" {
				m := profile.MetricLInf
				if profile.Binned(bf, cf) {
					m = profile.MetricPSI
				}
				w, f := rules.DefaultThresholds(m.String())
				d.field(fmt.Sprintf("%s.%s:%s", event, field, m), event, field, m, 0, w, f, false)
			}
			if bf.Nulls > 0 || cf.Nulls > 0 {
				w, f := rules.DefaultThresholds(profile.MetricNullRatioChange.String())
				d.field(fmt.Sprintf("%s.%s:%s", event, field, profile.MetricNullRatioChange), event, field, profile.MetricNullRatioChange, 0, w, f, false)
			}
		}
	}
}

// noDataNote says which side of a comparison had no values of the field.
func noDataNote(event, field string, base, cur *profile.FieldProfile) string {
	switch {
	case base == nil && cur == nil:
		// A misspelt field of an extra type looks like this every day.
		return fmt.Sprintf("no %s had a field %s, today or in the baseline", event, field)
	case cur == nil:
		return "no values today"
	case base == nil:
		return "no values in the baseline"
	}
	return "no values on one side"
}

// field compares one field with metric m. A check on a field the
// baseline had values of that cannot be computed today warns, with a note
// saying why: an explicit check (one the config names) whatever the
// reason (the field vanished, went all-null, was retyped or took too many
// values), a default check when the field changed in kind (retyped, or
// too many values where it had few), which is drift in itself. A retyped
// field that can still be measured keeps its measure, says so, and warns
// at least.
func (d *drifter) field(name, event, field string, m profile.Metric, q, warn, fail float64, explicit bool) {
	res := DriftResult{Name: name, Kind: DriftDistribution, Event: event, Field: field, Metric: m.String(), Warn: warn, Fail: fail,
		BaselineEvents: d.baseEvents(event), CurrentEvents: d.r.Events[event]}
	bf, cf := d.base.Profile.Field(event, field), d.r.Profile.Field(event, field)
	v, err := profile.Compare(m, bf, cf, q)
	distribution := m == profile.MetricPSI || m == profile.MetricJS || m == profile.MetricLInf
	retyped := ""
	if distribution || err != nil {
		// A null share means the same whatever the kind of the values.
		retyped = profile.Retyped(bf, cf)
	}
	changed := retyped != ""
	switch {
	case err == nil:
		res.Value, res.Note = v, retyped
	case changed:
		res.Value, res.Note = math.NaN(), retyped
	case errors.Is(err, profile.ErrNoData):
		res.Value, res.Note = math.NaN(), noDataNote(event, field, bf, cf)
	case errors.Is(err, profile.ErrHighCardinality):
		res.Value, res.Note = math.NaN(), "too many distinct values for a frequency comparison"
		if note := profile.Outgrown(bf, cf); note != "" {
			res.Note, changed = note, true
		}
	default:
		res.Value, res.Note = math.NaN(), err.Error()
	}
	if distribution {
		if dist, err := profile.Distributions(bf, cf); err == nil {
			res.Dist = &dist
		}
	}
	if m == profile.MetricQuantileChange {
		res.Metric = fmt.Sprintf("quantile_change(p%g)", q*100)
	}
	small := bf == nil || cf == nil || bf.Count/int64(d.base.Days()) < d.cfg.MinEvents || cf.Count < d.cfg.MinEvents
	gated := (warn > 0 || fail > 0) && bf != nil && bf.Count > bf.Nulls &&
		bf.Count/int64(d.base.Days()) >= d.cfg.MinEvents && d.r.Events[event] >= d.cfg.MinEvents
	lost := gated && math.IsNaN(res.Value) && (explicit || changed)
	if lost {
		res.Note = "not computable: " + res.Note
	}
	d.add(res, small, false)
	if lost || gated && changed {
		res := &d.out[len(d.out)-1]
		res.Status = max(res.Status, StatusWarn)
	}
}

// volume compares today's events per type with the baseline's daily mean.
func (d *drifter) volume() {
	if d.cfg.Volume.Off {
		return
	}
	for _, event := range d.eventTypes() {
		cur := d.r.Events[event]
		baseTotal := d.baseEvents(event)
		mean := float64(baseTotal) / float64(d.base.Days())
		res := DriftResult{Name: event + ":volume", Kind: DriftVolume, Event: event, Metric: "relative_change",
			Warn: d.cfg.Volume.Warn, Fail: d.cfg.Volume.Fail, BaselineEvents: baseTotal, CurrentEvents: cur,
			Value: relChange(mean, float64(cur)), Trend: d.trend(func(e *HistoryEntry) float64 { return float64(e.Events[event]) }, float64(cur))}
		switch {
		case cur == 0:
			res.Note = "no events today"
		case baseTotal == 0:
			res.Note = "new event type: none in the baseline"
		default:
			res.Note = fmt.Sprintf("%d events today, %.0f a day in the baseline", cur, mean)
		}
		d.add(res, mean < float64(d.cfg.MinEvents), false)
	}
}

// outliers tests today's events per type against the window's days with
// a robust z-score (median and MAD).
func (d *drifter) outliers() {
	if d.cfg.Outliers.Off || d.base.Source == "previous" {
		return
	}
	if n := len(d.base.Entries); n < rules.MinOutlierDays {
		if d.cfg.OutliersGiven {
			// Set in the config, so their absence needs saying: a young
			// history, or damaged days in the window.
			d.out = append(d.out, DriftResult{Name: "outliers", Kind: DriftOutlier, Metric: "robust_z", Value: math.NaN(),
				Warn: d.cfg.Outliers.Warn, Fail: d.cfg.Outliers.Fail, Status: StatusNoBaseline,
				Note: fmt.Sprintf("not checked: the window has %d readable days, and outliers need %d", n, rules.MinOutlierDays)})
		}
		return
	}
	for _, event := range d.eventTypes() {
		var xs []float64
		for _, e := range d.base.Entries {
			xs = append(xs, float64(e.Events[event]))
		}
		cur := float64(d.r.Events[event])
		med, mad := profile.MedianMAD(xs)
		z := (cur - med) / max(1.4826*mad, 0.01*med, 1)
		res := DriftResult{Name: event + ":volume_outlier", Kind: DriftOutlier, Event: event, Metric: "robust_z",
			Value: z, Warn: d.cfg.Outliers.Warn, Fail: d.cfg.Outliers.Fail, BaselineEvents: d.baseEvents(event), CurrentEvents: d.r.Events[event],
			Note: fmt.Sprintf("%d events today; window median %.0f, MAD %.0f", d.r.Events[event], med, mad)}
		d.add(res, med < float64(d.cfg.MinEvents), false)
	}
}

// hours finds hours of the day without events today that the baseline had.
func (d *drifter) hours() {
	if d.cfg.MissingHours == rules.LevelOff {
		return
	}
	for _, event := range d.eventTypes() {
		bp, cp := d.base.Profile.Events[event], d.r.Profile.Events[event]
		if bp == nil {
			continue
		}
		var missing []string
		for h := range 24 {
			mean := float64(bp.Hours[h]) / float64(d.base.Days())
			if mean >= hourMinMean && (cp == nil || cp.Hours[h] == 0) {
				missing = append(missing, fmt.Sprintf("%02d", h))
			}
		}
		res := DriftResult{Name: event + ":missing_hours", Kind: DriftHours, Event: event, Metric: "missing_hours",
			Value: float64(len(missing)), BaselineEvents: bp.Count, CurrentEvents: d.r.Events[event]}
		res.Warn, res.Fail = levelThresholds(d.cfg.MissingHours)
		if len(missing) > 0 {
			res.Note = "no events in hour(s) " + strings.Join(missing, ", ") + " (the hour written in the events' time field); the baseline had them"
		}
		d.add(res, float64(bp.Count)/float64(d.base.Days()) < float64(d.cfg.MinEvents), true)
	}
}

// levelThresholds turns a warn/fail level into thresholds on a count.
func levelThresholds(l rules.Level) (warn, fail float64) {
	if l == rules.LevelFail {
		return 1, 1
	}
	return 1, 0
}

// malformed compares the share of malformed lines with the baseline's.
func (d *drifter) malformed() {
	if d.cfg.Malformed.Off {
		return
	}
	share := func(events map[string]int64, malformed int64) (float64, int64) {
		var n int64
		for _, c := range events {
			n += c
		}
		if n+malformed == 0 {
			return 0, 0
		}
		return float64(malformed) / float64(n+malformed), n + malformed
	}
	var baseMal int64
	baseEvents := map[string]int64{}
	for _, e := range d.base.Entries {
		baseMal += e.Malformed
		for k, v := range e.Events {
			baseEvents[k] += v
		}
	}
	bs, bn := share(baseEvents, baseMal)
	cs, cn := share(d.r.Events, d.r.Malformed.Total)
	res := DriftResult{Name: "malformed_share", Kind: DriftMalformed, Metric: "share_change", Value: cs - bs,
		Warn: d.cfg.Malformed.Warn, Fail: d.cfg.Malformed.Fail, BaselineEvents: bn, CurrentEvents: cn,
		Note:  fmt.Sprintf("%.3f%% of lines malformed today, %.3f%% in the baseline", 100*cs, 100*bs),
		Trend: d.trend(func(e *HistoryEntry) float64 { s, _ := share(e.Events, e.Malformed); return s }, cs)}
	d.add(res, float64(bn)/float64(d.base.Days()) < float64(d.cfg.MinEvents), true)
}

// schemas lists writer-schema changes against the baseline's schemas.
func (d *drifter) schemas() {
	if d.cfg.Schema == rules.LevelOff {
		return
	}
	events := map[string]bool{}
	for event := range d.r.Schemas {
		events[event] = true
	}
	for _, e := range d.base.Entries {
		for event := range e.Schemas {
			events[event] = true
		}
	}
	for _, event := range sortedKeys(events) {
		baseFields, baseFP := map[string]string{}, map[string]bool{}
		for _, e := range d.base.Entries {
			for _, s := range e.Schemas[event] {
				baseFP[s.Fingerprint] = true
				for _, f := range s.Fields {
					baseFields[f.Name] = f.Type
				}
			}
		}
		curFields := map[string]string{}
		var newFP int
		for _, s := range d.r.Schemas[event] {
			if !baseFP[s.Fingerprint] {
				newFP++
			}
			for _, f := range s.Fields {
				curFields[f.Name] = f.Type
			}
		}
		var changes []string
		if len(baseFP) > 0 && len(d.r.Schemas[event]) > 0 {
			for _, name := range sortedKeys(curFields) {
				bt, ok := baseFields[name]
				switch {
				case !ok:
					changes = append(changes, "added "+name+" ("+curFields[name]+")")
				case bt != curFields[name]:
					changes = append(changes, fmt.Sprintf("retyped %s from %s to %s", name, bt, curFields[name]))
				}
			}
			for _, name := range sortedKeys(baseFields) {
				if _, ok := curFields[name]; !ok {
					changes = append(changes, "removed "+name)
				}
			}
			if newFP > 0 {
				changes = append(changes, fmt.Sprintf("%d new writer schema version(s)", newFP))
			}
		}
		switch {
		case len(baseFP) == 0:
			changes = append(changes, "new in Avro: no writer schema in the baseline")
		case len(d.r.Schemas[event]) == 0:
			changes = append(changes, "no Avro file of this type today")
		}
		res := DriftResult{Name: event + ":schema", Kind: DriftSchema, Event: event, Metric: "changes",
			Value: float64(len(changes)), BaselineEvents: d.baseEvents(event), CurrentEvents: d.r.Events[event],
			Note: strings.Join(changes, "; ")}
		res.Warn, res.Fail = levelThresholds(d.cfg.Schema)
		d.add(res, false, true)
	}
}

// anomalies tests each rule's failed share today against its history: a
// rule that usually fails 0.1% and today fails 3% is an anomaly even when
// below its tolerance. Only increases count.
func (d *drifter) anomalies() {
	if d.cfg.Anomalies.Off || len(d.base.Entries) < anomalyMinDays {
		return
	}
	for _, rr := range d.r.Rules {
		var xs []float64
		var checked, failed int64 // events the rule checked, and failed, in the baseline's days
		var same []*HistoryEntry  // the days that counted the rule as today
		for _, e := range d.base.Entries {
			if c, ok := e.Rules[rr.Name]; ok && c.Checked > 0 && sameRule(c, rr) {
				xs = append(xs, c.FailedRatio())
				checked += c.Checked
				failed += c.Failed
				same = append(same, e)
			}
		}
		if len(xs) < anomalyMinDays || rr.Checked == 0 {
			continue
		}
		cur := rr.FailedRatio()
		med, mad := profile.MedianMAD(xs)
		// A floor under the spread keeps a perfectly steady history from
		// turning any wiggle into an infinite z-score.
		// So does counting noise: today's share of rr.Checked events
		// varies by a binomial standard error around the baseline's rate
		// (smoothed, so a rule that never failed still has one).
		p := (float64(failed) + 1) / (float64(checked) + 2)
		se := math.Sqrt(p * (1 - p) / float64(rr.Checked))
		z := (cur - med) / max(1.4826*mad, 0.1*med, se, 1e-4)
		res := DriftResult{Name: rr.Name + ":anomaly", Kind: DriftAnomaly, Event: rr.Event, Field: rr.Field, Metric: "robust_z",
			Value: z, Warn: d.cfg.Anomalies.Warn, Fail: d.cfg.Anomalies.Fail, BaselineEvents: checked, CurrentEvents: rr.Checked,
			Note:  fmt.Sprintf("failed share %.3f%% today; median %.3f%% over %d days", 100*cur, 100*med, len(xs)),
			Trend: trendOf(same, d.r.Date, func(e *HistoryEntry) float64 { return e.Rules[rr.Name].FailedRatio() }, cur)}
		d.add(res, rr.Checked < d.cfg.MinEvents, true)
	}
}

func (d *drifter) trend(f func(*HistoryEntry) float64, today float64) []TrendPoint {
	return trendOf(d.base.Entries, d.r.Date, f, today)
}

func trendOf(entries []*HistoryEntry, date string, f func(*HistoryEntry) float64, today float64) []TrendPoint {
	var t []TrendPoint
	for _, e := range entries {
		t = append(t, TrendPoint{Date: e.Date, Value: f(e)})
	}
	return append(t, TrendPoint{Date: date, Value: today})
}

// eventTypes are the types seen today or in the baseline, sorted.
func (d *drifter) eventTypes() []string {
	set := map[string]bool{}
	for e := range d.r.Events {
		set[e] = true
	}
	for e := range d.base.Profile.Events {
		set[e] = true
	}
	return sortedKeys(set)
}

// relChange is (cur - base) / |base|; 0 from 0 to 0, +Inf from 0 to more.
func relChange(base, cur float64) float64 {
	if base == 0 {
		if cur == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return (cur - base) / math.Abs(base)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// sortDrift orders drift results by kind, then name.
func sortDrift(rs []DriftResult) {
	order := map[string]int{DriftBaseline: 0, DriftDistribution: 1, DriftVolume: 2, DriftOutlier: 3, DriftHours: 4, DriftMalformed: 5, DriftSchema: 6, DriftAnomaly: 7, DriftHistoryEntry: 8}
	slices.SortStableFunc(rs, func(a, b DriftResult) int {
		return cmp.Or(cmp.Compare(order[a.Kind], order[b.Kind]), cmp.Compare(a.Name, b.Name))
	})
}
