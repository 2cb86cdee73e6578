package rules

import (
	"math"
	"strconv"
)

// RuleKind is the kind of check a rule makes, named after its YAML key.
// The zero RuleKind is unset.
type RuleKind uint8

// The rule kinds. Each rule has exactly one.
const (
	RuleUnset        RuleKind = iota
	RuleBetween               // between: [lo, hi], inclusive
	RuleMin                   // min: n
	RuleMax                   // max: n
	RuleIn                    // in: [values]
	RuleNotIn                 // not_in: [values]
	RuleNotNull               // not_null: true
	RulePattern               // pattern: RE2, matching the whole value
	RuleInReference           // in_reference: name of a references entry
	RuleUnique                // unique: [fields]
	RuleMaxNullRatio          // max_null_ratio: share of nulls allowed
	RuleRowCount              // row_count: {min: n, max: m}
	RuleExpr                  // expr: boolean expression
	RuleOnDay                 // on_day: true; the time is on the audited day
)

// ruleKinds lists the kinds in the order the docs and messages name them.
func ruleKinds() []RuleKind {
	return []RuleKind{RuleBetween, RuleMin, RuleMax, RuleIn, RuleNotIn, RuleNotNull,
		RulePattern, RuleInReference, RuleOnDay, RuleUnique, RuleMaxNullRatio, RuleRowCount, RuleExpr}
}

// String returns the kind's YAML key, such as "between" or "not_null".
func (k RuleKind) String() string {
	switch k {
	case RuleUnset:
		return "unset"
	case RuleBetween:
		return "between"
	case RuleMin:
		return "min"
	case RuleMax:
		return "max"
	case RuleIn:
		return "in"
	case RuleNotIn:
		return "not_in"
	case RuleNotNull:
		return "not_null"
	case RulePattern:
		return "pattern"
	case RuleInReference:
		return "in_reference"
	case RuleUnique:
		return "unique"
	case RuleMaxNullRatio:
		return "max_null_ratio"
	case RuleRowCount:
		return "row_count"
	case RuleExpr:
		return "expr"
	case RuleOnDay:
		return "on_day"
	}
	return "rulekind(" + strconv.Itoa(int(k)) + ")"
}

// needsField reports whether rules of kind k check one named field.
func (k RuleKind) needsField() bool {
	switch k {
	case RuleRowCount, RuleUnique, RuleExpr:
		return false
	}
	return true
}

// numeric reports whether rules of kind k compare numbers.
func (k RuleKind) numeric() bool {
	return k == RuleBetween || k == RuleMin || k == RuleMax
}

// Severity says what a failing rule does to the run. The zero Severity is
// unset and counts as SeverityError.
type Severity uint8

// The severities.
const (
	SeverityUnset Severity = iota
	SeverityError          // a failing rule fails the run
	SeverityWarn           // a failing rule only warns
)

// String returns "error", "warn" or "unset".
func (s Severity) String() string {
	switch s {
	case SeverityUnset:
		return "unset"
	case SeverityError:
		return "error"
	case SeverityWarn:
		return "warn"
	}
	return "severity(" + strconv.Itoa(int(s)) + ")"
}

// Status is the verdict on one check after a run. Statuses are ordered:
// a larger Status is worse, so the run's status is the maximum. The zero
// Status is unset.
type Status uint8

// The statuses.
const (
	StatusUnset Status = iota
	StatusPass
	StatusWarn
	StatusFail
)

// String returns "pass", "warn", "fail" or "unset".
func (s Status) String() string {
	switch s {
	case StatusUnset:
		return "unset"
	case StatusPass:
		return "pass"
	case StatusWarn:
		return "warn"
	case StatusFail:
		return "fail"
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// Tolerance is how many failing events a rule allows before it fails:
// a count, or a percent of the events it checked. The zero Tolerance
// allows none.
type Tolerance struct {
	Count     int64   // failures allowed when !IsPercent
	Percent   float64 // 0 to 100, when IsPercent
	IsPercent bool
}

// Allowed returns how many of checked events may fail.
func (t Tolerance) Allowed(checked int64) int64 {
	if !t.IsPercent {
		return t.Count
	}
	// The small slack keeps 0.1% of 3000 at 3 despite binary fractions.
	a := t.Percent / 100 * float64(checked)
	return int64(math.Floor(a*(1+1e-12) + 1e-9))
}

// String returns the tolerance as the config writes it: "10" or "0.5%".
func (t Tolerance) String() string {
	if t.IsPercent {
		return strconv.FormatFloat(t.Percent, 'f', -1, 64) + "%"
	}
	return strconv.FormatInt(t.Count, 10)
}
