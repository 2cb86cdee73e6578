package rules

import (
	"math"
	"strings"
	"testing"
	"time"
)

// testEvent is the smallest Event: a shape and its values.
type testEvent struct {
	shape *Shape
	vals  []Value
}

func (e *testEvent) Shape() *Shape     { return e.shape }
func (e *testEvent) Value(i int) Value { return e.vals[i] }

// ValueSlice lets Eval read the values as it reads audit.Event's.
func (e *testEvent) ValueSlice() []Value { return e.vals }

func builtinShape(event string) *Shape {
	f, _ := BuiltinFields(event)
	return NewShape(event, f)
}

// event makes an event of shape s from name/value pairs; fields not named
// are null.
func event(s *Shape, kv ...any) *testEvent {
	e := &testEvent{shape: s, vals: make([]Value, len(s.Fields()))}
	for i := 0; i+1 < len(kv); i += 2 {
		j := s.Index(kv[i].(string))
		if j < 0 {
			panic("no field " + kv[i].(string))
		}
		e.vals[j] = kv[i+1].(Value)
	}
	return e
}

// book compiles rules (YAML list items) with the given reference sets.
func book(t testing.TB, rules string, refs map[string]Set) *Book {
	t.Helper()
	src := minimal + "events: [Custom]\nreferences:\n  users: {path: users.txt}\n  movies: {path: m.csv, column: id}\nrules:\n" + rules
	cfg, err := Parse(strings.NewReader(src), "c.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if refs == nil {
		refs = map[string]Set{}
	}
	for _, name := range []string{"users", "movies"} {
		if refs[name] == nil {
			refs[name] = NewSetBuilder(0).Set()
		}
	}
	b, err := Compile(cfg, refs, testDay)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return b
}

// testDay is the audited day of the books the tests compile.
var testDay = time.Date(2024, 3, 19, 0, 0, 0, 0, time.UTC)

func userSet(ids ...string) Set {
	b := NewSetBuilder(len(ids))
	for _, id := range ids {
		b.Add(id)
	}
	return b.Set()
}

var (
	watch  = builtinShape(MovieWatchEvent)
	rating = builtinShape(MovieRatingEvent)
	reco   = builtinShape(RecommendationRequest)
	custom = NewShape("Custom", []Field{{Name: "code", Kind: KindNull}, {Name: "userId", Kind: KindNull}, {Name: "a.b", Kind: KindInt}, {Name: "n", Kind: KindNull}})
	// ratingDouble is MovieRatingEvent as a writer that made rating a
	// double writes it.
	ratingDouble = NewShape(MovieRatingEvent, []Field{{Name: "time", Kind: KindString}, {Name: "userId", Kind: KindString},
		{Name: "movieId", Kind: KindString}, {Name: "rating", Kind: KindFloat, Type: "double"}})
	// recoNullable is RecommendationRequest as a writer that made status
	// a union with null writes it.
	recoNullable = NewShape(RecommendationRequest, []Field{{Name: "time", Kind: KindString}, {Name: "userId", Kind: KindString},
		{Name: "server", Kind: KindString}, {Name: "status", Kind: KindInt, Nullable: true, Type: `["null","int"]`},
		{Name: "recommendations", Kind: KindString, Nullable: true, Type: `["null","string"]`}, {Name: "responseTime", Kind: KindInt}})
	// stamped is a Custom event with an Avro timestamp of each unit, and a
	// long without a logical type.
	stamped = NewShape("Custom", []Field{
		{Name: "ms", Kind: KindInt, Type: `{"type":"long","logicalType":"timestamp-millis"}`},
		{Name: "us", Kind: KindInt, Type: `{"type":"long","logicalType":"timestamp-micros"}`},
		{Name: "ns", Kind: KindInt, Type: `{"type":"long","logicalType":"timestamp-nanos"}`},
		{Name: "n", Kind: KindInt, Type: "long"},
	})
)

func TestEval(t *testing.T) {
	refs := map[string]Set{"users": userSet("u1", "42")}
	type want struct {
		applies bool
		failed  bool
		value   Value // checked only when set
	}
	pass := want{applies: true}
	fail := want{applies: true, failed: true}
	skip := want{}
	for _, tc := range []struct {
		name  string
		rule  string
		event *testEvent
		want  want
	}{
		{"between inside", "{name: r, event: MovieRatingEvent, field: rating, between: [1, 5]}", event(rating, "rating", Int(3)), pass},
		{"between low edge", "{name: r, event: MovieRatingEvent, field: rating, between: [1, 5]}", event(rating, "rating", Int(1)), pass},
		{"between high edge", "{name: r, event: MovieRatingEvent, field: rating, between: [1, 5]}", event(rating, "rating", Int(5)), pass},
		{"between below", "{name: r, event: MovieRatingEvent, field: rating, between: [1, 5]}", event(rating, "rating", Int(0)), want{true, true, Int(0)}},
		{"between above float", "{name: r, event: MovieRatingEvent, field: rating, between: [1, 5]}", event(rating, "rating", Float(5.5)), fail},
		{"between null passes", "{name: r, event: MovieRatingEvent, field: rating, between: [1, 5]}", event(rating), pass},
		{"between on text fails", "{name: r, event: Custom, field: code, between: [1, 5]}", event(custom, "code", Str("3")), fail},
		// Integer bounds above 2^53 are compared exactly with integer data:
		// as float64, 1710892800000000100 and ...99999 would be equal.
		{"between ns above", "{name: r, event: Custom, field: n, between: [1710806400000000000, 1710892799999999999]}", event(custom, "n", Int(1710892800000000000)), fail},
		{"between ns edge", "{name: r, event: Custom, field: n, between: [1710806400000000000, 1710892799999999999]}", event(custom, "n", Int(1710892799999999999)), pass},
		{"between int64 extremes", "{name: r, event: Custom, field: n, between: [-9223372036854775000, 9223372036854775000]}", event(custom, "n", Int(9223372036854775807)), fail},
		{"max 2^53", "{name: r, event: Custom, field: n, max: 9007199254740992}", event(custom, "n", Int(9007199254740993)), fail},
		{"min 2^53", "{name: r, event: Custom, field: n, min: 9007199254740993}", event(custom, "n", Int(9007199254740992)), fail},
		{"float bound, int data", "{name: r, event: Custom, field: n, max: 2.5}", event(custom, "n", Int(3)), fail},
		{"min", "{name: r, event: MovieWatchEvent, field: minute, min: 0}", event(watch, "minute", Int(-1)), fail},
		{"min edge", "{name: r, event: MovieWatchEvent, field: minute, min: 0}", event(watch, "minute", Int(0)), pass},
		{"max", "{name: r, event: RecommendationRequest, field: responseTime, max: 100}", event(reco, "responseTime", Int(101)), fail},
		{"max edge", "{name: r, event: RecommendationRequest, field: responseTime, max: 100}", event(reco, "responseTime", Int(100)), pass},
		{"in int", "{name: r, event: RecommendationRequest, field: status, in: [200]}", event(reco, "status", Int(200)), pass},
		{"in int misses", "{name: r, event: RecommendationRequest, field: status, in: [200]}", event(reco, "status", Int(500)), want{true, true, Int(500)}},
		{"in int matches whole float", "{name: r, event: RecommendationRequest, field: status, in: [200]}", event(reco, "status", Float(200)), pass},
		{"in int refuses text", "{name: r, event: Custom, field: code, in: [200]}", event(custom, "code", Str("200")), fail},
		{"in text", "{name: r, event: Custom, field: code, in: [a, b]}", event(custom, "code", Str("b")), pass},
		{"in text refuses int", "{name: r, event: Custom, field: code, in: ['1']}", event(custom, "code", Int(1)), fail},
		{"in bool", "{name: r, event: MovieWatchEvent, field: subtitles, in: [true]}", event(watch, "subtitles", Bool(false)), fail},
		{"in null passes", "{name: r, event: RecommendationRequest, field: status, in: [200]}", event(reco), pass},
		{"not_in", "{name: r, event: RecommendationRequest, field: server, not_in: [localhost]}", event(reco, "server", Str("localhost")), fail},
		{"not_in other", "{name: r, event: RecommendationRequest, field: server, not_in: [localhost]}", event(reco, "server", Str("s1")), pass},
		{"not_null", "{name: r, event: RecommendationRequest, field: recommendations, not_null: true}", event(reco), want{true, true, Null()}},
		{"not_null set", "{name: r, event: RecommendationRequest, field: recommendations, not_null: true}", event(reco, "recommendations", Str("m1")), pass},
		{"pattern is a full match", "{name: r, event: MovieWatchEvent, field: movieId, pattern: '[a-z]+'}", event(watch, "movieId", Str("abc1")), fail},
		{"pattern matches", "{name: r, event: MovieWatchEvent, field: movieId, pattern: '[a-z]+|x'}", event(watch, "movieId", Str("abc")), pass},
		{"pattern on an int's text", "{name: r, event: RecommendationRequest, field: status, pattern: '2\\d\\d'}", event(reco, "status", Int(204)), pass},
		{"pattern quoted to its end", "{name: r, event: MovieWatchEvent, field: movieId, pattern: '\\Qm1.x'}", event(watch, "movieId", Str("m1.x")), pass},
		{"pattern quoted to its end is literal", "{name: r, event: MovieWatchEvent, field: movieId, pattern: '\\Qm1.x'}", event(watch, "movieId", Str("m1ax")), fail},
		{"pattern quoted is whole", "{name: r, event: MovieWatchEvent, field: movieId, pattern: '\\Qm1\\E'}", event(watch, "movieId", Str("m12")), fail},
		{"pattern null passes", "{name: r, event: MovieWatchEvent, field: movieId, pattern: '[a-z]+'}", event(watch), pass},
		{"in_reference", "{name: r, event: '*', field: userId, in_reference: users}", event(watch, "userId", Str("u1")), pass},
		{"in_reference unknown", "{name: r, event: '*', field: userId, in_reference: users}", event(rating, "userId", Str("u2")), want{true, true, Str("u2")}},
		{"in_reference int by text", "{name: r, event: Custom, field: userId, in_reference: users}", event(custom, "userId", Int(42)), pass},
		{"in_reference null passes", "{name: r, event: '*', field: userId, in_reference: users}", event(watch), pass},
		{"max_null_ratio counts nulls", "{name: r, event: MovieWatchEvent, field: subtitles, max_null_ratio: 1%}", event(watch), fail},
		{"max_null_ratio value", "{name: r, event: MovieWatchEvent, field: subtitles, max_null_ratio: 1%}", event(watch, "subtitles", Bool(true)), pass},
		{"row_count only counts", "{name: r, event: MovieWatchEvent, row_count: {min: 5}}", event(watch), pass},
		{"unique does not fail", "{name: r, event: MovieRatingEvent, unique: [userId, movieId]}", event(rating, "userId", Str("u"), "movieId", Str("m")), want{true, false, Str("u")}},
		{"expr true", "{name: r, event: MovieRatingEvent, expr: rating >= 1 && userId != ''}", event(rating, "rating", Int(4), "userId", Str("u")), pass},
		{"expr false", "{name: r, event: MovieRatingEvent, expr: rating >= 1}", event(rating, "rating", Int(0)), want{true, true, Int(0)}},
		{"expr false on two fields", "{name: r, event: MovieRatingEvent, expr: rating >= 1 && userId != 'u'}", event(rating, "rating", Int(0), "userId", Str("u")), want{true, true, Str("rating=0, userId=u")}},
		{"expr with field gives its value", "{name: r, event: MovieRatingEvent, field: rating, expr: rating >= 1}", event(rating, "rating", Int(0)), want{true, true, Int(0)}},
		{"expr run-time error fails", "{name: r, event: MovieRatingEvent, expr: rating >= 1}", event(rating), want{true, true, Str("error: rating is null: invalid operation: <nil> >= int")}},
		{"expr nested field", "{name: r, event: Custom, expr: a.b > 1}", event(custom, "a.b", Int(2)), pass},
		{"expr on a type without its fields", "{name: r, event: '*', expr: rating > 1}", event(watch), skip},
		{"where false skips", "{name: r, event: RecommendationRequest, where: status == 200, field: recommendations, not_null: true}", event(reco, "status", Int(500)), skip},
		{"where true applies", "{name: r, event: RecommendationRequest, where: status == 200, field: recommendations, not_null: true}", event(reco, "status", Int(200)), fail},
		{"where run-time error fails", "{name: r, event: RecommendationRequest, where: status > 200, field: recommendations, not_null: true}", event(reco), want{true, true, Str("error: where: status is null: invalid operation: <nil> > int")}},
		// A nullable field compared for equality: null == "error" is
		// false, as on a type not built in, not an error of the event.
		{"where equality on a null skips", "{name: r, event: RecommendationRequest, where: recommendations == \"error\", field: status, in: [500]}", event(reco, "status", Int(200)), skip},
		{"where inequality on a null applies", "{name: r, event: RecommendationRequest, where: recommendations != \"error\", field: status, in: [500]}", event(reco, "status", Int(200)), want{true, true, Int(200)}},
		{"expr equality on a null", "{name: r, event: RecommendationRequest, expr: 'recommendations != \"error\" || status == 500'}", event(reco, "status", Int(200)), pass},
		{"where on a nullable int", "{name: r, event: RecommendationRequest, where: status == 200, field: recommendations, not_null: true}", event(recoNullable, "status", Null()), skip},
		{"where that gives null fails", "{name: r, event: MovieWatchEvent, where: subtitles, field: minute, min: 0}", event(watch, "minute", Int(5)),
			want{true, true, Str("error: where: subtitles is null, neither true nor false")}},
		{"where that negates null fails alike", "{name: r, event: MovieWatchEvent, where: '!subtitles', field: minute, min: 0}", event(watch, "minute", Int(5)),
			want{true, true, Str("error: where: subtitles is null, neither true nor false")}},
		{"expr that gives null fails", "{name: r, event: MovieWatchEvent, expr: subtitles}", event(watch),
			want{true, true, Str("error: subtitles is null, neither true nor false")}},
		// A null that does not decide the result is no error (three-valued
		// logic): true || null is true, false && null is false.
		{"where true or null applies", "{name: r, event: MovieWatchEvent, where: 'minute == 5 || subtitles', field: minute, max: 4}", event(watch, "minute", Int(5)), want{true, true, Int(5)}},
		{"where false and null skips", "{name: r, event: MovieWatchEvent, where: 'minute != 5 && subtitles', field: minute, max: 4}", event(watch, "minute", Int(5)), skip},
		{"where null and true fails", "{name: r, event: MovieWatchEvent, where: 'subtitles && minute == 5', field: minute, max: 4}", event(watch, "minute", Int(5)),
			want{true, true, Str("error: where: subtitles is null, neither true nor false")}},
		// The same where the VM decides (len): a null that does not decide
		// is no error, one that decides is, and the VM's false for a lone
		// null is not taken for an answer.
		{"vm: null or true", "{name: r, event: MovieWatchEvent, where: 'subtitles || len(movieId) > 0', field: minute, max: 4}", event(watch, "movieId", Str("m"), "minute", Int(5)), want{true, true, Int(5)}},
		{"vm: true or null", "{name: r, event: MovieWatchEvent, where: 'len(movieId) > 0 || subtitles', field: minute, max: 4}", event(watch, "movieId", Str("m"), "minute", Int(5)), want{true, true, Int(5)}},
		{"vm: false and null", "{name: r, event: MovieWatchEvent, where: 'len(movieId) > 5 && subtitles', field: minute, max: 4}", event(watch, "movieId", Str("m"), "minute", Int(5)), skip},
		{"vm: true and null", "{name: r, event: MovieWatchEvent, where: 'len(movieId) > 0 && subtitles', field: minute, max: 4}", event(watch, "movieId", Str("m"), "minute", Int(5)),
			want{true, true, Str("error: where: subtitles is null, neither true nor false")}},
		// A VM error not about a null is not blamed on a null field.
		{"expr error beside a null", "{name: r, event: MovieWatchEvent, expr: 'int(movieId) > 0 && subtitles != true'}", event(watch, "movieId", Str("slug")),
			want{true, true, Str("error: invalid operation: int(slug)")}},
		// Several nulls: all are named, none is blamed alone.
		{"expr error with two nulls", "{name: r, event: Custom, expr: 'len(code ?? \"x\") > 0 && len(userId) > 0'}", event(custom),
			want{true, true, Str("error: code, userId are null: invalid argument for len (type <nil>)")}},
		{"other event type", "{name: r, event: MovieRatingEvent, field: userId, not_null: true}", event(watch), skip},
		{"star skips types without the field", "{name: r, event: '*', field: rating, not_null: true}", event(watch), skip},
		{"star applies to types with the field", "{name: r, event: '*', field: rating, not_null: true}", event(rating), fail},
		{"on_day text", "{name: r, event: '*', field: time, on_day: true}", event(watch, "time", Str("2024-03-19T23:59:59.999")), pass},
		{"on_day text, first second", "{name: r, event: '*', field: time, on_day: true}", event(rating, "time", Str("2024-03-19T00:00:00")), pass},
		{"on_day text with a space", "{name: r, event: '*', field: time, on_day: true}", event(rating, "time", Str("2024-03-19 08:15")), pass},
		{"on_day date alone", "{name: r, event: '*', field: time, on_day: true}", event(rating, "time", Str("2024-03-19")), pass},
		{"on_day text, next day", "{name: r, event: '*', field: time, on_day: true}", event(watch, "time", Str("2024-03-20T00:00:00")), want{true, true, Str("2024-03-20T00:00:00")}},
		{"on_day text, day before", "{name: r, event: '*', field: time, on_day: true}", event(watch, "time", Str("2024-03-18T23:59:59")), fail},
		{"on_day text, offset into the day", "{name: r, event: '*', field: time, on_day: true}", event(watch, "time", Str("2024-03-20T01:00:00+05:00")), pass},
		{"on_day text, offset out of the day", "{name: r, event: '*', field: time, on_day: true}", event(watch, "time", Str("2024-03-19T01:00:00+05:00")), fail},
		{"on_day text, not a time", "{name: r, event: '*', field: time, on_day: true}", event(watch, "time", Str("2024-03-19X")), fail},
		{"on_day text, short", "{name: r, event: '*', field: time, on_day: true}", event(watch, "time", Str("2024-03-1")), fail},
		{"on_day null passes", "{name: r, event: '*', field: time, on_day: true}", event(watch), pass},
		{"on_day millis", "{name: r, event: Custom, field: ms, on_day: true}", event(stamped, "ms", Int(1710892799999)), pass},
		{"on_day millis, next day", "{name: r, event: Custom, field: ms, on_day: true}", event(stamped, "ms", Int(1710892800000)),
			want{true, true, Str("2024-03-20T00:00:00Z (1710892800000)")}},
		{"on_day millis, first", "{name: r, event: Custom, field: ms, on_day: true}", event(stamped, "ms", Int(1710806400000)), pass},
		{"on_day millis, day before", "{name: r, event: Custom, field: ms, on_day: true}", event(stamped, "ms", Int(1710806399999)), fail},
		{"on_day micros", "{name: r, event: Custom, field: us, on_day: true}", event(stamped, "us", Int(1710806400000000)), pass},
		{"on_day micros, day before", "{name: r, event: Custom, field: us, on_day: true}", event(stamped, "us", Int(1710806399999999)),
			want{true, true, Str("2024-03-18T23:59:59.999999Z (1710806399999999)")}},
		{"on_day nanos", "{name: r, event: Custom, field: ns, on_day: true}", event(stamped, "ns", Int(1710892799999999999)), pass},
		{"on_day nanos, next day", "{name: r, event: Custom, field: ns, on_day: true}", event(stamped, "ns", Int(1710892800000000000)), fail},
		{"on_day before 1970", "{name: r, event: Custom, field: ms, on_day: true}", event(stamped, "ms", Int(-1)), fail},
		{"on_day long without logical type", "{name: r, event: Custom, field: n, on_day: true}", event(stamped, "n", Int(1710806400)),
			want{true, true, Str("error: an int without a timestamp logical type has no date")}},
		{"on_day float", "{name: r, event: Custom, field: code, on_day: true}", event(custom, "code", Float(1.5)), fail},
		// A writer that retyped rating from int to double: the
		// expression, compiled for an int, runs untyped on its events.
		{"expr on a retyped field", "{name: r, event: MovieRatingEvent, expr: rating == 4}", event(ratingDouble, "rating", Float(4)), pass},
		{"expr on a retyped field fails", "{name: r, event: MovieRatingEvent, expr: rating == 4}", event(ratingDouble, "rating", Float(4.5)), want{true, true, Float(4.5)}},
		{"expr in on a retyped field", "{name: r, event: MovieRatingEvent, expr: 'rating in [4, 5]'}", event(ratingDouble, "rating", Float(5)), pass},
		{"expr in on a retyped field fails", "{name: r, event: MovieRatingEvent, expr: 'rating in [4, 5]'}", event(ratingDouble, "rating", Float(2)), fail},
		{"where on a retyped field", "{name: r, event: MovieRatingEvent, field: rating, between: [1, 5], where: rating != 2}", event(ratingDouble, "rating", Float(2)), skip},
		{"where on a retyped field applies", "{name: r, event: MovieRatingEvent, field: rating, between: [1, 5], where: rating != 2}", event(ratingDouble, "rating", Float(7.5)), fail},
		{"field missing from this shape", "{name: r, event: MovieWatchEvent, field: subtitles, not_null: true}",
			event(NewShape(MovieWatchEvent, []Field{{Name: "minute", Kind: KindInt}})), skip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := book(t, "  - "+tc.rule+"\n", refs)
			out := b.NewEvaluator().Eval(tc.event)
			if !tc.want.applies {
				if len(out) != 0 {
					t.Fatalf("got %+v, want no outcome", out)
				}
				return
			}
			if len(out) != 1 {
				t.Fatalf("got %d outcomes %+v, want 1", len(out), out)
			}
			o := out[0]
			if o.Check != 0 || o.Failed != tc.want.failed {
				t.Errorf("got %+v, want failed=%v", o, tc.want.failed)
			}
			if tc.want.value != (Value{}) && o.Value != tc.want.value {
				t.Errorf("value %+v, want %+v", o.Value, tc.want.value)
			}
		})
	}
}

func TestEvalSeveralChecks(t *testing.T) {
	b := book(t, `  - {name: a, event: '*', field: userId, not_null: true}
  - {name: b, event: MovieWatchEvent, field: minute, min: 0}
  - {name: c, event: MovieRatingEvent, field: rating, between: [1, 5]}
  - {name: d, event: '*', row_count: {min: 1}}
`, nil)
	ev := b.NewEvaluator()
	got := func(e Event) string {
		var s []string
		for _, o := range ev.Eval(e) {
			s = append(s, b.Checks[o.Check].Name+map[bool]string{true: "!", false: ""}[o.Failed])
		}
		return strings.Join(s, " ")
	}
	// Shapes alternate, so the per-shape plans and the last-shape fast path
	// both serve.
	for i := 0; i < 3; i++ {
		if s := got(event(watch, "userId", Str("u"), "minute", Int(-3))); s != "a b! d" {
			t.Errorf("watch: %s", s)
		}
		if s := got(event(rating, "rating", Int(3))); s != "a! c d" {
			t.Errorf("rating: %s", s)
		}
	}
}

func TestUniqueKeys(t *testing.T) {
	b := book(t, "  - {name: u, event: Custom, unique: [code, userId]}\n  - {name: v, event: Custom, unique: [userId, code]}\n", nil)
	ev := b.NewEvaluator()
	key := func(code, user Value) [2][2]uint64 {
		out := ev.Eval(event(custom, "code", code, "userId", user))
		if len(out) != 2 {
			t.Fatalf("got %d outcomes", len(out))
		}
		return [2][2]uint64{out[0].Key, out[1].Key}
	}
	a := key(Int(1), Str("u"))
	if a != key(Int(1), Str("u")) {
		t.Error("the same values gave different keys")
	}
	if a[0] == key(Str("1"), Str("u"))[0] {
		t.Error(`int 1 and string "1" gave the same key`)
	}
	// Numbers are keyed by value, as in: and expr: compare them: a field
	// retyped from long to double keeps its repeats.
	if a[0] != key(Float(1), Str("u"))[0] {
		t.Error(`int 1 and float 1.0 gave different keys`)
	}
	if key(Int(0), Str("u"))[0] != key(Float(math.Copysign(0, -1)), Str("u"))[0] {
		t.Error("0 and -0.0 gave different keys")
	}
	if key(Float(math.NaN()), Str("u"))[0] != key(Float(math.Float64frombits(0x7ff8000000000001)), Str("u"))[0] {
		t.Error("two NaNs gave different keys")
	}
	if a[0] == key(Float(1.5), Str("u"))[0] || key(Float(1e19), Str("u"))[0] == key(Int(math.MaxInt64), Str("u"))[0] {
		t.Error("different numbers gave the same key")
	}
	if key(Str("ab"), Str("c"))[0] == key(Str("a"), Str("bc"))[0] {
		t.Error(`"ab","c" and "a","bc" gave the same key`)
	}
	if a[0] == a[1] {
		t.Error("field order does not change the key")
	}
	if key(Null(), Null())[0] == key(Str(""), Str(""))[0] {
		t.Error("null and empty string gave the same key")
	}
	if a[0][0] == a[0][1] {
		t.Error("the two halves of the key are equal")
	}
	// Decimals are keyed by their exact value: two that float64 rounds
	// to the same number stay apart, and a whole one is its int.
	big1, big2 := Decimal(1.2345678901234567e19, "12345678901234567890"), Decimal(1.2345678901234567e19, "12345678901234567891")
	if key(big1, Str("u"))[0] == key(big2, Str("u"))[0] {
		t.Error("two decimals float64 rounds alike gave the same key")
	}
	if key(Decimal(9.007199254740992e15, "9007199254740993"), Str("u"))[0] != key(Int(9007199254740993), Str("u"))[0] {
		t.Error("a whole decimal and its int gave different keys")
	}
	if key(Decimal(0.5, "0.5"), Str("u"))[0] != key(Float(0.5), Str("u"))[0] {
		t.Error("decimal 0.5 and float 0.5 gave different keys")
	}
}

// TestDecimalsAreExact: a decimal beyond float64's digits is itself for
// in, in_reference, patterns and samples, not its rounded float.
func TestDecimalsAreExact(t *testing.T) {
	sb := NewSetBuilder(2)
	sb.Add("12345678901234567891")
	b := book(t, `  - {name: ref, event: Custom, field: amount, in_reference: users}
  - {name: in, event: Custom, field: amount, in: [9007199254740993]}
  - {name: pat, event: Custom, field: amount, pattern: '^[0-9]+$'}
`, map[string]Set{"users": sb.Set()})
	amount := NewShape("Custom", []Field{{Name: "amount", Kind: KindFloat}})
	ev := b.NewEvaluator()
	failed := func(v Value) string {
		var out []string
		for _, o := range ev.Eval(&testEvent{amount, []Value{v}}) {
			if o.Failed {
				out = append(out, b.Checks[o.Check].Name+"="+o.Value.String())
			}
		}
		return strings.Join(out, " ")
	}
	if got := failed(Decimal(1.2345678901234567e19, "12345678901234567891")); got != "in=12345678901234567891" {
		t.Errorf("known id: failed %q, want only in, its sample exact", got)
	}
	if got := failed(Decimal(1.2345678901234567e19, "12345678901234567890")); got != "ref=12345678901234567890 in=12345678901234567890" {
		t.Errorf("unknown id: failed %q", got)
	}
	if got := failed(Decimal(9.007199254740992e15, "9007199254740993")); got != "ref=9007199254740993" {
		t.Errorf("2^53+1: failed %q, want in to hold", got)
	}
	if got := failed(Decimal(12.5, "12.5")); got != "ref=12.5 in=12.5 pat=12.5" {
		t.Errorf("12.5: failed %q", got)
	}
}

// TestEvalAllocs holds the simple kinds to no allocation per event.
func TestEvalAllocs(t *testing.T) {
	b := book(t, `  - {name: a, event: MovieRatingEvent, field: rating, between: [1, 5]}
  - {name: b, event: '*', field: userId, in_reference: users}
  - {name: c, event: RecommendationRequest, field: status, in: [200]}
  - {name: d, event: MovieWatchEvent, field: movieId, pattern: '[a-z0-9+]+'}
  - {name: e, event: MovieRatingEvent, unique: [userId, movieId]}
  - {name: f, event: '*', field: userId, not_null: true}
  - {name: g, event: Custom, field: userId, in_reference: users}
  - {name: h, event: RecommendationRequest, where: status == 200, field: recommendations, not_null: true}
  - {name: i, event: Custom, unique: [userId]}
  - {name: j, event: Custom, field: userId, in: [42, 0.1]}
`, map[string]Set{"users": userSet("u1", "42")})
	ev := b.NewEvaluator()
	events := []Event{
		event(rating, "rating", Int(9), "userId", Str("u1"), "movieId", Str("m")),
		event(reco, "status", Int(200), "userId", Str("u2")),
		event(watch, "movieId", Str("the+matrix+1999"), "userId", Str("u1")),
		event(custom, "userId", Int(42)),
		// decimals: a whole one, one beyond int64, and a fraction that
		// float64 does not hold exactly
		event(custom, "userId", Decimal(42, "42")),
		event(custom, "userId", Decimal(1.2345678901234567e19, "12345678901234567891")),
		event(custom, "userId", Decimal(0.1, "0.1")),
	}
	for _, e := range events {
		ev.Eval(e)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		for _, e := range events {
			ev.Eval(e)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

func TestStatus(t *testing.T) {
	mk := func(kind RuleKind, sev Severity, tol Tolerance) *Check {
		return &Check{Kind: kind, Severity: sev, Tolerance: tol, rowMax: -1}
	}
	for _, tc := range []struct {
		name            string
		c               *Check
		checked, failed int64
		want            Status
	}{
		{"no failures", mk(RuleBetween, SeverityError, Tolerance{}), 100, 0, StatusPass},
		{"one failure", mk(RuleBetween, SeverityError, Tolerance{}), 100, 1, StatusFail},
		{"warn severity", mk(RuleBetween, SeverityWarn, Tolerance{}), 100, 1, StatusWarn},
		{"nothing checked", mk(RuleIn, SeverityError, Tolerance{}), 0, 0, StatusPass},
		{"within count", mk(RuleIn, SeverityError, Tolerance{Count: 10}), 1000, 10, StatusPass},
		{"over count", mk(RuleIn, SeverityError, Tolerance{Count: 10}), 1000, 11, StatusFail},
		{"within percent", mk(RuleIn, SeverityError, Tolerance{Percent: 0.5, IsPercent: true}), 1000, 5, StatusPass},
		{"over percent", mk(RuleIn, SeverityError, Tolerance{Percent: 0.5, IsPercent: true}), 1000, 6, StatusFail},
		{"percent rounding", mk(RuleIn, SeverityError, Tolerance{Percent: 0.1, IsPercent: true}), 3000, 3, StatusPass},
		{"percent of few events", mk(RuleIn, SeverityError, Tolerance{Percent: 10, IsPercent: true}), 9, 1, StatusFail},
		{"percent over, warn", mk(RuleIn, SeverityWarn, Tolerance{Percent: 1, IsPercent: true}), 100, 2, StatusWarn},
		{"hundred percent", mk(RuleIn, SeverityError, Tolerance{Percent: 100, IsPercent: true}), 100, 100, StatusPass},
		{"unique repeats", mk(RuleUnique, SeverityError, Tolerance{Count: 1}), 100, 2, StatusFail},
		{"null ratio under", &Check{Kind: RuleMaxNullRatio, Severity: SeverityError, maxNull: 0.01}, 100, 1, StatusPass},
		{"null ratio over", &Check{Kind: RuleMaxNullRatio, Severity: SeverityError, maxNull: 0.01}, 100, 2, StatusFail},
		{"null ratio over, warn", &Check{Kind: RuleMaxNullRatio, Severity: SeverityWarn, maxNull: 0.01}, 100, 2, StatusWarn},
		{"null ratio zero", &Check{Kind: RuleMaxNullRatio, Severity: SeverityError}, 100, 1, StatusFail},
		{"null ratio nothing checked", &Check{Kind: RuleMaxNullRatio, Severity: SeverityError, maxNull: 0.01}, 0, 0, StatusPass},
		{"row_count within", &Check{Kind: RuleRowCount, Severity: SeverityError, rowMin: 10, rowMax: 20}, 15, 99, StatusPass},
		{"row_count at min", &Check{Kind: RuleRowCount, Severity: SeverityError, rowMin: 10, rowMax: 20}, 10, 0, StatusPass},
		{"row_count at max", &Check{Kind: RuleRowCount, Severity: SeverityError, rowMin: 10, rowMax: 20}, 20, 0, StatusPass},
		{"row_count under", &Check{Kind: RuleRowCount, Severity: SeverityError, rowMin: 10, rowMax: 20}, 9, 0, StatusFail},
		{"row_count over", &Check{Kind: RuleRowCount, Severity: SeverityWarn, rowMin: 10, rowMax: 20}, 21, 0, StatusWarn},
		{"row_count no max", &Check{Kind: RuleRowCount, Severity: SeverityError, rowMin: 10, rowMax: -1}, 1e12, 0, StatusPass},
		{"row_count none at all", &Check{Kind: RuleRowCount, Severity: SeverityError, rowMin: 1, rowMax: -1}, 0, 0, StatusFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Status(tc.checked, tc.failed); got != tc.want {
				t.Errorf("Status(%d, %d) = %v, want %v", tc.checked, tc.failed, got, tc.want)
			}
		})
	}
}

func TestCompileDefaults(t *testing.T) {
	b := book(t, "  - {name: r, event: MovieWatchEvent, field: minute, min: 0}\n", nil)
	c := b.Checks[0]
	if c.Severity != SeverityError || c.Name != "r" || c.Field != "minute" || c.Kind != RuleMin {
		t.Errorf("got %+v", c)
	}
}

func TestCompileMissingReference(t *testing.T) {
	cfg, err := Parse(strings.NewReader(minimal+"references:\n  users: {path: u.txt}\nrules:\n  - {name: r, event: '*', field: userId, in_reference: users}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(cfg, nil, time.Time{})
	want := `c.yaml:9:5: rule "r": reference "users" is not loaded`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestCompileOnDayAnyDay: every date is a day to audit, the zero Time's
// 0001-01-01 (--date 0001-01-01) included, which once meant "no day".
func TestCompileOnDayAnyDay(t *testing.T) {
	cfg, err := Parse(strings.NewReader(minimal+"rules:\n  - {name: r, event: '*', field: time, on_day: true}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		day        time.Time
		on, before string // a time on the day, and one the day before
	}{
		{time.Time{}, "0001-01-01T08:15:00", "0000-12-31T23:59:59"},
		{time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), "0001-01-02T00:00:00", "0001-01-01T23:59:59"},
		{time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), "0000-12-31T12:00:00", "0000-12-30T12:00:00"},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), "9999-12-31T23:59:59", "9999-12-30T00:00:00"},
	} {
		b, err := Compile(cfg, nil, tc.day)
		if err != nil {
			t.Errorf("%s: %v", tc.day.Format(time.DateOnly), err)
			continue
		}
		c := b.Checks[0]
		if want := "on_day " + tc.day.Format(time.DateOnly); c.Params() != want {
			t.Errorf("Params %q, want %q", c.Params(), want)
		}
		on, before := Str(tc.on), Str(tc.before)
		if !c.onDay(&on, 0) || c.onDay(&before, 0) {
			t.Errorf("%s: %s on the day: %v, %s: %v; want true, false", tc.day.Format(time.DateOnly), tc.on, c.onDay(&on, 0), tc.before, c.onDay(&before, 0))
		}
		// An integer timestamp of the day, in milliseconds.
		ms := Int(tc.day.UnixMilli() + 8*3_600_000)
		if !c.onDay(&ms, 3_600_000) {
			t.Errorf("%s: timestamp %d not on the day", tc.day.Format(time.DateOnly), ms.Int)
		}
	}
	// The day is the date as given, wherever its clock is.
	b, err := Compile(cfg, nil, time.Date(2024, 3, 19, 23, 0, 0, 0, time.FixedZone("UTC-5", -5*3600)))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Checks[0].Params(); got != "on_day 2024-03-19" {
		t.Errorf("Params %q, want on_day 2024-03-19", got)
	}
}

func TestParams(t *testing.T) {
	b := book(t, `  - {name: a, event: MovieRatingEvent, field: rating, between: [1, 5]}
  - {name: b, event: MovieWatchEvent, field: minute, min: 0}
  - {name: c, event: RecommendationRequest, field: status, in: [200, 204], where: server != ''}
  - {name: d, event: Custom, field: code, not_in: [a, 1, 2.5, true, b, c, d, e, f, g, h]}
  - {name: e, event: MovieRatingEvent, unique: [userId, movieId]}
  - {name: f, event: MovieWatchEvent, row_count: {min: 1, max: 9}}
  - {name: g, event: MovieWatchEvent, row_count: {max: 9}}
  - {name: h, event: MovieWatchEvent, field: subtitles, max_null_ratio: 2%}
  - {name: i, event: MovieWatchEvent, expr: minute < 500}
  - {name: j, event: '*', field: userId, in_reference: users}
  - {name: k, event: '*', field: userId, pattern: 'u\d+'}
  - {name: l, event: MovieWatchEvent, field: minute, between: [1710806400000000000, 1710892799999999999]}
  - {name: m, event: '*', field: time, on_day: true}
`, nil)
	want := []string{
		"between [1, 5]",
		"min 0",
		"in [200, 204] where server != ''",
		`not_in ["a", 1, 2.5, true, "b", "c", "d", "e", "f", "g", … (11 values)]`,
		"unique [userId, movieId]",
		"row_count min 1, max 9",
		"row_count max 9",
		"max_null_ratio 0.02",
		"expr minute < 500",
		"in_reference users",
		`pattern u\d+`,
		"between [1710806400000000000, 1710892799999999999]",
		"on_day 2024-03-19",
	}
	for i, c := range b.Checks {
		if got := c.Params(); got != want[i] {
			t.Errorf("check %s: got %q, want %q", c.Name, got, want[i])
		}
	}
}

func TestDescribe(t *testing.T) {
	b := book(t, "  - {name: u, event: MovieRatingEvent, unique: [userId, movieId], where: rating > 0}\n", nil)
	got := b.Checks[0].Describe(event(rating, "userId", Str("u1"), "movieId", Str("m1"), "rating", Int(3)))
	if want := `userId="u1", movieId="m1", rating=3`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestCheckShape(t *testing.T) {
	b := book(t, `  - {name: minute-ok, event: MovieWatchEvent, field: minute, min: 0}
  - {name: movie-known, event: MovieWatchEvent, field: movieId, not_null: true}
  - {name: any-user, event: '*', field: nope, not_null: true}
  - {name: status-ok, event: RecommendationRequest, field: status, in: [200]}
`, nil)
	old := NewShape(MovieWatchEvent, []Field{
		{Name: "userId", Kind: KindString, Type: "string"},
		{Name: "minute", Kind: KindString, Type: "string"},
		{Name: "subtitles", Kind: KindBool, Type: "boolean"},
	})
	want := []string{
		`c.yaml:11:5: rule "minute-ok": min needs a number, but this writer schema of MovieWatchEvent declares minute as string`,
		`c.yaml:12:5: rule "movie-known": this writer schema of MovieWatchEvent has no field "movieId", so the rule skips its events; its fields are userId, minute and subtitles`,
	}
	errs := b.CheckShape(old)
	if len(errs) != len(want) {
		t.Fatalf("got %v, want %d errors", errs, len(want))
	}
	for i := range want {
		if errs[i].Error() != want[i] {
			t.Errorf("got  %s\nwant %s", errs[i], want[i])
		}
	}
	textStatus := NewShape(RecommendationRequest, []Field{{Name: "status", Kind: KindString, Type: "string"}})
	errs = b.CheckShape(textStatus)
	if len(errs) != 1 || errs[0].Error() != `c.yaml:14:5: rule "status-ok": in lists 200 (int), but this writer schema of RecommendationRequest declares status as string` {
		t.Errorf("got %v", errs)
	}
	if errs := b.CheckShape(builtinShape(MovieWatchEvent)); len(errs) != 0 {
		t.Errorf("the built-in shape: %v", errs)
	}
}

func TestEnumStrings(t *testing.T) {
	for _, k := range ruleKinds() {
		if kindByName(k.String()) != k {
			t.Errorf("kind %v does not round-trip", k)
		}
	}
	if RuleUnset.String() != "unset" || SeverityWarn.String() != "warn" || SeverityError.String() != "error" ||
		StatusPass.String() != "pass" || StatusWarn.String() != "warn" || StatusFail.String() != "fail" || StatusUnset.String() != "unset" {
		t.Error("enum names changed")
	}
	if (Tolerance{Percent: 0.5, IsPercent: true}).String() != "0.5%" || (Tolerance{Count: 3}).String() != "3" {
		t.Error("tolerance text changed")
	}
}

// TestEvalConcurrent shares one Book between goroutines, each with its own
// Evaluator, as audit does; run with -race.
func TestEvalConcurrent(t *testing.T) {
	b := book(t, `  - {name: a, event: '*', field: userId, in_reference: users}
  - {name: b, event: RecommendationRequest, where: status == 200, expr: responseTime < 100}
  - {name: c, event: MovieRatingEvent, unique: [userId, movieId]}
`, map[string]Set{"users": userSet("u1")})
	done := make(chan int)
	for g := 0; g < 4; g++ {
		go func() {
			ev := b.NewEvaluator()
			failed := 0
			for i := 0; i < 500; i++ {
				for _, o := range ev.Eval(event(reco, "userId", Str("u2"), "status", Int(200), "responseTime", Int(int64(i)))) {
					if o.Failed {
						failed++
					}
				}
			}
			done <- failed
		}()
	}
	for g := 0; g < 4; g++ {
		// 500 unknown users, and responseTime >= 100 for 400 events.
		if n := <-done; n != 900 {
			t.Errorf("goroutine counted %d failures, want 900", n)
		}
	}
}

// An on_day rule on a field that a writer schema types as neither text nor
// a timestamp (an Avro date, a plain long of epoch milliseconds) is a
// mismatch of that schema, named like the others, not a failure of the
// data alone.
func TestCheckShapeOnDay(t *testing.T) {
	b := book(t, "  - {name: late, event: Custom, field: when, on_day: true}\n", nil)
	for _, tc := range []struct {
		name, typ string
		kind      Kind
		want      string
	}{
		{"text", "string", KindString, ""},
		{"timestamp", `{"type":"long","logicalType":"timestamp-millis"}`, KindInt, ""},
		{"nullable timestamp", `["null",{"type":"long","logicalType":"timestamp-micros"}]`, KindInt, ""},
		{"plain long", "long", KindInt, `c.yaml:11:5: rule "late": on_day needs a time field: text such as 2024-03-19T08:15:00, or an Avro long with a timestamp logical type; this writer schema of Custom declares when as long`},
		{"date", `{"type":"int","logicalType":"date"}`, KindInt, `c.yaml:11:5: rule "late": on_day needs a time field: text such as 2024-03-19T08:15:00, or an Avro long with a timestamp logical type; this writer schema of Custom declares when as {"type":"int","logicalType":"date"}`},
		{"double", "double", KindFloat, `c.yaml:11:5: rule "late": on_day needs a time field: text such as 2024-03-19T08:15:00, or an Avro long with a timestamp logical type; this writer schema of Custom declares when as double`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewShape("Custom", []Field{{Name: "when", Kind: tc.kind, Nullable: true, Type: tc.typ}})
			errs := b.CheckShape(s)
			var got string
			if len(errs) > 0 {
				got = errs[0].Error()
			}
			if len(errs) > 1 || got != tc.want {
				t.Errorf("got %v\nwant %s", errs, tc.want)
			}
		})
	}
}

// Avro arrays and maps reach rules as their JSON text: an expression
// that takes one for a list (len, an index, in) would count characters,
// and len(tags) > 0 would hold for an empty array's "[]". Such a use is a
// mismatch of the writer schema, named like the others.
func TestCheckShapeListUse(t *testing.T) {
	array := Field{Name: "tags", Kind: KindString, Type: `{"type":"array","items":"string"}`}
	mapf := Field{Name: "attrs", Kind: KindString, Type: `{"type":"map","values":"long"}`}
	text := Field{Name: "tags", Kind: KindString, Type: "string"}
	nullable := Field{Name: "tags", Kind: KindString, Type: `["null",{"type":"array","items":"string"}]`}
	mapOfArrays := Field{Name: "attrs", Kind: KindString, Type: `{"type":"map","values":{"type":"array","items":"long"}}`}
	record := Field{Name: "tags", Kind: KindString, Type: `{"type":"record","name":"Node","fields":[{"name":"kids","type":{"type":"array","items":"Node"}}]}`}
	for _, tc := range []struct {
		name, rule string
		field      Field
		wantErr    bool
	}{
		{"len of an array", "expr: 'len(tags) > 0'", array, true},
		{"len of a map", "expr: 'len(attrs) >= 1'", mapf, true},
		{"index", "expr: 'tags[0] == \"a\"'", array, true},
		{"in", "expr: '\"a\" in tags'", array, true},
		{"not in, in where", "where: '\"a\" not in tags', field: tags, not_null: true", array, true},
		{"list literal", "expr: 'tags != []'", array, true},
		{"any", "expr: 'any(tags, # == \"a\")'", array, true},
		{"the text", "expr: 'tags != \"[]\"'", array, false},
		{"contains", "expr: 'tags contains \"a\"'", array, false},
		{"len of a string", "expr: 'len(tags) > 0'", text, false},
		{"len of a nullable array", "expr: 'len(tags) > 0'", nullable, true},
		{"len of a map of arrays", "expr: 'len(attrs) > 0'", mapOfArrays, true},
		{"len of a record holding an array", "expr: 'len(tags) > 0'", record, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := book(t, "  - {name: r, event: Custom, "+tc.rule+"}\n", nil)
			errs := b.CheckShape(NewShape("Custom", []Field{tc.field}))
			if got := len(errs) > 0; got != tc.wantErr {
				t.Errorf("errors %v, want some: %v", errs, tc.wantErr)
			}
			if tc.wantErr && len(errs) > 0 && !strings.Contains(errs[0].Error(), "JSON text") {
				t.Errorf("got %v", errs[0])
			}
			if tc.field.Type == mapOfArrays.Type && len(errs) > 0 && !strings.Contains(errs[0].Error(), "as a map") {
				t.Errorf("a map of arrays is named otherwise: %v", errs[0])
			}
		})
	}
}
