package profile

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/dqaudit/dqaudit/rules"
)

type testEvent struct {
	shape *rules.Shape
	vals  []rules.Value
}

func (e *testEvent) Shape() *rules.Shape       { return e.shape }
func (e *testEvent) Value(i int) rules.Value   { return e.vals[i] }
func (e *testEvent) ValueSlice() []rules.Value { return e.vals }

func ev(s *rules.Shape, vals ...rules.Value) *testEvent { return &testEvent{shape: s, vals: vals} }

func fields(names ...string) []rules.Field {
	fs := make([]rules.Field, len(names))
	for i, n := range names {
		fs[i] = rules.Field{Name: n}
	}
	return fs
}

// shapes are the three event types, the watch event also in a second
// field order, as two sources would write it.
type shapes struct {
	watch, watchKafka, rating, reco *rules.Shape
}

func newShapes() shapes {
	return shapes{
		watch:      rules.NewShape("MovieWatchEvent", fields("time", "userId", "movieId", "minute")),
		watchKafka: rules.NewShape("MovieWatchEvent", fields("time", "movieId", "userId", "minute")),
		rating:     rules.NewShape("MovieRatingEvent", fields("time", "userId", "movieId", "rating", "liked", "tag")),
		reco:       rules.NewShape("RecommendationRequest", fields("time", "userId", "server", "status", "recommendations", "responseTime", "latency")),
	}
}

// gen makes pseudo-random events. It appends strings to buf, which the
// caller may reuse between events as sources do.
type gen struct {
	r  *rand.Rand
	sh shapes
	// users and movies set the cardinalities.
	users, movies int
}

func newGen(seed uint64) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, 7)), sh: newShapes(), users: 50000, movies: 1500}
}

func (g *gen) movie(buf []byte) []byte {
	// Skewed popularity: low ids are frequent.
	id := int(float64(g.movies) * g.r.Float64() * g.r.Float64())
	buf = append(buf, "the+movie+"...)
	return strconv.AppendInt(buf, int64(id), 10)
}

func (g *gen) time(buf []byte) []byte {
	if g.r.IntN(500) == 0 {
		return append(buf, "yesterday"...)
	}
	h := int(math.Abs(g.r.NormFloat64()*5+18)) % 24
	buf = append(buf, "2024-03-19T"...)
	buf = append(buf, byte('0'+h/10), byte('0'+h%10))
	return append(buf, ":12:33.120Z"...)
}

var ratingWeights = []float64{0.05, 0.05, 0.15, 0.5, 0.25} // mostly 4 stars

func pick(r *rand.Rand, weights []float64) int {
	x := r.Float64()
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// arena hands out strings made in one buffer, which the caller may reuse
// for the next event as sources do.
type arena struct {
	buf []byte
	mk  func([]byte) string
}

func (a *arena) str(f func([]byte) []byte) rules.Value {
	start := len(a.buf)
	a.buf = f(a.buf)
	return rules.Str(a.mk(a.buf[start:]))
}

func owned(b []byte) string { return string(b) }

// fill sets e to the i-th of n events.
func (g *gen) fill(e *testEvent, i, n int, a *arena) {
	a.buf = a.buf[:0]
	switch k := g.r.IntN(10); {
	case k < 6:
		tm, mov := a.str(g.time), a.str(g.movie)
		user, minute := rules.Int(int64(1+g.r.IntN(g.users))), rules.Int(int64(g.r.IntN(150)))
		if k < 5 {
			e.shape = g.sh.watch
			e.vals = append(e.vals[:0], tm, user, mov, minute)
			break
		}
		if g.r.IntN(100) == 0 {
			user = rules.Str("u" + strconv.Itoa(g.r.IntN(5))) // a malformed id
		}
		e.shape = g.sh.watchKafka
		e.vals = append(e.vals[:0], tm, mov, user, minute)
	case k < 8:
		e.shape = g.sh.rating
		rating := rules.Int(int64(1 + pick(g.r, ratingWeights)))
		if g.r.IntN(200) == 0 {
			rating = rules.Null()
		}
		e.vals = append(e.vals[:0], a.str(g.time), rules.Int(int64(1+g.r.IntN(g.users))),
			a.str(g.movie), rating, rules.Bool(g.r.IntN(3) == 0),
			a.str(func(b []byte) []byte { return strconv.AppendInt(append(b, "tag-"...), int64(i*1100/n), 10) }))
	default:
		e.shape = g.sh.reco
		status := int64(200)
		if g.r.IntN(50) == 0 {
			status = 500
		}
		recs := rules.Null()
		if g.r.IntN(10) != 0 {
			recs = a.str(func(b []byte) []byte {
				for j := range 5 {
					if j > 0 {
						b = append(b, ", "...)
					}
					b = g.movie(b)
				}
				return b
			})
		}
		latency := rules.Float(math.Exp(g.r.NormFloat64()*0.8 + 3))
		switch g.r.IntN(100) {
		case 0:
			latency = rules.Float(math.NaN())
		case 1:
			latency = rules.Float(-latency.Float)
		case 2:
			latency = rules.Float(0)
		}
		e.vals = append(e.vals[:0], a.str(g.time), rules.Int(int64(1+g.r.IntN(g.users))),
			a.str(func(b []byte) []byte {
				return strconv.AppendInt(append(b, "recommendation-server-"...), int64(1+g.r.IntN(4)), 10)
			}),
			rules.Int(status), recs, rules.Int(int64(math.Exp(g.r.NormFloat64()*0.5+5))), latency)
	}
}

// events returns n events with strings of their own.
func (g *gen) events(n int) []*testEvent {
	out := make([]*testEvent, n)
	for i := range out {
		e := &testEvent{}
		g.fill(e, i, n, &arena{mk: owned})
		out[i] = e
	}
	return out
}

func build(events []*testEvent) *Profile {
	b := NewBuilder()
	for _, e := range events {
		b.Observe(e)
	}
	return b.Profile()
}

func mustJSON(t testing.TB, p *Profile) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func roundTrip(t testing.TB, p *Profile) *Profile {
	t.Helper()
	var q Profile
	if err := json.Unmarshal([]byte(mustJSON(t, p)), &q); err != nil {
		t.Fatal(err)
	}
	return &q
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
