package profile

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/dqaudit/dqaudit/rules"
)

// benchEvents returns n events of the three real shapes: 70% watch, 15%
// rating, 15% recommendation requests, with a million users and 27k
// movies, so ids are high-cardinality as in production.
func benchEvents(n int) []*testEvent {
	r := rand.New(rand.NewPCG(5, 5))
	watch := rules.NewShape("MovieWatchEvent", fields("time", "userId", "movieId", "minute"))
	rating := rules.NewShape("MovieRatingEvent", fields("time", "userId", "movieId", "rating"))
	reco := rules.NewShape("RecommendationRequest", fields("time", "userId", "server", "status", "recommendations", "responseTime"))
	movie := func() string {
		return "the+movie+number+" + strconv.Itoa(int(27000*r.Float64()*r.Float64())) + "+1994"
	}
	tm := func() rules.Value {
		return rules.Str("2024-03-19T" + strconv.Itoa(10+r.IntN(14)) + ":12:33")
	}
	user := func() rules.Value { return rules.Int(int64(1 + r.IntN(1_000_000))) }
	out := make([]*testEvent, n)
	defer compact(out)
	for i := range out {
		switch k := r.IntN(100); {
		case k < 70:
			out[i] = ev(watch, tm(), user(), rules.Str(movie()), rules.Int(int64(r.IntN(180))))
		case k < 85:
			out[i] = ev(rating, tm(), user(), rules.Str(movie()), rules.Int(int64(1+pick(r, ratingWeights))))
		default:
			recs := make([]string, 20)
			for j := range recs {
				recs[j] = movie()
			}
			out[i] = ev(reco, tm(), user(), rules.Str("recommendation-server-"+strconv.Itoa(r.IntN(4))),
				rules.Int(200), rules.Str(strings.Join(recs, ", ")), rules.Int(int64(math.Exp(r.NormFloat64()*0.5+5))))
		}
	}
	return out
}

// BenchmarkObserve profiles a mix of the three event types, read in order
// from contiguous memory as a decoder produces them. In "hot" they cycle
// through a pool of 1024 that fits the CPU cache; "cold" cycles through
// 64k events (about 20 MB).
// compact moves events, their values and their strings into three
// contiguous arrays in event order, so that reading them in order streams
// through memory as a decoder's output does.
func compact(events []*testEvent) {
	var nvals, nbytes int
	for _, e := range events {
		nvals += len(e.vals)
		for _, v := range e.vals {
			nbytes += len(v.Str)
		}
	}
	evs := make([]testEvent, len(events))
	vals := make([]rules.Value, 0, nvals)
	buf := make([]byte, 0, nbytes)
	for i, e := range events {
		start := len(vals)
		for _, v := range e.vals {
			if v.Kind == rules.KindString {
				at := len(buf)
				buf = append(buf, v.Str...)
				v.Str = unsafe.String(&buf[at], len(v.Str))
			}
			vals = append(vals, v)
		}
		evs[i] = testEvent{shape: e.shape, vals: vals[start:len(vals):len(vals)]}
		events[i] = &evs[i]
	}
}

func BenchmarkObserve(b *testing.B) {
	for _, bc := range []struct {
		name string
		pool int
	}{{"hot", 1 << 10}, {"cold", 1 << 16}} {
		b.Run(bc.name, func(b *testing.B) {
			events := benchEvents(bc.pool)
			warm := benchEvents(1 << 16) // fills maps and sketches to their steady state
			bld := NewBuilder()
			for _, e := range warm {
				bld.Observe(e)
			}
			for _, e := range events {
				bld.Observe(e)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				bld.Observe(events[i&(bc.pool-1)])
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
