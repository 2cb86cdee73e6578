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
