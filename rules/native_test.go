package rules

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/expr-lang/expr/vm"
)

// nativeValues are field values of every kind, with the edge cases of
// comparisons: null, NaN, ±0, ints beyond float precision, kinds that the
// VM refuses to compare.
var nativeValues = []Value{
	Null(), Int(0), Int(1), Int(-1), Int(200), Int(201), Int(500), Int(1<<53 + 1),
	Float(0), Float(math.Copysign(0, -1)), Float(1), Float(2.5), Float(200), Float(200.5),
	Float(math.NaN()), Float(math.Inf(1)), Float(float64(1<<53) + 2),
	Str(""), Str("a"), Str("b"), Str("200"), Str("s1"), Str("slow"), Str("x"),
	Bool(true), Bool(false),
}

// TestNativeMatchesVM runs conditions natively and with the expr VM over
// all combinations of nativeValues: wherever the native path answers, it
// must give the VM's result, and the VM must not fail there.
func TestNativeMatchesVM(t *testing.T) {
	cases := []struct {
		event string
		srcs  []string
	}{
		{"Custom", []string{
			"code == 200", "code != 200", "code == 200.0", "code == 200.5", `code == "a"`, `code != "200"`,
			"code == nil", "code != nil", "nil == code", "code == true", "code != false",
			"code < 200", "code <= 2.5", "code > 1", "code >= -1", `code > "a"`, `code <= ""`,
			"200 > code", "2.5 <= code", `"b" >= code`, "0 == code",
			"code", "!code", "not code", "not (code == 1)", "!(code < 0)",
			"code == 1 && userId != nil", `code == 1 || userId == "x"`, "code == 1 and a.b > 3",
			`(code < 1 or code > 5) and not (userId == "a")`, "code && userId", "code || a.b == 1",
		}},
		{RecommendationRequest, []string{
			"status == 200", "status != 200", "200 == status", `server == "s1"`, `server != "slow"`,
			"recommendations == nil", "recommendations != nil", `status >= 500 || server == "slow"`,
			"responseTime < 250.5", "status == 200.0", "status < 300 && status >= 200",
			`recommendations == "x"`, "not (status == 200)",
		}},
		{MovieWatchEvent, []string{"subtitles", "!subtitles", "subtitles == true", "subtitles != false && minute > 3"}},
	}
	var m vm.VM
	for _, tc := range cases {
		for _, src := range tc.srcs {
			p, e := compileExpr(src, tc.event)
			if e != nil {
				t.Fatalf("%s: %s", src, e.msg)
			}
			if p.native == nil {
				t.Errorf("%s: not compiled natively", src)
				continue
			}
			args := make([]Value, len(p.names))
			idx := make([]int, len(p.names)) // the identity: args are in name order
			for i := range idx {
				idx[i] = i
			}
			env := map[string]any{}
			native := 0
			var try func(int)
			try = func(j int) {
				if j < len(args) {
					for _, v := range nativeValues {
						args[j] = v
						try(j + 1)
					}
					return
				}
				res, ok := p.native.eval(idx, args)
				if !ok {
					return
				}
				native++
				for i, n := range p.names {
					env[n] = args[i].Any()
				}
				out, err := m.Run(p.prog, env)
				want, _ := out.(bool)
				if err != nil || res != want {
					t.Errorf("%s with %v: native %v, VM %v (%v)", src, args, res, want, err)
				}
			}
			try(0)
			if native == 0 {
				t.Errorf("%s: the native path never answered", src)
			}
		}
	}
	// What the native path does not compile.
	for _, src := range []string{"code + 1 > 2", "code in [1, 2]", "code == userId", `code matches "a"`, "let x = 1; code == x"} {
		p, e := compileExpr(src, "Custom")
		if e != nil {
			t.Fatalf("%s: %s", src, e.msg)
		}
		if p.native != nil {
			t.Errorf("%s: compiled natively", src)
		}
	}
}

// plainEvent hides testEvent's ValueSlice.
type plainEvent struct{ e *testEvent }

func (p plainEvent) Shape() *Shape     { return p.e.shape }
func (p plainEvent) Value(i int) Value { return p.e.vals[i] }

// TestEvalNativeSame compares Eval with native conditions and the
// reference cache against Eval through the VM only, with and without
// ValueSlice, over events of all kinds of values, errors included.
func TestEvalNativeSame(t *testing.T) {
	src := `  - {name: a, event: Custom, field: code, not_null: true, where: "code == 200 || userId != nil"}
  - {name: b, event: Custom, field: code, expr: "code < 5 && code != 1"}
  - {name: c, event: RecommendationRequest, field: recommendations, not_null: true, where: "status == 200"}
  - {name: d, event: RecommendationRequest, expr: "responseTime < 250 || server == \"slow\""}
  - {name: e, event: "*", field: userId, in_reference: users}
  - {name: f, event: RecommendationRequest, field: status, in: [200, 201.0]}
  - {name: g, event: Custom, field: code, not_in: [1, 2.5, "a", true]}
  - {name: h, event: "*", unique: [userId, code]}
`
	refs := map[string]Set{"users": userSet("a", "b", "200", "1", "2.5", "true")}
	fast := book(t, src, refs)
	slow := book(t, src, refs)
	for _, c := range slow.Checks {
		if c.where != nil {
			c.where = &program{src: c.where.src, prog: c.where.prog, names: c.where.names}
		}
		if c.expr != nil {
			c.expr = &program{src: c.expr.src, prog: c.expr.prog, names: c.expr.names}
		}
	}
	for _, c := range fast.Checks {
		if (c.where != nil && c.where.native == nil) || (c.expr != nil && c.expr.native == nil) {
			t.Fatalf("%s: not native", c.Name)
		}
	}
	var events []*testEvent
	for i, v := range nativeValues {
		for j, w := range nativeValues {
			u := nativeValues[(i*7+j*3)%len(nativeValues)]
			if j%3 == 0 {
				u = v // repeats for the reference cache
			}
			events = append(events,
				event(custom, "code", v, "userId", u, "a.b", w),
				event(reco, "status", v, "recommendations", w, "userId", u, "server", w, "responseTime", v))
		}
	}
	errs := 0
	evs := []*Evaluator{fast.NewEvaluator(), fast.NewEvaluator(), slow.NewEvaluator()}
	for n, e := range events {
		var got [3]string
		for k, ev := range evs {
			var in Event = e
			if k == 1 {
				in = plainEvent{e}
			}
			var b strings.Builder
			for _, o := range ev.Eval(in) {
				b.WriteString(strings.Join([]string{ev.book.Checks[o.Check].Name, o.Value.Kind.String(), o.Value.String()}, ":"))
				if o.Failed {
					b.WriteString("!")
				}
				if o.Err {
					errs++
					b.WriteString("E")
				}
				if o.Key != ([2]uint64{}) {
					fmt.Fprintf(&b, "%x", o.Key)
					b.WriteString("k")
				}
				b.WriteString(" ")
			}
			got[k] = b.String()
		}
		if got[0] != got[2] || got[1] != got[2] {
			t.Errorf("event %d %v:\nnative  %s\nplain   %s\nVM only %s", n, e.vals, got[0], got[1], got[2])
		}
	}
	if errs == 0 {
		t.Error("no event made an expression fail")
	}
}

// TestRunAsEval checks that Run, which checks the usual kinds of rules in
// a loop of its own, returns what Eval says it must: the failures and
// the keys of unique rules, in the same order, and counts the same
// checked events, over events of every kind of value and shapes that
// type their fields otherwise.
func TestRunAsEval(t *testing.T) {
	src := `  - {name: between, event: "*", field: code, between: [1, 200]}
  - {name: between-float, event: "*", field: code, between: [0.5, 200.5]}
  - {name: min, event: "*", field: code, min: 0}
  - {name: min-float, event: "*", field: code, min: 0.5}
  - {name: max, event: "*", field: code, max: 200}
  - {name: max-float, event: "*", field: code, max: 200.5}
  - {name: in, event: "*", field: code, in: [200, 201.0]}
  - {name: in-strings, event: "*", field: code, in: [a, "200", x]}
  - {name: in-many, event: "*", field: code, in: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 200, 2.5, true]}
  - {name: not-in, event: "*", field: code, not_in: [1, 2.5, "a", true]}
  - {name: not-in-ints, event: "*", field: code, not_in: [0, 200]}
  - {name: not-null, event: "*", field: code, not_null: true}
  - {name: null-ratio, event: "*", field: code, max_null_ratio: 0.5}
  - {name: reference, event: "*", field: code, in_reference: users}
  - {name: reference-numbers, event: "*", field: code, in_reference: movies}
  - {name: where-eq, event: "*", field: code, not_null: true, where: "status == 200"}
  - {name: where-ne, event: "*", field: code, min: 1, where: "status != 200"}
  - {name: where-lt, event: "*", field: code, in: [200], where: "status < 300"}
  - {name: where-ge-swapped, event: "*", field: code, in_reference: users, where: "200 >= status"}
  - {name: where-float, event: "*", field: code, not_null: true, where: "status == 200.0"}
  - {name: where-and, event: "*", field: code, not_null: true, where: "status == 200 && code != nil"}
  - {name: where-string, event: "*", field: code, not_null: true, where: "server == \"s1\""}
  - {name: status-ok, event: RecommendationRequest, field: status, in: [200]}
  - {name: recs, event: RecommendationRequest, field: recommendations, not_null: true, where: "status == 200"}
  - {name: time-of-day, event: RecommendationRequest, field: status, between: [100, 599], where: "status >= 0"}
  - {name: pattern, event: "*", field: code, pattern: "^[0-9]+$"}
  - {name: unique, event: "*", unique: [code]}
  - {name: expr, event: "*", expr: "code > 1"}
  - {name: rows, event: "*", row_count: {min: 1}}
`
	refs := map[string]Set{"users": userSet("a", "b", "200", "1", "2.5", "true"), "movies": userSet("0", "1", "200", "500", "x")}
	b := book(t, src, refs)
	// Shapes that hold code, status and server as the Custom event does
	// (kinds unknown), as typed ints and strings, and as nullable.
	loose := NewShape("Custom", []Field{{Name: "code"}, {Name: "status"}, {Name: "server"}})
	typed := NewShape("Custom", []Field{{Name: "code", Kind: KindInt}, {Name: "status", Kind: KindInt},
		{Name: "server", Kind: KindString}, {Name: "recommendations", Kind: KindString}})
	nullable := NewShape(RecommendationRequest, []Field{{Name: "code", Kind: KindInt, Nullable: true},
		{Name: "status", Kind: KindInt, Nullable: true}, {Name: "server", Kind: KindString},
		{Name: "recommendations", Kind: KindString, Nullable: true}})
	var events []*testEvent
	for i, v := range nativeValues {
		for j, w := range nativeValues {
			u := nativeValues[(i*7+j*3)%len(nativeValues)]
			events = append(events,
				event(loose, "code", v, "status", w, "server", u),
				event(typed, "code", v, "status", w, "server", u, "recommendations", w),
				event(nullable, "code", w, "status", v, "server", u, "recommendations", u),
				event(reco, "status", v, "recommendations", w, "server", u))
		}
	}
	if checkRunAsEval(t, b, events) == 0 {
		t.Error("no check failed")
	}
}

// checkRunAsEval runs b's checks over events with Eval, Run and
// RunValues, and fails t where Run and RunValues do not return the
// failures and unique keys that Eval returns, in its order, or count
// other checked events, or where a check is never checked. It returns
// the number of failures.
func checkRunAsEval(t *testing.T, b *Book, events []*testEvent) int {
	t.Helper()
	text := func(bk *Book, outs []Outcome, keep func(Outcome) bool) string {
		var s strings.Builder
		for _, o := range outs {
			if !keep(o) {
				continue
			}
			fmt.Fprintf(&s, "%s:%s:%s failed=%v err=%v key=%x; ", bk.Checks[o.Check].Name, o.Value.Kind, o.Value.String(), o.Failed, o.Err, o.Key)
		}
		return s.String()
	}
	all, run, runValues := b.NewEvaluator(), b.NewEvaluator(), b.NewEvaluator()
	failures := 0
	for n, e := range events {
		want := text(b, all.Eval(e), func(o Outcome) bool { return o.Failed || b.Checks[o.Check].Kind == RuleUnique })
		got := text(b, run.Run(e), func(Outcome) bool { return true })
		gotValues := text(b, runValues.RunValues(e.shape, e.vals), func(Outcome) bool { return true })
		if (got != want || gotValues != want) && !t.Failed() {
			t.Errorf("event %d %s %v:\nEval      %s\nRun       %s\nRunValues %s", n, e.shape.Event(), e.vals, want, got, gotValues)
		}
		failures += strings.Count(want, "failed=true")
	}
	for i, c := range b.Checks {
		if all.Checked()[i] != run.Checked()[i] || all.Checked()[i] != runValues.Checked()[i] {
			t.Errorf("%s: checked %d events in Eval, %d in Run, %d in RunValues", c.Name, all.Checked()[i], run.Checked()[i], runValues.Checked()[i])
		}
		if all.Checked()[i] == 0 {
			t.Errorf("%s: checked no event", c.Name)
		}
	}
	return failures
}

// TestRunAsEvalEdges is TestRunAsEval for the cases of RunValues' own
// loop (see fastStep): ints at the ends of int64 against bounds and
// where conditions at and near them, and numerals, near-numerals and
// other ids against sets with a bitmap of numerals and without one.
func TestRunAsEvalEdges(t *testing.T) {
	rules := []string{`  - {name: between, event: "*", field: code, between: [-5, 5]}
  - {name: between-one, event: "*", field: code, between: [7, 7]}
  - {name: between-all, event: "*", field: code, between: [-9223372036854775808, 9223372036854775807]}
  - {name: min-lowest, event: "*", field: code, min: -9223372036854775808}
  - {name: min, event: "*", field: code, min: 0}
  - {name: max-highest, event: "*", field: code, max: 9223372036854775807}
  - {name: max, event: "*", field: code, max: -1}
  - {name: in, event: "*", field: code, in: [-9223372036854775808]}
  - {name: in-highest, event: "*", field: code, in: [9223372036854775807]}
  - {name: not-in, event: "*", field: code, not_in: [0]}
  - {name: not-in-float, event: "*", field: code, not_in: [7.0]}
  - {name: not-null, event: "*", field: code, not_null: true}
  - {name: users, event: "*", field: userId, in_reference: users}
  - {name: movies, event: "*", field: userId, in_reference: movies}
`}
	ops := []string{"==", "!=", "<", "<=", ">", ">="}
	for i, k := range []string{"-9223372036854775807", "-1", "0", "7", "9223372036854775807"} {
		for j, op := range ops {
			// Alternately a between and an in_reference, to run both
			// behind every where condition.
			if (i+j)%2 == 0 {
				rules = append(rules, fmt.Sprintf("  - {name: where-%d-%d, event: \"*\", field: code, between: [-5, 5], where: \"status %s %s\"}\n", i, j, op, k))
			} else {
				rules = append(rules, fmt.Sprintf("  - {name: where-%d-%d, event: \"*\", field: userId, in_reference: users, where: \"status %s %s\"}\n", i, j, op, k))
			}
		}
	}
	ints := []Value{Null(), Int(math.MinInt64), Int(math.MinInt64 + 1), Int(-6), Int(-5), Int(-1), Int(0), Int(1),
		Int(5), Int(6), Int(7), Int(8), Int(math.MaxInt64 - 1), Int(math.MaxInt64), Float(7), Str("7"), Bool(true)}
	ids := []Value{Null(), Str(""), Str("0"), Str("00"), Str("01"), Str("1"), Str("9"), Str("63"), Str("64"), Str("65"),
		Str("127"), Str("128"), Str("199"), Str("200"), Str("201"), Str("499"), Str("500"), Str("501"), Str("65535"),
		Str("65536"), Str("12345678"), Str("123456789"), Str("999999999999999"), Str("1000000000000000"),
		Str("99999999999"), Str("18446744073709551616"), Str("-1"), Str("+1"), Str(" 1"), Str("1 "), Str("1x"),
		Str("x1"), Str("1/"), Str("1:"), Str("a"), Str("u1"), Int(1), Int(200), Int(-1), Float(200), Str("\xff")}
	typed := NewShape("Custom", []Field{{Name: "code", Kind: KindInt}, {Name: "status", Kind: KindInt}, {Name: "userId", Kind: KindString}})
	var events []*testEvent
	for i, v := range ints {
		for j, w := range ints {
			events = append(events, event(typed, "code", v, "status", w, "userId", ids[(i*len(ints)+j)%len(ids)]))
		}
	}
	for i, id := range ids {
		events = append(events, event(typed, "code", ints[i%len(ints)], "status", ints[(i/3)%len(ints)], "userId", id))
	}
	// users has a bitmap of its numerals; movies' numerals span too
	// much for one, so they are in its table.
	refs := map[string]Set{
		"users":  userSet("0", "1", "63", "64", "128", "200", "500", "65535", "a", "u1", "1x", "12345678901234567"),
		"movies": userSet("0", "1", "64", "200", "99999999999", "18446744073709551616", "a"),
	}
	if refs["users"].(*hashSet).bits == nil || refs["movies"].(*hashSet).bits != nil {
		t.Fatal("users must have a bitmap, movies none")
	}
	// All the rules in one book, and then each alone, first in its plan:
	// from the first step that RunValues' loop leaves to runStep, as it
	// does an id that is no numeral, it checks the others there too.
	failures := checkRunAsEval(t, book(t, strings.Join(rules, ""), refs), events)
	for _, r := range strings.SplitAfter(strings.Join(rules, ""), "\n") {
		if r == "" {
			continue
		}
		b := book(t, r, refs)
		for _, f := range b.NewEvaluator().plan(typed).fast {
			if f.op == fastOther {
				t.Errorf("%s: not checked in RunValues' loop", f.st.c.Name)
			}
		}
		failures += checkRunAsEval(t, b, events)
	}
	if failures == 0 {
		t.Error("no check failed")
	}
}

// TestIntRange checks the tests of fastStep against the comparisons they
// stand for, at the ends of int64 and beside them.
func TestIntRange(t *testing.T) {
	edges := []int64{math.MinInt64, math.MinInt64 + 1, math.MinInt64 + 2, -2, -1, 0, 1, 2, math.MaxInt64 - 2, math.MaxInt64 - 1, math.MaxInt64}
	in := func(x int64, start, span uint64, neg bool) bool { return (uint64(x)-start <= span) != neg }
	for _, lo := range edges {
		for _, hi := range edges {
			start, span, neg := intRange(lo, hi)
			for _, x := range edges {
				if got, want := in(x, start, span, neg), lo <= x && x <= hi; got != want {
					t.Errorf("intRange(%d, %d) has %d: %v, want %v", lo, hi, x, got, want)
				}
			}
		}
	}
	for op := condEq; op <= condGe; op++ {
		for _, k := range edges {
			start, span, neg := op.intRange(k)
			for _, x := range edges {
				if got, want := in(x, start, span, neg), op.holds(x, k); got != want {
					t.Errorf("op %d, %d: has %d: %v, want %v", op, k, x, got, want)
				}
			}
		}
	}
}

// TestRunAsEvalManyShapes is TestRunAsEval over events of more shapes
// than Evaluator.last has slots, in turn, so that shapes share a slot
// and the plans of each push out the others'.
func TestRunAsEvalManyShapes(t *testing.T) {
	b := book(t, `  - {name: between, event: "*", field: code, between: [1, 200]}
  - {name: reference, event: "*", field: code, in_reference: users}
  - {name: where, event: "*", field: code, not_null: true, where: "status == 200"}
`, map[string]Set{"users": userSet("1", "200", "a")})
	var shapes []*Shape
	slots := map[uint8]bool{}
	for i := 0; i < 3*lastPlans; i++ {
		// Fields in other places from shape to shape, so that a wrong
		// plan reads the wrong ones.
		fields := []Field{{Name: "code"}, {Name: "status"}}
		for j := 0; j < i%5; j++ {
			fields = append([]Field{{Name: fmt.Sprintf("f%d", j)}}, fields...)
		}
		fields = append(fields, Field{Name: fmt.Sprintf("g%d", i)})
		s := NewShape("Custom", fields)
		shapes = append(shapes, s)
		slots[s.slot] = true
	}
	if len(slots) < lastPlans/2 {
		t.Errorf("%d shapes in %d slots of %d", len(shapes), len(slots), lastPlans)
	}
	var events []*testEvent
	for i, v := range nativeValues {
		for j, w := range nativeValues {
			events = append(events, event(shapes[(i*len(nativeValues)+j)%len(shapes)], "code", v, "status", w))
		}
	}
	if checkRunAsEval(t, b, events) == 0 {
		t.Error("no check failed")
	}
}
