package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Defaults and bounds of the drift section.
const (
	DefaultHistory   = ".dqaudit/history"
	DefaultMinEvents = 1000
	MaxWindow        = 365 // history days a window baseline may hold
)

// Drift is the drift section of a config: how a day's profile is compared
// with a baseline drawn from the profiles of earlier days. Parse fills in
// every default, so a Drift from a Config is complete.
//
// The gate compares the size (absolute value) of each measure with its
// Thresholds: beyond Warn the measure warns, beyond Fail it fails.
type Drift struct {
	// History is the directory of per-date profiles as written, which
	// may contain placeholders; a relative one is relative to the config
	// file's directory.
	History  string
	Baseline Baseline
	// MinEvents is how many events of a type the baseline and today must
	// both have for its checks to warn or fail; below it they are
	// reported only.
	MinEvents int64
	// DefaultChecks adds, for every event type seen, a psi (numeric) or
	// linf (categorical) check and a null_ratio_change check of each
	// numeric and low-cardinality field.
	DefaultChecks bool
	// Volume bounds the relative change of the number of events per type.
	Volume Thresholds
	// Outliers bounds the robust z-score (median and MAD) of the number
	// of events per type among the days of the window. Only a
	// BaselineWindow has days to compare with.
	Outliers Thresholds
	// OutliersGiven says the config set outliers itself (and not off), so
	// a baseline that cannot feed them is a mistake (see OutliersProblem).
	OutliersGiven bool
	// Malformed bounds the absolute change of the share of malformed
	// lines.
	Malformed Thresholds
	// Anomalies bounds the robust z-score of each rule's failed share
	// today among the days of the history.
	Anomalies Thresholds
	// MissingHours is what an hour of the day without events, where the
	// baseline had some, does to the run.
	MissingHours Level
	// Schema is what added or removed fields, changed types and new
	// writer schemas do to the run.
	Schema Level
	Checks []DriftCheck // in file order
	Pos    Pos          // of the section's mapping
}

// DefaultDrift returns the drift settings of an empty drift section.
func DefaultDrift() Drift {
	return Drift{
		History:       DefaultHistory,
		Baseline:      Baseline{Kind: BaselinePrevious},
		MinEvents:     DefaultMinEvents,
		DefaultChecks: true,
		Volume:        Thresholds{Warn: 0.3, Fail: 0.5},
		Outliers:      Thresholds{Warn: 3.5, Fail: 5},
		Malformed:     Thresholds{Warn: 0.005, Fail: 0.02},
		Anomalies:     Thresholds{Warn: 3.5, Fail: 6},
		MissingHours:  LevelWarn,
		Schema:        LevelWarn,
	}
}

// Thresholds are the warn and fail limits of a drift measure, with
// 0 <= Warn <= Fail. Off turns the measure off; Warn and Fail are then 0.
type Thresholds struct {
	Warn, Fail float64
	Off        bool
}

// Level is what a drift finding that has no size does to the run. The
// zero Level is unset.
type Level uint8

// The levels.
const (
	LevelUnset Level = iota
	LevelOff         // not checked
	LevelWarn        // a finding warns
	LevelFail        // a finding fails the run
)

// String returns "off", "warn", "fail" or "unset".
func (l Level) String() string {
	switch l {
	case LevelUnset:
		return "unset"
	case LevelOff:
		return "off"
	case LevelWarn:
		return "warn"
	case LevelFail:
		return "fail"
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// BaselineKind says what a day is compared with. The zero BaselineKind is
// unset.
type BaselineKind uint8

// The baseline kinds.
const (
	BaselineUnset    BaselineKind = iota
	BaselinePrevious              // the latest profile in the history before the day
	BaselineWindow                // the profiles of the Window latest history days before the day, merged
	BaselineFile                  // a profile JSON file
)

// String returns "previous", "window", "file" or "unset".
func (k BaselineKind) String() string {
	switch k {
	case BaselineUnset:
		return "unset"
	case BaselinePrevious:
		return "previous"
	case BaselineWindow:
		return "window"
	case BaselineFile:
		return "file"
	}
	return "baselinekind(" + strconv.Itoa(int(k)) + ")"
}

// Baseline is the profile a day is compared with.
type Baseline struct {
	Kind   BaselineKind
	Window int    // history days, 1 to MaxWindow, for BaselineWindow
	Path   string // the profile, as written, for BaselineFile; it may contain placeholders
}

// String returns the baseline as ParseBaseline reads it: "previous",
// "window:7" or the path.
func (b Baseline) String() string {
	switch b.Kind {
	case BaselineWindow:
		return "window:" + strconv.Itoa(b.Window)
	case BaselineFile:
		return b.Path
	}
	return b.Kind.String()
}

// ParseBaseline reads a baseline written as a --baseline flag value:
// "previous", "window:N" for the N latest days of the history before
// the scanned one (entries, not calendar days), or the path of a profile
// JSON file. Any other string is a path, except one
// that looks like a misspelt keyword.
func ParseBaseline(s string) (Baseline, error) {
	b, msg := parseBaseline(s, "window:N")
	if msg != "" {
		return Baseline{}, errors.New(msg)
	}
	return b, nil
}

// parseBaseline is ParseBaseline with the window written as window in
// messages; it returns a message instead of an error.
func parseBaseline(s, window string) (Baseline, string) {
	want := "previous, " + window + " or the path of a profile JSON file"
	if strings.TrimSpace(s) == "" {
		return Baseline{}, "baseline is empty; use " + want
	}
	if s == "previous" {
		return Baseline{Kind: BaselinePrevious}, ""
	}
	if !strings.ContainsAny(s, `/\.`) {
		// A bare word is a keyword, or a typo of one more likely than
		// a profile file without an extension.
		if strings.HasPrefix(strings.ToLower(s), "window") {
			days, err := strconv.Atoi(strings.TrimPrefix(s, "window:"))
			switch {
			case err != nil || !strings.HasPrefix(s, "window:"):
				return Baseline{}, fmt.Sprintf("baseline %q is not a window; write %s with N from 1 to %d days, such as %s",
					s, window, MaxWindow, strings.Replace(window, "N", "7", 1))
			case days < 1 || days > MaxWindow:
				return Baseline{}, windowRange(int64(days))
			}
			return Baseline{Kind: BaselineWindow, Window: days}, ""
		}
		if sug := suggest(s, []string{"previous"}); sug != "" {
			return Baseline{}, fmt.Sprintf("baseline must be %s, got %q (did you mean %q?)", want, s, sug)
		}
	}
	if msg := placeholderProblem("baseline path", s, false); msg != "" {
		return Baseline{}, msg
	}
	return Baseline{Kind: BaselineFile, Path: s}, ""
}

func windowRange(days int64) string {
	return fmt.Sprintf("baseline window must be from 1 to %d days, got %d", MaxWindow, days)
}

// DriftCheck compares one field of one event type with the baseline.
type DriftCheck struct {
	// Name is unique among the drift checks; it defaults to
	// "<event>.<field>:<metric>".
	Name string
	// Event is a built-in event type or one of Config.Events.
	Event string
	Field string
	// Metric is one of DriftMetrics.
	Metric string
	// Quantile is the quantile that quantile_change compares, between 0
	// and 1; 0 for the other metrics.
	Quantile float64
	// Warn and Fail bound the size of the metric; they default to
	// DefaultThresholds(Metric).
	Warn, Fail float64
	Pos        Pos // of the check's mapping
}

// DriftMetrics returns the names of the metrics a drift check may use.
func DriftMetrics() []string {
	return []string{"psi", "js", "linf", "quantile_change", "mean_change", "null_ratio_change"}
}

// DefaultThresholds returns the warn and fail thresholds of a drift
// check of metric that gives none, or 0, 0 for an unknown metric.
func DefaultThresholds(metric string) (warn, fail float64) {
	switch metric {
	case "psi":
		return 0.1, 0.25
	case "js", "linf":
		return 0.1, 0.2
	case "quantile_change":
		return 0.2, 0.5
	case "mean_change":
		return 0.1, 0.25
	case "null_ratio_change":
		return 0.01, 0.05
	}
	return 0, 0
}

// metricLimit returns the largest size metric can reach, or 0 when it is
// unbounded.
func metricLimit(metric string) float64 {
	switch metric {
	case "js", "linf", "null_ratio_change":
		return 1
	}
	return 0
}

// metricNumeric reports whether metric compares numbers rather than
// distributions of any kind of value.
func metricNumeric(metric string) bool {
	return metric == "quantile_change" || metric == "mean_change"
}

func driftKeys() []string {
	return []string{"history", "baseline", "min_events", "default_checks", "volume", "outliers",
		"missing_hours", "malformed", "schema", "anomalies", "checks"}
}

func driftCheckKeys() []string {
	return []string{"name", "event", "field", "metric", "quantile", "warn", "fail"}
}

func levelNames() []string { return []string{"warn", "fail", "off"} }

// drift reads the drift section. A section without a value (drift:) turns
// drift checks on with every default, as drift: {} does.
func (p *parser) drift(kv pair) *Drift {
	d := DefaultDrift()
	if isNull(kv.val) {
		d.Pos = Pos{kv.key.Line, kv.key.Column}
		return &d
	}
	v := resolve(kv.val)
	if v.Kind != yaml.MappingNode {
		hint := ""
		if v.Kind == yaml.ScalarNode && (v.ShortTag() == "!!bool" || strings.EqualFold(v.Value, "off")) {
			hint = "; remove the section to turn drift checks off"
		}
		p.errorf(scope{}, kv.val, "drift must be a mapping, got %s%s", describe(kv.val), hint)
		return nil
	}
	d.Pos = Pos{v.Line, v.Column}
	sc := scope{prefix: "drift: "}
	baseline := "previous (the default)" // for messages
	var outliersAt *yaml.Node            // when given, and not off
	for _, kv := range p.pairs(sc, v) {
		switch k := kv.key.Value; k {
		case "history":
			if s, ok := p.name(sc, kv.val, "history"); ok {
				p.checkPlaceholders(sc, kv.val, "history", s, false)
				d.History = s
			}
		case "baseline":
			b, ok := p.baseline(sc, kv.val)
			d.Baseline, baseline = b, b.String()
			if b.Kind == BaselineFile {
				baseline = fmt.Sprintf("the file %q", b.Path)
			}
			if !ok {
				baseline = ""
			}
		case "min_events":
			if n, ok := p.integer(sc, kv.val, "min_events"); ok {
				if n < 0 {
					p.errorf(sc, kv.val, "min_events must be 0 or more, got %d", n)
					continue
				}
				d.MinEvents = n
			}
		case "default_checks":
			r := resolve(kv.val)
			if r.Kind != yaml.ScalarNode || r.ShortTag() != "!!bool" || r.Decode(&d.DefaultChecks) != nil {
				p.errorf(sc, kv.val, "default_checks must be true or false, got %s", describe(kv.val))
			}
		case "volume":
			p.family(sc, kv, &d.Volume, 0)
		case "outliers":
			if p.family(sc, kv, &d.Outliers, 0) && !d.Outliers.Off {
				outliersAt = kv.key
			}
		case "malformed":
			p.family(sc, kv, &d.Malformed, 1)
		case "anomalies":
			p.family(sc, kv, &d.Anomalies, 0)
		case "missing_hours":
			if l, ok := p.level(sc, kv.val, k); ok {
				d.MissingHours = l
			}
		case "schema":
			if l, ok := p.level(sc, kv.val, k); ok {
				d.Schema = l
			}
		case "checks":
			if !isNull(kv.val) {
				d.Checks = p.driftChecks(kv.val)
			}
		default:
			p.unknownKey(sc, kv.key, driftKeys(), "drift takes "+list(driftKeys(), "and"))
		}
	}
	d.OutliersGiven = outliersAt != nil
	if outliersAt != nil && baseline != "" {
		if msg := d.OutliersProblem(d.Baseline, baseline); msg != "" {
			p.errorf(sc, outliersAt, "%s", msg)
		}
	}
	return &d
}

// MinOutlierDays is how many days of a window outliers need: fewer give
// no robust spread.
const MinOutlierDays = 3

// OutliersProblem says why baseline b, as said names it, cannot feed
// outliers that the config set itself, or "".
func (d *Drift) OutliersProblem(b Baseline, said string) string {
	switch {
	case !d.OutliersGiven:
		return ""
	case b.Kind != BaselineWindow:
		return fmt.Sprintf("outliers compares today with each day of a window baseline, but the baseline is %s; set baseline: {window: 7} or remove outliers", said)
	case b.Window < MinOutlierDays:
		return fmt.Sprintf("outliers needs a window of at least %d days to compare today with, but the baseline is %s", MinOutlierDays, said)
	}
	return ""
}

// baseline reads previous, {window: N}, window:N or a path.
func (p *parser) baseline(sc scope, n *yaml.Node) (Baseline, bool) {
	r := resolve(n)
	switch {
	case r.Kind == yaml.MappingNode:
		bsc := scope{prefix: sc.prefix + "baseline: "}
		var days *yaml.Node
		typo := false
		for _, kv := range p.pairs(bsc, r) {
			if kv.key.Value == "window" {
				days = kv.val
				continue
			}
			p.unknownKey(bsc, kv.key, []string{"window"}, "a baseline mapping takes window, such as {window: 7}")
			typo = typo || suggest(kv.key.Value, []string{"window"}) != ""
		}
		if days == nil {
			if !typo {
				p.errorf(sc, n, "baseline needs window, such as {window: 7}; or write previous or the path of a profile JSON file")
			}
			return Baseline{}, false
		}
		w, ok := p.integer(sc, days, "baseline window")
		if !ok {
			return Baseline{}, false
		}
		if w < 1 || w > MaxWindow {
			p.errorf(sc, days, "%s", windowRange(w))
			return Baseline{}, false
		}
		return Baseline{Kind: BaselineWindow, Window: int(w)}, true
	case r.Kind == yaml.ScalarNode && r.ShortTag() == "!!str":
		b, msg := parseBaseline(r.Value, "{window: N}")
		if msg != "" {
			p.errorf(sc, n, "%s", msg)
			return Baseline{}, false
		}
		return b, true
	}
	hint := ""
	if r.Kind == yaml.ScalarNode && r.ShortTag() == "!!int" {
		hint = fmt.Sprintf("; for a window of %s days write {window: %s}", r.Value, r.Value)
	}
	p.errorf(sc, n, "baseline must be previous, {window: N} or the path of a profile JSON file, got %s%s", describe(n), hint)
	return Baseline{}, false
}

// level reads warn, fail or off.
func (p *parser) level(sc scope, n *yaml.Node, key string) (Level, bool) {
	r := resolve(n)
	if r.Kind == yaml.ScalarNode && r.ShortTag() == "!!str" {
		switch r.Value {
		case "off":
			return LevelOff, true
		case "warn":
			return LevelWarn, true
		case "fail":
			return LevelFail, true
		}
		p.errorf(sc, n, "%s must be warn, fail or off, got %q%s", key, r.Value, didYouMean(r.Value, levelNames()))
		return LevelUnset, false
	}
	p.errorf(sc, n, "%s must be warn, fail or off, got %s%s", key, describe(n), boolHint(r))
	return LevelUnset, false
}

// boolHint steers a YAML boolean towards the words that turn things off
// and on.
func boolHint(r *yaml.Node) string {
	var b bool
	if r.Kind != yaml.ScalarNode || r.ShortTag() != "!!bool" || r.Decode(&b) != nil {
		return ""
	}
	if b {
		return "; write warn or fail"
	}
	return "; write off to turn it off"
}

// family reads a {warn, fail} mapping or off into t, which holds the
// defaults, and reports whether it is well formed. limit bounds the
// thresholds when not 0.
func (p *parser) family(sc scope, kv pair, t *Thresholds, limit float64) bool {
	name := kv.key.Value
	r := resolve(kv.val)
	if r.Kind == yaml.ScalarNode && r.ShortTag() == "!!str" && r.Value == "off" {
		*t = Thresholds{Off: true}
		return true
	}
	if r.Kind != yaml.MappingNode {
		hint := boolHint(r)
		if r.Kind == yaml.ScalarNode && r.ShortTag() == "!!str" {
			hint = didYouMean(r.Value, []string{"off"})
		}
		p.errorf(sc, kv.val, "%s must be a mapping such as {warn: %s, fail: %s}, or off, got %s%s",
			name, fmtNum(t.Warn), fmtNum(t.Fail), describe(kv.val), hint)
		return false
	}
	fsc := scope{prefix: sc.prefix + name + ": "}
	var warn, fail *yaml.Node
	for _, e := range p.pairs(fsc, r) {
		switch e.key.Value {
		case "warn":
			warn = e.val
		case "fail":
			fail = e.val
		default:
			p.unknownKey(fsc, e.key, []string{"warn", "fail"}, name+" takes warn and fail, or is off")
		}
	}
	limitWhat := ""
	if limit > 0 {
		limitWhat = "a change of share"
	}
	return p.thresholds(fsc, warn, fail, t, true, "the default", limit, limitWhat)
}

// thresholds reads warn and fail from their nodes, either of which may be
// nil to keep the value in t, and checks that 0 <= warn <= fail <= limit
// (no upper bound when limit is 0). hasDefault says whether t holds
// defaults, named def in messages, or nothing to compare with.
func (p *parser) thresholds(sc scope, warn, fail *yaml.Node, t *Thresholds, hasDefault bool, def string, limit float64, limitWhat string) bool {
	read := func(n *yaml.Node, key string, dst *float64) bool {
		if n == nil {
			return true
		}
		v, ok := p.threshold(sc, n, key)
		switch {
		case !ok:
			return false
		case v < 0:
			p.errorf(sc, n, "%s must be 0 or more, got %s", key, fmtNum(v))
			return false
		case limit > 0 && v > limit:
			p.errorf(sc, n, "%s %s can never be reached; %s is at most %s", key, fmtNum(v), limitWhat, fmtNum(limit))
			return false
		}
		*dst = v
		return true
	}
	okWarn := read(warn, "warn", &t.Warn)
	okFail := read(fail, "fail", &t.Fail)
	if !okWarn || !okFail || t.Warn <= t.Fail || !hasDefault && (warn == nil || fail == nil) {
		return okWarn && okFail
	}
	at, warnDef, failDef := warn, "", ""
	if warn == nil {
		at, warnDef = fail, " ("+def+")"
	}
	if fail == nil {
		failDef = " (" + def + ")"
	}
	p.errorf(sc, at, "warn %s%s is above fail %s%s; a check must warn before it fails", fmtNum(t.Warn), warnDef, fmtNum(t.Fail), failDef)
	return false
}

// threshold reads a number, steering percents towards shares and quoted
// numbers out of their quotes.
func (p *parser) threshold(sc scope, n *yaml.Node, key string) (float64, bool) {
	r := resolve(n)
	if r.Kind == yaml.ScalarNode && r.ShortTag() == "!!str" {
		if pct, ok := parsePercent(r.Value); ok {
			p.errorf(sc, n, "%s must be a number, got %s; write the share as a number: %s", key, describe(n), fmtNum(pct/100))
			return 0, false
		}
		if _, err := strconv.ParseFloat(strings.TrimSpace(r.Value), 64); err == nil {
			p.errorf(sc, n, "%s must be a number, got %s; write it without quotes", key, describe(n))
			return 0, false
		}
	}
	return p.number(sc, n, key)
}

func (p *parser) driftChecks(n *yaml.Node) []DriftCheck {
	items, ok := p.sequence(scope{prefix: "drift: "}, n, "checks", "[{event: MovieRatingEvent, field: rating, metric: psi}]")
	if !ok {
		return nil
	}
	var out []DriftCheck
	names := map[string]*yaml.Node{}
	for i, it := range items {
		if c, ok := p.driftCheck(it, i, names); ok {
			out = append(out, c)
		}
	}
	return out
}

func driftEventChoice() string {
	return list(BuiltinEvents(), "or") + ", or a type listed under events:"
}

func defaultCheckName(event, field, metric string) string {
	return event + "." + field + ":" + metric
}

// driftCheck reads the i-th drift check; names holds the names of the
// checks before it.
func (p *parser) driftCheck(n *yaml.Node, i int, names map[string]*yaml.Node) (DriftCheck, bool) {
	sc := scope{prefix: fmt.Sprintf("drift check #%d: ", i+1)}
	rn := resolve(n)
	if rn.Kind != yaml.MappingNode {
		p.errorf(sc, n, "a drift check must be a mapping with event, field and metric, got %s", describe(n))
		return DriftCheck{}, false
	}
	c := DriftCheck{Pos: Pos{rn.Line, rn.Column}}
	nerr := len(p.errs)
	// The name first, so that every problem can cite it.
	if s := scalarAt(rn, "name"); s != "" {
		sc.prefix = fmt.Sprintf("drift check %q: ", s)
	} else if e, f, m := scalarAt(rn, "event"), scalarAt(rn, "field"), scalarAt(rn, "metric"); e != "" && f != "" && m != "" {
		sc.prefix = fmt.Sprintf("drift check %q: ", defaultCheckName(e, f, m))
	}
	vals := map[string]*yaml.Node{}
	keyOf := map[string]*yaml.Node{}
	typo := map[string]bool{} // keys that an unknown key looks like a misspelling of
	for _, kv := range p.pairs(sc, rn) {
		if k := kv.key.Value; contains(driftCheckKeys(), k) {
			vals[k], keyOf[k] = kv.val, kv.key
			continue
		}
		p.unknownKey(sc, kv.key, driftCheckKeys(), "a drift check takes "+list(driftCheckKeys(), "and"))
		typo[suggest(kv.key.Value, driftCheckKeys())] = true
	}
	// missing reports a required key, unless a typo of it was reported.
	missing := func(key, format string, args ...any) {
		if !typo[key] {
			p.errorf(sc, rn, "missing "+key+"; "+format, args...)
		}
	}

	var fields []Field
	builtin := false
	if v := vals["event"]; v == nil {
		missing("event", "name %s", driftEventChoice())
	} else if s, ok := p.str(sc, v, "event"); ok {
		switch {
		case s == "*":
			p.errorf(sc, v, "event \"*\" is not allowed: a drift check compares one field of one event type; name %s", driftEventChoice())
		case isBuiltin(s):
			c.Event = s
			fields, builtin = BuiltinFields(s)
		case p.events[s]:
			c.Event = s
		default:
			p.errorf(sc, v, "unknown event type %q%s; name %s", s, didYouMean(s, p.eventNames()), driftEventChoice())
		}
	}

	var field *Field
	if v := vals["field"]; v == nil {
		if builtin {
			missing("field", "name the field of %s to compare: %s", c.Event, list(fieldNames(fields), "or"))
		} else {
			missing("field", "name the field to compare")
		}
	} else if s, ok := p.name(sc, v, "field"); ok {
		c.Field = s
		switch {
		case s == "time":
			// The profile counts time by hour, not by value.
			p.errorf(sc, v, "time is profiled by hour, not by value, so no metric can compare it; missing_hours checks the hours")
		case builtin:
			field = p.builtinField(sc, v, c.Event, fields, s)
		}
	}

	if v := vals["metric"]; v == nil {
		missing("metric", "use %s", list(DriftMetrics(), "or"))
	} else if s, ok := p.str(sc, v, "metric"); ok {
		switch {
		case !contains(DriftMetrics(), s):
			p.errorf(sc, v, "unknown metric %q%s; use %s", s, didYouMean(s, DriftMetrics()), list(DriftMetrics(), "or"))
		case metricNumeric(s) && field != nil && field.Kind != KindInt && field.Kind != KindFloat:
			p.errorf(sc, v, "%s needs a numeric field, but %s's %s is %s", s, c.Event, field.Name, kindWord(field.Kind))
			c.Metric = s
		default:
			c.Metric = s
		}
	}

	switch q := vals["quantile"]; {
	case q == nil:
		if c.Metric == "quantile_change" {
			p.errorf(sc, rn, "quantile_change needs quantile, a number between 0 and 1 such as 0.95")
		}
	case c.Metric != "" && c.Metric != "quantile_change":
		p.errorf(sc, keyOf["quantile"], "quantile applies only to quantile_change, not %s; remove it", c.Metric)
	default:
		if v, ok := p.threshold(sc, q, "quantile"); ok {
			if v <= 0 || v >= 1 {
				p.errorf(sc, q, "quantile must be between 0 and 1, exclusive (such as 0.95), got %s", fmtNum(v))
			} else {
				c.Quantile = v
			}
		}
	}

	var t Thresholds
	t.Warn, t.Fail = DefaultThresholds(c.Metric)
	p.thresholds(sc, vals["warn"], vals["fail"], &t, c.Metric != "", c.Metric+"'s default", metricLimit(c.Metric), c.Metric)
	c.Warn, c.Fail = t.Warn, t.Fail

	at, named := vals["name"], true
	if at != nil {
		c.Name, _ = p.name(sc, at, "name")
	} else if c.Event != "" && c.Field != "" && c.Metric != "" {
		c.Name, at, named = defaultCheckName(c.Event, c.Field, c.Metric), rn, false
	}
	if c.Name != "" {
		if first, dup := names[c.Name]; dup {
			hint := ""
			if !named {
				hint = " (a check without a name is named event.field:metric, so give one of them a name)"
			}
			p.errorf(sc, at, "duplicate drift check name; the first drift check with this name is at line %d%s", first.Line, hint)
		} else {
			names[c.Name] = at
		}
	}
	return c, len(p.errs) == nerr
}
