package rules

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Book is a compiled rule book: the checks of a Config, bound to their
// reference sets. A Book is immutable and shared by all goroutines; each
// goroutine evaluates events with its own Evaluator.
type Book struct {
	Checks []*Check // in the order of the config's rules; Outcome.Check indexes it
	file   string
}

// Check is one compiled rule.
type Check struct {
	Name        string
	Event       string   // a built-in event type, "*" or an extra type
	Field       string   // the checked field; "" for row_count, unique and expr without field
	Fields      []string // unique: the fields whose combination must not repeat
	Kind        RuleKind
	Severity    Severity // never SeverityUnset
	Tolerance   Tolerance
	Description string
	Where       string
	Rule        Rule // the rule as the config states it

	lo, hi  float64 // between; min uses lo, max uses hi
	loI     *int64  // lo exactly, when the config gave an integer
	hiI     *int64
	values  valueSet
	re      *regexp.Regexp
	set     Set
	where   *program
	expr    *program
	maxNull float64
	rowMin  int64
	rowMax  int64  // < 0: none
	day     string // on_day: the audited day, YYYY-MM-DD
	dayNum  int64  // and its DayNumber
	reads   []string
}

// Compile turns a validated config into a Book for the audit of day (a
// date; on_day rules compare with it, whatever its clock and zone). The
// zero Time is 0001-01-01, a day like any other. refs holds the loaded
// reference sets by name; every reference an in_reference rule names
// must be there. Compile returns an ErrorList when it cannot compile a
// rule, which happens only for configs that Parse did not validate.
func Compile(cfg *Config, refs map[string]Set, day time.Time) (*Book, error) {
	b := &Book{file: cfg.File}
	var errs ErrorList
	for _, r := range cfg.Rules {
		c := &Check{
			Name:        r.Name,
			Event:       r.Event,
			Field:       r.Field,
			Fields:      r.Fields,
			Kind:        r.Kind,
			Severity:    r.Severity,
			Tolerance:   r.Tolerance,
			Description: r.Description,
			Where:       r.Where,
			Rule:        r,
			rowMax:      -1,
		}
		fail := func(format string, args ...any) {
			errs = append(errs, &Error{File: cfg.File, Line: r.Pos.Line, Column: r.Pos.Column,
				Rule: r.Name, Msg: fmt.Sprintf(format, args...)})
		}
		if c.Severity == SeverityUnset {
			c.Severity = SeverityError
		}
		if r.Event == "" {
			fail("missing event")
		}
		if r.Kind.needsField() && r.Field == "" {
			fail("missing field")
		}
		switch r.Kind {
		case RuleBetween:
			c.lo, c.hi = r.Between[0], r.Between[1]
			c.loI, c.hiI = r.IntBounds[0], r.IntBounds[1]
		case RuleMin:
			c.lo, c.loI = r.Min, r.IntBounds[0]
		case RuleMax:
			c.hi, c.hiI = r.Max, r.IntBounds[1]
		case RuleIn, RuleNotIn:
			c.values = newValueSet(r.Values)
		case RuleNotNull:
		case RulePattern:
			re, err := compilePattern(r.Pattern)
			if err != nil {
				fail("%v", err)
			}
			c.re = re
		case RuleInReference:
			c.set = refs[r.Reference]
			if c.set == nil {
				fail("reference %q is not loaded", r.Reference)
			}
		case RuleUnique:
			if len(r.Fields) == 0 {
				fail("unique lists no fields")
			}
		case RuleMaxNullRatio:
			c.maxNull = r.MaxNullRatio
		case RuleRowCount:
			c.rowMin, c.rowMax = r.RowCount.Min, r.RowCount.Max
		case RuleOnDay:
			// No sentinel: --date 0001-01-01 is the zero Time, and a day.
			d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
			c.day, c.dayNum = d.Format(time.DateOnly), DayNumber(d.Unix(), 3600)
		case RuleExpr:
			prog, e := compileExpr(r.Expr, r.Event)
			if e != nil {
				fail("bad expr: %s", e.msg)
			}
			c.expr = prog
		default:
			fail("no check")
		}
		if r.Where != "" {
			prog, e := compileExpr(r.Where, r.Event)
			if e != nil {
				fail("bad where: %s", e.msg)
			}
			c.where = prog
		}
		c.reads = c.fieldsRead()
		b.Checks = append(b.Checks, c)
	}
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	return b, nil
}

// fieldsRead lists every field the check needs in an event, without
// repeats. An event whose shape lacks one is not checked.
func (c *Check) fieldsRead() []string {
	var s []string
	add := func(names ...string) {
		for _, n := range names {
			if n != "" && !contains(s, n) {
				s = append(s, n)
			}
		}
	}
	add(c.Field)
	add(c.Fields...)
	if c.where != nil {
		add(c.where.names...)
	}
	if c.expr != nil {
		add(c.expr.names...)
	}
	return s
}

// Status judges a check from its counts over a run: checked events and
// failed ones. For row_count, checked is the number of events and failed
// is ignored; for max_null_ratio, failed is the number of nulls; for
// unique, failed is the number of repeated combinations. A failing check
// is StatusFail, or StatusWarn when its severity is warn.
func (c *Check) Status(checked, failed int64) Status {
	var bad bool
	switch c.Kind {
	case RuleRowCount:
		bad = checked < c.rowMin || c.rowMax >= 0 && checked > c.rowMax
	case RuleMaxNullRatio:
		limit := c.maxNull * float64(checked)
		bad = float64(failed) > limit*(1+1e-12)+1e-9
	default:
		bad = failed > c.Tolerance.Allowed(checked)
	}
	switch {
	case !bad:
		return StatusPass
	case c.Severity == SeverityWarn:
		return StatusWarn
	}
	return StatusFail
}

// Params returns the check's condition in a few words for reports, such as
// "between [1, 5]" or "in [200] where status == 200".
func (c *Check) Params() string {
	var s string
	switch c.Kind {
	case RuleBetween:
		s = fmt.Sprintf("between [%s, %s]", boundText(c.lo, c.loI), boundText(c.hi, c.hiI))
	case RuleMin:
		s = "min " + boundText(c.lo, c.loI)
	case RuleMax:
		s = "max " + boundText(c.hi, c.hiI)
	case RuleIn, RuleNotIn:
		s = c.Kind.String() + " " + valuesText(c.Rule.Values)
	case RuleNotNull:
		s = "not_null"
	case RulePattern:
		s = "pattern " + c.Rule.Pattern
	case RuleInReference:
		s = "in_reference " + c.Rule.Reference
	case RuleUnique:
		s = "unique [" + strings.Join(c.Fields, ", ") + "]"
	case RuleMaxNullRatio:
		s = "max_null_ratio " + fmtNum(c.maxNull)
	case RuleRowCount:
		switch {
		case c.rowMax < 0:
			s = fmt.Sprintf("row_count min %d", c.rowMin)
		case c.rowMin == 0:
			s = fmt.Sprintf("row_count max %d", c.rowMax)
		default:
			s = fmt.Sprintf("row_count min %d, max %d", c.rowMin, c.rowMax)
		}
	case RuleExpr:
		s = "expr " + c.Rule.Expr
	case RuleOnDay:
		s = "on_day " + c.day
	default:
		s = c.Kind.String()
	}
	if c.Where != "" {
		s += " where " + c.Where
	}
	return s
}

func valuesText(vals []Value) string {
	const show = 10
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range vals {
		if i == show {
			fmt.Fprintf(&b, ", … (%d values)", len(vals))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if v.Kind == KindString {
			b.WriteString(strconv.Quote(v.Str))
		} else {
			b.WriteString(v.String())
		}
	}
	b.WriteByte(']')
	return b.String()
}

// Describe returns the fields the check reads in e as "name=value" pairs,
// for the sample of a failing event, such as a repeated unique
// combination. It is slow; call it for samples only.
func (c *Check) Describe(e Event) string {
	s := e.Shape()
	var b strings.Builder
	for _, name := range c.reads {
		i := s.Index(name)
		if i < 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		v := e.Value(i)
		b.WriteString(name)
		b.WriteByte('=')
		if v.Kind == KindString {
			b.WriteString(strconv.Quote(v.Str))
		} else {
			b.WriteString(v.String())
		}
	}
	return b.String()
}

// CheckShape checks the rules that name s.Event() against the fields a
// writer schema declares, once the schema is known: a field the schema
// lacks (the rule then skips these events), a numeric rule on a field
// that is not a number, an on_day rule on a field that is neither text
// nor a timestamp, an in or not_in list of the wrong type. Each error
// is an *Error citing the rule. Rules for "*" are not checked: they apply
// to the types that have their fields.
func (b *Book) CheckShape(s *Shape) []error {
	var errs []error
	for _, c := range b.Checks {
		if c.Event != s.Event() {
			continue
		}
		fail := func(format string, args ...any) {
			errs = append(errs, &Error{File: b.file, Line: c.Rule.Pos.Line, Column: c.Rule.Pos.Column,
				Rule: c.Name, Msg: fmt.Sprintf(format, args...)})
		}
		for _, name := range c.reads {
			if s.Index(name) < 0 {
				fail("this writer schema of %s has no field %q%s, so the rule skips its events; its fields are %s",
					s.Event(), name, didYouMean(name, fieldNames(s.Fields())), list(fieldNames(s.Fields()), "and"))
			}
		}
		for _, p := range []*program{c.where, c.expr} {
			if p == nil {
				continue
			}
			for _, name := range p.lists {
				j := s.Index(name)
				if j < 0 || s.Fields()[j].Kind != KindString {
					continue
				}
				f := s.Fields()[j]
				what, empty := listType(f.Type)
				if what == "" {
					continue
				}
				fail("this writer schema of %s declares %s as %s (%s); rules see it as its JSON text, so len(), [i], in and list comparisons in %q work on the text's characters, not its items; compare the text instead, such as %s != %q",
					s.Event(), f.Name, what, f.Type, p.src, f.Name, empty)
			}
		}
		i := s.Index(c.Field)
		if c.Field == "" || i < 0 {
			continue
		}
		f := s.Fields()[i]
		if f.Kind == KindNull {
			continue
		}
		switch {
		case c.Kind.numeric() && f.Kind != KindInt && f.Kind != KindFloat:
			fail("%s needs a number, but this writer schema of %s declares %s as %s", c.Kind, s.Event(), f.Name, f.Type)
		case c.Kind == RuleOnDay && f.Kind != KindString && !(f.Kind == KindInt && TimeUnit(f.Type) > 0):
			fail("on_day needs a time field: text such as 2024-03-19T08:15:00, or an Avro long with a timestamp logical type; this writer schema of %s declares %s as %s", s.Event(), f.Name, f.Type)
		case c.Kind == RuleIn || c.Kind == RuleNotIn:
			for _, v := range c.Rule.Values {
				if !sameType(f.Kind, v.Kind) {
					fail("%s lists %s (%s), but this writer schema of %s declares %s as %s", c.Kind, strings.Trim(valuesText([]Value{v}), "[]"), v.Kind, s.Event(), f.Name, f.Type)
					break
				}
			}
		}
	}
	return errs
}

// valueSet holds the values of an in or not_in list. Ints and floats that
// are equal match each other; strings match strings only.
type valueSet struct {
	ints   map[int64]struct{}
	floats map[float64]struct{} // not whole numbers
	strs   map[string]struct{}
	bools  [2]bool
	few    []int64 // ints' keys when they are few: a scan beats the map
}

// maxFew is the most ints valueSet scans instead of hashing.
const maxFew = 8

func newValueSet(vals []Value) valueSet {
	var s valueSet
	for _, v := range vals {
		switch v.Kind {
		case KindInt:
			if s.ints == nil {
				s.ints = map[int64]struct{}{}
			}
			s.ints[v.Int] = struct{}{}
		case KindFloat:
			if i, ok := wholeNumber(v.Float); ok {
				if s.ints == nil {
					s.ints = map[int64]struct{}{}
				}
				s.ints[i] = struct{}{}
				continue
			}
			if s.floats == nil {
				s.floats = map[float64]struct{}{}
			}
			s.floats[v.Float] = struct{}{}
		case KindString:
			if s.strs == nil {
				s.strs = map[string]struct{}{}
			}
			s.strs[v.Str] = struct{}{}
		case KindBool:
			s.bools[v.Int&1] = true
		}
	}
	if len(s.ints) > 0 && len(s.ints) <= maxFew {
		for i := range s.ints {
			s.few = append(s.few, i)
		}
	}
	return s
}

func (s *valueSet) hasInt(i int64) bool {
	if s.few != nil {
		for _, x := range s.few {
			if x == i {
				return true
			}
		}
		return false
	}
	_, ok := s.ints[i]
	return ok
}

func wholeNumber(f float64) (int64, bool) {
	if f != math.Trunc(f) || f < -9.2e18 || f > 9.2e18 {
		return 0, false
	}
	return int64(f), true
}

func (s *valueSet) has(v Value) bool {
	switch v.Kind {
	case KindInt:
		return s.hasInt(v.Int)
	case KindFloat:
		if i, whole := v.wholeInt(); whole {
			return s.hasInt(i)
		}
		_, ok := s.floats[v.Float]
		return ok
	case KindString:
		_, ok := s.strs[v.Str]
		return ok
	case KindBool:
		return s.bools[v.Int&1]
	}
	return false
}

// boundText is a bound of between, min or max as the config gave it.
func boundText(f float64, i *int64) string {
	if i != nil {
		return strconv.FormatInt(*i, 10)
	}
	return fmtNum(f)
}

// outOfRange reports whether v fails the check, a between, min or max:
// integers are compared with integer bounds exactly; a value that is not
// a number fails, and null passes.
func (c *Check) outOfRange(v *Value) bool {
	switch v.Kind {
	case KindNull:
		return false
	case KindInt:
		return c.Kind != RuleMax && c.belowLo(v.Int) || c.Kind != RuleMin && c.aboveHi(v.Int)
	}
	f, ok := v.Number()
	switch c.Kind {
	case RuleMin:
		return !ok || !(f >= c.lo)
	case RuleMax:
		return !ok || !(f <= c.hi)
	}
	return !ok || f < c.lo || f > c.hi || f != f
}

// belowLo reports whether the integer x is under the low bound: exactly
// when the config gave an integer.
func (c *Check) belowLo(x int64) bool {
	if c.loI != nil {
		return x < *c.loI
	}
	return !(float64(x) >= c.lo)
}

// aboveHi reports whether the integer x is over the high bound.
func (c *Check) aboveHi(x int64) bool {
	if c.hiI != nil {
		return x > *c.hiI
	}
	return !(float64(x) <= c.hi)
}

// listType says whether an Avro type, as JSON text, is an array or a map,
// or a union of null and one: "an array" and its empty text "[]", or "a
// map" and "{}"; "" when it is neither. Only the outermost type counts:
// a map of arrays is a map, and a record that holds an array is neither.
func listType(typ string) (what, empty string) {
	var t any
	if json.Unmarshal([]byte(typ), &t) != nil {
		return "", ""
	}
	branches, ok := t.([]any)
	if !ok {
		branches = []any{t}
	}
	for _, b := range branches {
		if m, ok := b.(map[string]any); ok {
			switch m["type"] {
			case "array":
				return "an array", "[]"
			case "map":
				return "a map", "{}"
			}
		}
	}
	return "", ""
}
