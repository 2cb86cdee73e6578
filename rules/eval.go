package rules

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/expr-lang/expr/vm"
)

// Outcome is the result of one check on one event.
type Outcome struct {
	Check  int  // index in Book.Checks
	Failed bool // the event fails the check; false for row_count and unique unless Err
	// Err says the where condition or the expression could not be
	// evaluated for this event; Failed is then true and Value the error.
	Err bool
	// Value is the checked field's value; for unique, the first field's;
	// for a failed expression, Str("error: ...") when it could not be
	// evaluated. It may point into the event's buffers: copy what you keep.
	Value Value
	// Key is a 128-bit hash of a unique check's field combination, typed
	// so that int 1 and string "1" differ. The caller counts repeats.
	Key [2]uint64
}

// Evaluator runs a Book's checks over events. It keeps per-shape plans and
// scratch space, so it is for one goroutine; make one per goroutine with
// Book.NewEvaluator.
type Evaluator struct {
	book  *Book
	plans map[*Shape]*plan
	// The first plans made and their shapes, searched before plans.
	recentShapes [maxRecent]*Shape
	recentPlans  [maxRecent]*plan
	nRecent      int
	// The plans of the last events, by the slot of their shape: events
	// of a few shapes that alternate find theirs here.
	last    [lastPlans]*plan
	out     []Outcome
	vm      vm.VM
	env     map[string]any
	scratch []Value // the values of an event without a ValueSlice
	buf     []byte
	checked []int64 // per check: events it applied to
	digest  xxhash.Digest
}

// plan is what an Evaluator does with events of one shape: the checks
// that apply to it, with field names resolved to positions.
type plan struct {
	shape *Shape
	steps []step
	fast  []fastStep // steps as RunValues runs them, one per step
	width int        // len(Shape.Fields()): how many values a ValueSlice must have
}

// fastStep is a step as RunValues checks it: the few words its loop
// reads for the usual cases, kept together, with the step itself for
// the rest (see Evaluator.runStep).
type fastStep struct {
	op fastOp
	// wneg and neg turn the tests below into their negations.
	wneg, neg  bool
	whereField int // the where condition's int field; -1 when none
	field      int
	// The where condition on an int holds when uint64(x)-wlo <= wspan is
	// not wneg; fastInt passes the checked int when uint64(x)-lo <= span
	// is not neg.
	wlo, wspan uint64
	lo, span   uint64
	count      *int64
	bits       []uint64 // fastReference: the set's bitmap of numerals
	st         *step
}

// fastOp is how RunValues checks a fastStep.
type fastOp uint8

const (
	fastOther     fastOp = iota // Evaluator.runStep
	fastInt                     // an int in a range, or not: between, min, max; in and not_in of one int
	fastNotNull                 // not_null and max_null_ratio
	fastReference               // in_reference in a hashSet
)

type step struct {
	check  int
	count  *int64 // &Evaluator.checked[check]
	c      *Check
	kind   RuleKind // c.Kind
	op     stepOp   // how Run checks it
	set    *hashSet // c.set when it is one: strings skip the interface
	field  int      // position of c.Field; -1 when none
	fields []int    // unique
	where  []int    // positions of c.where.names
	expr   []int    // positions of c.expr.names
	// c.where and c.expr as run on this shape (see program.forShape)
	wherep, exprp *program
	// per name of where and expr: whether the shape types it boolean
	whereBool, exprBool []bool
	unit                int64 // on_day: TimeUnit of the field's type

	// opRange: the bounds of an integer, when the config gave integers
	// (intBounds); min has no upper one, max no lower one.
	lo, hi    int64
	intBounds bool
	// A where condition that is one comparison of a field with an
	// integer, for Run to decide without calling the condition when the
	// field holds an int: the field's position (-1 when the step has no
	// where condition), the comparison and the integer.
	whereField int
	whereOp    condOp
	whereInt   int64
}

// stepOp is how Run checks a step: the kinds that most rule books are
// made of are checked in its loop, without calls through the general
// path of Evaluator.step.
type stepOp uint8

const (
	opGeneral stepOp = iota // Evaluator.step
	opRange                 // between, min, max
	opIn
	opNotIn
	opNotNull // and max_null_ratio
	opReference
)

// valueSlicer is an Event that can hand over all its values at once, in
// field order, as audit.Event does; Eval then reads them without an
// interface call per field.
type valueSlicer interface {
	ValueSlice() []Value
}

// maxPlans bounds the shapes an Evaluator remembers.
const maxPlans = 4096

// lastPlans is the number of slots of Evaluator.last, and of Shape.slot's
// values.
const lastPlans = 64

// maxRecent bounds the plans searched linearly before the map: a scan
// meets a handful of shapes, which alternate from event to event, and
// comparing a few pointers beats hashing one.
const maxRecent = 8

// NewEvaluator returns an Evaluator of b's checks.
func (b *Book) NewEvaluator() *Evaluator {
	return &Evaluator{book: b, plans: map[*Shape]*plan{}, env: map[string]any{}, checked: make([]int64, len(b.Checks)),
		// A check has one outcome an event at most: out never grows.
		out: make([]Outcome, 0, len(b.Checks))}
}

// plan returns the plan of shape s, from the plans map or made anew; the
// caller has searched the recent plans.
func (ev *Evaluator) plan(s *Shape) *plan {
	if p, ok := ev.plans[s]; ok {
		return p
	}
	if len(ev.plans) >= maxPlans {
		// Sources that make a shape per file would otherwise grow this
		// without end; plans are cheap to make again.
		clear(ev.plans)
		ev.recentShapes, ev.recentPlans, ev.nRecent, ev.last = [maxRecent]*Shape{}, [maxRecent]*plan{}, 0, [lastPlans]*plan{}
	}
	p := &plan{shape: s, width: len(s.Fields())}
	for i, c := range ev.book.Checks {
		if c.Event != "*" && c.Event != s.Event() {
			continue
		}
		st := step{check: i, count: &ev.checked[i], c: c, kind: c.Kind, field: -1}
		st.set, _ = c.set.(*hashSet)
		ok := true
		if c.Field != "" {
			st.field = s.Index(c.Field)
			ok = st.field >= 0
			if ok {
				st.unit = TimeUnit(s.Fields()[st.field].Type)
			}
		}
		resolve := func(names []string) []int {
			idx := make([]int, len(names))
			for j, n := range names {
				idx[j] = s.Index(n)
				if idx[j] < 0 {
					ok = false
				}
			}
			return idx
		}
		st.fields = resolve(c.Fields)
		bools := func(idx []int) []bool {
			b := make([]bool, len(idx))
			for j, i := range idx {
				b[j] = i >= 0 && s.Fields()[i].Kind == KindBool
			}
			return b
		}
		if c.where != nil {
			st.where = resolve(c.where.names)
			st.wherep, st.whereBool = c.where.forShape(s), bools(st.where)
		}
		if c.expr != nil {
			st.expr = resolve(c.expr.names)
			st.exprp, st.exprBool = c.expr.forShape(s), bools(st.expr)
		}
		if ok {
			st.fastPath()
			p.steps = append(p.steps, st)
		}
	}
	p.fast = make([]fastStep, len(p.steps))
	for i := range p.steps {
		p.fast[i] = p.steps[i].fast()
	}
	ev.plans[s] = p
	if ev.nRecent < maxRecent {
		ev.recentShapes[ev.nRecent], ev.recentPlans[ev.nRecent] = s, p
		ev.nRecent++
	}
	return p
}

// Eval runs every check that applies to e: its event type matches (or the
// check is for "*"), e's shape has every field the check reads, and its
// where condition holds. It returns one Outcome per such check, in a
// buffer that is valid until the next call.
//
// A where condition that fails at run time (say, comparing a null) counts
// as a failure of the check, with the error as its Value, so that no
// event slips through unseen.
func (ev *Evaluator) Eval(e Event) []Outcome {
	s := e.Shape()
	vals := ev.values(s, e)
	p := ev.last[s.slot%lastPlans]
	if p == nil || p.shape != s {
		p = ev.findPlan(s)
	}
	if len(vals) < p.width {
		tooFewValues(s, len(vals))
	}
	out := ev.out[:0]
	for i := range p.steps {
		out = ev.step(out, &p.steps[i], vals, true)
	}
	return out
}

// Run is Eval for the scan's hot path: it runs the same checks, adds one
// to Checked()[c] for each check c that applies, and returns only the
// outcomes the caller has to act on, failures and the keys of unique
// checks. Checks that pass cost no Outcome.
func (ev *Evaluator) Run(e Event) []Outcome {
	s := e.Shape()
	return ev.RunValues(s, ev.values(s, e))
}

// Checked returns, per check of the Book, how many events it applied to
// in the calls of Eval, Run and RunValues so far. The slice is the
// Evaluator's own; the caller may clear it after taking the counts.
func (ev *Evaluator) Checked() []int64 { return ev.checked }

// values returns e's values in field order: its own slice when it has
// one, else copies made through Value into the Evaluator's scratch space.
func (ev *Evaluator) values(s *Shape, e Event) []Value {
	n := len(s.Fields())
	if vs, ok := e.(valueSlicer); ok {
		if v := vs.ValueSlice(); len(v) >= n {
			return v
		}
	}
	ev.scratch = ev.scratch[:0]
	for i := range n {
		ev.scratch = append(ev.scratch, e.Value(i))
	}
	return ev.scratch
}

// fastPath sets how Run checks st: its op, and what the op needs.
func (st *step) fastPath() {
	st.op, st.whereField = opGeneral, -1
	c := st.c
	if c.where != nil {
		// A where condition of one comparison with an integer, as
		// status == 200: for an int field it is the comparison, in the
		// condition's native form as in the VM (see cond.equal and
		// cond.order).
		n := st.wherep.native
		if n == nil || n.op > condGe || n.k.Kind != KindInt {
			return
		}
		st.whereField, st.whereOp, st.whereInt = st.where[n.field], n.op, n.k.Int
	}
	if st.field < 0 {
		return
	}
	switch st.kind {
	case RuleBetween, RuleMin, RuleMax:
		st.op = opRange
		st.lo, st.hi = math.MinInt64, math.MaxInt64
		if c.Kind != RuleMax {
			if c.loI == nil {
				return
			}
			st.lo = *c.loI
		}
		if c.Kind != RuleMin {
			if c.hiI == nil {
				return
			}
			st.hi = *c.hiI
		}
		st.intBounds = true
	case RuleIn:
		st.op = opIn
	case RuleNotIn:
		st.op = opNotIn
	case RuleNotNull, RuleMaxNullRatio:
		st.op = opNotNull
	case RuleInReference:
		if st.set != nil {
			st.op = opReference
		}
	}
}

// fast returns st as RunValues checks it.
func (st *step) fast() fastStep {
	f := fastStep{op: fastOther, whereField: -1, field: st.field, count: st.count, st: st}
	if st.op == opGeneral {
		return f
	}
	if st.whereField >= 0 {
		f.whereField = st.whereField
		f.wlo, f.wspan, f.wneg = st.whereOp.intRange(st.whereInt)
	}
	switch st.op {
	case opRange:
		if st.intBounds {
			f.op = fastInt
			f.lo, f.span, f.neg = intRange(st.lo, st.hi)
		}
	case opIn, opNotIn:
		if few := st.c.values.few; len(few) == 1 {
			f.op = fastInt
			f.lo, f.span, f.neg = intRange(few[0], few[0])
			f.neg = f.neg != (st.op == opNotIn)
		}
	case opNotNull:
		f.op = fastNotNull
	case opReference:
		f.op, f.bits = fastReference, st.set.bits
	}
	return f
}

// intRange returns the ints from lo to hi as a test of fastStep: x is
// in them when uint64(x)-start <= span is not neg. When lo > hi, there
// are none: the test of all ints, negated.
func intRange(lo, hi int64) (start, span uint64, neg bool) {
	if lo > hi {
		return 1 << 63, math.MaxUint64, true
	}
	return uint64(lo), uint64(hi) - uint64(lo), false
}

// intRange returns the ints x for which x op k holds, as a test of
// fastStep (see the function intRange).
func (op condOp) intRange(k int64) (start, span uint64, neg bool) {
	switch op {
	case condEq:
		return intRange(k, k)
	case condNe:
		start, span, neg = intRange(k, k)
		return start, span, !neg
	case condLt:
		if k == math.MinInt64 {
			return intRange(0, -1)
		}
		return intRange(math.MinInt64, k-1)
	case condLe:
		return intRange(math.MinInt64, k)
	case condGt:
		if k == math.MaxInt64 {
			return intRange(0, -1)
		}
		return intRange(k+1, math.MaxInt64)
	}
	return intRange(k, math.MaxInt64)
}

// holds reports whether x op k, for the comparisons of cond.
func (op condOp) holds(x, k int64) bool {
	switch op {
	case condEq:
		return x == k
	case condNe:
		return x != k
	case condLt:
		return x < k
	case condLe:
		return x <= k
	case condGt:
		return x > k
	}
	return x >= k
}

// findPlan returns the plan for events of shape s when it is not in
// ev.last: from the recent plans, from the map, or made anew.
func (ev *Evaluator) findPlan(s *Shape) *plan {
	var p *plan
	for i := 0; i < ev.nRecent; i++ {
		if ev.recentShapes[i] == s {
			p = ev.recentPlans[i]
			break
		}
	}
	if p == nil {
		p = ev.plan(s)
	}
	ev.last[s.slot%lastPlans] = p
	return p
}

// tooFewValues says that a source gave n values for an event of shape s,
// too few.
func tooFewValues(s *Shape, n int) {
	panic(fmt.Sprintf("rules: %d values for the %d fields of a %s", n, len(s.Fields()), s.Event())) // a broken source
}

// RunValues is Run for an event given as its shape and its values in the
// order of s.Fields(), as a source that holds them in a slice has them;
// it saves the interface calls of Run. vals must hold a value for every
// field of s.
func (ev *Evaluator) RunValues(s *Shape, vals []Value) []Outcome {
	p := ev.last[s.slot%lastPlans]
	if p == nil || p.shape != s {
		p = ev.findPlan(s)
	}
	if len(vals) < p.width {
		tooFewValues(s, len(vals))
	}
	n := 0 // outcomes in ev.out
	// The usual cases of the steps of fastPath, in a loop without calls,
	// whose variables stay in registers; from the first step that needs
	// a call on, runStep checks the rest.
	steps := p.fast
	i := 0
	for ; i < len(steps); i++ {
		f := &steps[i]
		if f.op == fastOther {
			goto slow
		}
		if f.whereField >= 0 {
			w := &vals[f.whereField]
			if w.Kind != KindInt {
				goto slow
			}
			if (uint64(w.Int)-f.wlo <= f.wspan) == f.wneg {
				continue
			}
		}
		v := &vals[f.field]
		var failed bool
		switch f.op {
		case fastInt:
			if v.Kind == KindInt {
				failed = (uint64(v.Int)-f.lo <= f.span) == f.neg
			} else if v.Kind != KindNull { // in range or in a list, a null passes
				goto slow
			}
		case fastNotNull:
			failed = v.Kind == KindNull
		case fastReference:
			// What hashSet.has does for a numeral in a set with a
			// bitmap; for null, nothing.
			if v.Kind != KindNull {
				if v.Kind != KindString || f.bits == nil {
					goto slow
				}
				in, ok := numeralIn(f.bits, v.Str)
				if !ok {
					goto slow
				}
				failed = !in
			}
		}
		*f.count++
		if failed {
			// As append(out, Outcome{...}), without a call to grow it,
			// and without building the Outcome on the stack first: out
			// has room (see NewEvaluator). Failures are rare: the loop
			// keeps only their count in a register.
			o := &ev.out[:cap(ev.out)][n]
			o.Check, o.Failed, o.Err, o.Value, o.Key = f.st.check, true, false, *v, [2]uint64{}
			n++
		}
	}
	return ev.out[:n]
slow:
	out := ev.out[:n]
	for ; i < len(steps); i++ {
		out = ev.runStep(out, steps[i].st, vals)
	}
	return out
}

// numeralIn reports whether s is a numeral (see numeral) whose bit is set
// in bits, a hashSet's bitmap; ok is false when s is no numeral. It is
// not inlined: in RunValues, its loop would have too few registers.
//
//go:noinline
func numeralIn(bits []uint64, s string) (in, ok bool) {
	x, ok := numeral(s)
	return ok && x/64 < uint64(len(bits)) && bits[x/64]>>(x%64)&1 != 0, ok
}

// runStep is RunValues for one step, the whole of it: what Evaluator.step
// does, for the ops of fastPath, with the outcomes of Run.
func (ev *Evaluator) runStep(out []Outcome, st *step, vals []Value) []Outcome {
	if st.op == opGeneral {
		return ev.step(out, st, vals, false)
	}
	if st.whereField >= 0 {
		w := &vals[st.whereField]
		if w.Kind != KindInt {
			return ev.step(out, st, vals, false)
		}
		if !st.whereOp.holds(w.Int, st.whereInt) {
			return out
		}
	}
	*st.count++
	v := &vals[st.field]
	var failed bool
	switch st.op {
	case opRange:
		if v.Kind == KindInt && st.intBounds {
			failed = v.Int < st.lo || v.Int > st.hi
		} else {
			failed = st.c.outOfRange(v)
		}
	case opIn, opNotIn:
		var has bool
		switch v.Kind {
		case KindNull:
			return out
		case KindInt:
			has = st.c.values.hasInt(v.Int)
		default:
			has = st.c.values.has(*v)
		}
		failed = has == (st.op == opNotIn)
	case opNotNull:
		failed = v.Kind == KindNull
	case opReference:
		switch v.Kind {
		case KindNull:
			return out
		case KindString:
			failed = !st.set.has(v.Str)
		default:
			failed = !st.set.Has(*v)
		}
	}
	if failed {
		out = append(out, Outcome{Check: st.check, Failed: true, Value: *v})
	}
	return out
}

// step runs the check of st on an event with values vals: it counts the
// event in ev.checked when the check applies, and appends its outcome to
// out when it fails, has a unique key, or all is set.
func (ev *Evaluator) step(out []Outcome, st *step, vals []Value, all bool) []Outcome {
	c := st.c
	var tmp Value
	v := &tmp
	if st.field >= 0 {
		v = &vals[st.field]
	}
	if c.where != nil {
		ok, err := ev.run(st.wherep, st.where, st.whereBool, vals)
		if err != nil {
			*st.count++
			return append(out, Outcome{Check: st.check, Failed: true, Err: true, Value: Str("error: where: " + errorText(err))})
		}
		if !ok {
			return out
		}
	}
	*st.count++
	failed := false
	switch st.kind {
	case RuleBetween, RuleMin, RuleMax:
		failed = c.outOfRange(v)
	case RuleIn:
		failed = v.Kind != KindNull && !c.values.has(*v)
	case RuleNotIn:
		failed = v.Kind != KindNull && c.values.has(*v)
	case RuleNotNull, RuleMaxNullRatio:
		failed = v.Kind == KindNull
	case RulePattern:
		if v.Kind != KindNull {
			if v.Kind == KindString {
				failed = !c.re.MatchString(v.Str)
			} else {
				ev.buf = v.AppendText(ev.buf[:0])
				failed = !c.re.Match(ev.buf)
			}
		}
	case RuleInReference:
		switch {
		case v.Kind == KindString && st.set != nil:
			failed = !st.set.has(v.Str)
		case v.Kind != KindNull:
			failed = !c.set.Has(*v)
		}
	case RuleUnique:
		o := Outcome{Check: st.check, Key: ev.key(st.fields, vals)}
		if len(st.fields) > 0 {
			o.Value = vals[st.fields[0]]
		}
		return append(out, o)
	case RuleRowCount:
	case RuleOnDay:
		if v.Kind == KindInt && st.unit == 0 {
			return append(out, Outcome{Check: st.check, Failed: true, Err: true, Value: Str(errNoTimestamp)})
		}
		failed = v.Kind != KindNull && !c.onDay(v, st.unit)
		if failed && v.Kind == KindInt {
			// The sample shows the time the number stands for.
			return append(out, Outcome{Check: st.check, Failed: true, Value: Str(timestampText(v.Int, st.unit))})
		}
	case RuleExpr:
		ok, err := ev.run(st.exprp, st.expr, st.exprBool, vals)
		switch {
		case err != nil:
			return append(out, Outcome{Check: st.check, Failed: true, Err: true, Value: Str("error: " + errorText(err))})
		case !ok:
			failed = true
		}
		if (failed || all) && st.field < 0 {
			// No field named: the sample shows what the expression read.
			return append(out, Outcome{Check: st.check, Failed: failed, Value: ev.exprValue(st.exprp, st.expr, vals)})
		}
	}
	if failed || all {
		out = append(out, Outcome{Check: st.check, Failed: failed, Value: *v})
	}
	return out
}

// errNoTimestamp is the sample of an on_day rule over an integer field
// whose type says nothing of its unit.
const errNoTimestamp = "error: an int without a timestamp logical type has no date"

// onDay reports whether v, a time as text or an integer timestamp of the
// given unit (see TimeUnit), falls on the check's day.
func (c *Check) onDay(v *Value, unit int64) bool {
	switch {
	case v.Kind == KindString:
		d, _, ok := TextTime(v.Str)
		return ok && d == c.day
	case v.Kind == KindInt && unit > 0:
		return DayNumber(v.Int, unit) == c.dayNum
	}
	return false
}

// exprValue is what a sample of an expr rule shows: the value of the one
// field the expression reads, or "name=value, ..." for several.
func (ev *Evaluator) exprValue(p *program, idx []int, vals []Value) Value {
	switch len(idx) {
	case 0:
		return Null()
	case 1:
		return vals[idx[0]]
	}
	b := ev.buf[:0]
	for i, name := range p.names {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, name...)
		b = append(b, '=')
		b = vals[idx[i]].AppendText(b)
	}
	ev.buf = b
	return Str(string(b))
}

// run evaluates an expression over e's fields: natively when it can,
// else with the evaluator's VM and environment. bools says which names
// the event's shape types boolean.
func (ev *Evaluator) run(p *program, idx []int, bools []bool, vals []Value) (bool, error) {
	if p.native != nil {
		if res, ok := p.native.eval(idx, vals); ok {
			return res, nil
		}
		// The VM reads a lone null as false (a where: would skip the
		// event) but fails on !null; read as unknown, a null that
		// decides the result is an error, and the event is counted.
		if res, null, ok := p.native.kleene(idx, vals); ok {
			if null < 0 {
				return res, nil
			}
			return false, errors.New(areNull(p.names[null]) + ", neither true nor false")
		}
	}
	for i, name := range p.names {
		ev.env[name] = vals[idx[i]].Any()
	}
	var nulls []int // boolean fields that are null
	for i, b := range bools {
		if b && vals[idx[i]].Kind == KindNull {
			nulls = append(nulls, i)
		}
	}
	if len(nulls) > 0 {
		return ev.runUnknown(p, nulls)
	}
	res, err := ev.vm.Run(p.prog, ev.env)
	if err != nil {
		// The VM's words for a null (<nil>, zero Value) say little: name
		// the null field read, when the error is about a null.
		if msg := errorText(err); strings.Contains(msg, "<nil>") || strings.Contains(msg, "zero Value") || strings.Contains(msg, "is nil") {
			var nulls []string
			for i, name := range p.names {
				if vals[idx[i]].Kind == KindNull {
					nulls = append(nulls, name)
				}
			}
			if len(nulls) > 0 {
				return false, fmt.Errorf("%s: %s", areNull(nulls...), msg)
			}
		}
		return false, err
	}
	b, _ := res.(bool)
	return b, nil
}

// areNull says that the named fields are null: "a is null", "a, b are
// null".
func areNull(names ...string) string {
	if len(names) == 1 {
		return names[0] + " is null"
	}
	return strings.Join(names, ", ") + " are null"
}

// maxUnknowns bounds the null boolean fields runUnknown tries both ways.
const maxUnknowns = 3

// runUnknown runs the VM on an event whose boolean fields at nulls are
// null, which the VM reads as false in some places and fails on in
// others. It reads them as unknown instead, as the native conditions do
// (see cond.kleene): it tries every way of making them true or false,
// and when all give the same result, that is the result; else the nulls
// decide it, and that is an error. An error of the VM is returned as it
// is. ev.env holds the event's fields.
func (ev *Evaluator) runUnknown(p *program, nulls []int) (bool, error) {
	names := make([]string, len(nulls))
	for j, i := range nulls {
		names[j] = p.names[i]
	}
	undecided := errors.New(areNull(names...) + ", neither true nor false")
	if len(nulls) > maxUnknowns {
		return false, undecided
	}
	var first bool
	for mask := 0; mask < 1<<len(nulls); mask++ {
		for j, i := range nulls {
			ev.env[p.names[i]] = mask>>j&1 == 1
		}
		res, err := ev.vm.Run(p.prog, ev.env)
		b, _ := res.(bool)
		switch {
		case err != nil: // an error whatever the nulls are: the VM's
			return false, err
		case mask == 0:
			first = b
		case b != first:
			return false, undecided
		}
	}
	return first, nil
}

// Seeds of the two halves of unique keys.
const (
	keySeed0 = 0x9e3779b97f4a7c15
	keySeed1 = 0xc2b2ae3d27d4eb4f
)

// floatIsText reports whether the shortest decimal form of f is s, without
// allocating: a decimal read exactly by float64.
func floatIsText(f float64, s string) bool {
	var buf [32]byte
	return string(strconv.AppendFloat(buf[:0], f, 'f', -1, 64)) == s
}

// keyDecimal tags, in a unique key, a decimal that float64 does not hold
// exactly; it is no Kind.
const keyDecimal = 0xfe

// key hashes the values at idx with their kinds, so that int 1, float 1
// and string "1" give different keys.
func (ev *Evaluator) key(idx []int, vals []Value) [2]uint64 {
	b := ev.buf[:0]
	for _, i := range idx {
		v := &vals[i]
		b = append(b, byte(v.Kind))
		switch v.Kind {
		case KindBool, KindInt:
			b = binary.LittleEndian.AppendUint64(b, uint64(v.Int))
		case KindFloat:
			f := v.Float
			if i, whole := v.wholeInt(); whole {
				// 1.0 is 1 and -0.0 is 0, as in: and expr: see them, so
				// that a field retyped from long to double between two
				// schema versions hides no repeat.
				b[len(b)-1] = byte(KindInt)
				b = binary.LittleEndian.AppendUint64(b, uint64(i))
				continue
			}
			if v.Str != "" && !floatIsText(f, v.Str) {
				// A decimal that float64 rounds: keyed by its text, so
				// that two such decimals with the same float stay apart.
				b[len(b)-1] = keyDecimal
				b = binary.AppendUvarint(b, uint64(len(v.Str)))
				b = append(b, v.Str...)
				continue
			}
			if f != f {
				f = math.NaN() // one NaN, whatever its payload
			}
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
		case KindString:
			b = binary.AppendUvarint(b, uint64(len(v.Str)))
			b = append(b, v.Str...)
		}
	}
	ev.buf = b
	var k [2]uint64
	ev.digest.ResetWithSeed(keySeed0)
	ev.digest.Write(b)
	k[0] = ev.digest.Sum64()
	ev.digest.ResetWithSeed(keySeed1)
	ev.digest.Write(b)
	k[1] = ev.digest.Sum64()
	return k
}
