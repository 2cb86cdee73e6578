package kafkalog

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

var movies = []string{"the+green+mile+1999", "the+matrix+1999", "up+2009", "inception+2010",
	"am%C3%A9lie+2001", "amélie+2001", "seven+samurai+1954", "x"}

// generator writes a log of mixed lines and knows what each line must give.
type generator struct {
	rnd     *rand.Rand
	maxLine int
	buf     []byte
	want    []keyed
	line    int64
	// malformedEvery makes one line in malformedEvery malformed; 0 never.
	malformedEvery int
	// watchShare and ratingShare are the per cent of valid lines of those
	// shapes; the rest are recommendations.
	watchShare, ratingShare int
}

// keyed is a record reduced to its line and a hash of all it holds.
type keyed struct {
	Line int64
	Hash uint64
}

func compareKeyed(a, b keyed) int {
	if a.Line != b.Line {
		if a.Line < b.Line {
			return -1
		}
		return 1
	}
	if a.Hash != b.Hash {
		if a.Hash < b.Hash {
			return -1
		}
		return 1
	}
	return 0
}

func newGenerator(seed uint64, maxLine, malformedEvery int) *generator {
	return &generator{rnd: rand.New(rand.NewPCG(seed, 7)), maxLine: maxLine, malformedEvery: malformedEvery,
		watchShare: 40, ratingShare: 20}
}

func (g *generator) time() string {
	b := []byte("2024-03-17T")
	b = append(b, strconv.Itoa(10+g.rnd.IntN(14))...)
	b = append(b, ':', byte('0'+g.rnd.IntN(6)), byte('0'+g.rnd.IntN(10)), ':', byte('0'+g.rnd.IntN(6)), byte('0'+g.rnd.IntN(10)))
	if k := g.rnd.IntN(12); k > 0 && k <= 9 {
		b = append(b, '.')
		for range k {
			b = append(b, byte('0'+g.rnd.IntN(10)))
		}
	}
	return string(b)
}

func (g *generator) user() string { return strconv.Itoa(g.rnd.IntN(1_000_000)) }

func (g *generator) movie() string { return movies[g.rnd.IntN(len(movies))] }

// add writes one line with its line end and the record it must give.
func (g *generator) add(text string, r *rec) {
	g.line++
	g.buf = append(g.buf, text...)
	if g.rnd.IntN(20) == 0 {
		g.buf = append(g.buf, '\r')
	}
	g.buf = append(g.buf, '\n')
	if r != nil {
		r.File, r.Line = 3, g.line
		g.want = append(g.want, keyed{g.line, hashRec(*r)})
	}
}

func (g *generator) bad(text, reason string) {
	r := rec{Reason: reason, Text: text}
	if reason == ReasonTooLong {
		r.Text = text[:min(g.maxLine, maxTooLongText)]
	}
	g.add(text, &r)
}

// next writes one line of a random kind.
func (g *generator) next() {
	tm, user := g.time(), g.user()
	if g.malformedEvery > 0 && g.rnd.IntN(g.malformedEvery) == 0 {
		switch g.rnd.IntN(10) {
		case 0:
			g.bad("this is not an event", ReasonUnknownShape)
		case 1:
			g.bad("2024-02-30T10:00:00,"+user+",GET /rate/up+2009=4", ReasonBadTime)
		case 2:
			g.bad(tm+","+user+",GET /data/m/up+2009/twelve.mpg", ReasonBadMinute)
		case 3:
			g.bad(tm+","+user+",GET /rate/up+2009=", ReasonBadRating)
		case 4:
			g.bad(tm+","+user+",recommendation request s1:8082, status OK, result: up+2009, 5 ms", ReasonBadStatus)
		case 5:
			g.bad(tm+","+user+",recommendation request s1:8082, status 200, result: up+2009, 5ms ms", ReasonBadResponseTime)
		case 6:
			g.bad(tm+","+user+",GET /rate/up\x00+2009=4", ReasonInvalidText)
		case 7:
			g.bad(tm+","+user+",GET /rate/up\xff+2009=4", ReasonInvalidText)
		case 8:
			g.bad(tm+","+user+",recommendation request s1:8082, status 200, result: "+strings.Repeat("up+2009, ", g.maxLine/9+1+g.rnd.IntN(g.maxLine/9+1))+"x, 5 ms", ReasonTooLong)
		case 9:
			g.add("", nil) // a blank line, CRLF now and then
		}
		return
	}
	switch k := g.rnd.IntN(100); {
	case k < g.watchShare:
		movie, minute := g.movie(), int64(g.rnd.IntN(200)-5)
		g.add(tm+","+user+",GET /data/m/"+movie+"/"+strconv.FormatInt(minute, 10)+".mpg",
			&rec{Event: rules.MovieWatchEvent, Values: []rules.Value{rules.Str(tm), rules.Str(user), rules.Str(movie), rules.Int(minute)}})
	case k < g.watchShare+g.ratingShare:
		movie, rating := g.movie(), int64(g.rnd.IntN(7)-1)
		g.add(tm+","+user+",GET /rate/"+movie+"="+strconv.FormatInt(rating, 10),
			&rec{Event: rules.MovieRatingEvent, Values: []rules.Value{rules.Str(tm), rules.Str(user), rules.Str(movie), rules.Int(rating)}})
	default:
		server := "17645-team" + strconv.Itoa(g.rnd.IntN(30)) + ".isri.cmu.edu:8082"
		status, ms := int64(200), int64(g.rnd.IntN(400))
		var result string
		switch g.rnd.IntN(8) {
		case 0:
			status, result = 0, "java.net.SocketTimeoutException: Read timed out"
		case 1:
			status = 500
		default:
			n := 1 + g.rnd.IntN(20)
			if g.rnd.IntN(500) == 0 { // now and then a line near the limit
				n = (g.maxLine - 200) / 24
			}
			ms := make([]string, n)
			for i := range ms {
				ms[i] = g.movie()
			}
			result = strings.Join(ms, ", ")
		}
		want := rules.Null()
		if result != "" {
			want = rules.Str(result)
		}
		g.add(tm+","+user+",recommendation request "+server+", status "+strconv.FormatInt(status, 10)+", result: "+result+", "+strconv.FormatInt(ms, 10)+" ms",
			&rec{Event: rules.RecommendationRequest, Values: []rules.Value{rules.Str(tm), rules.Str(user), rules.Str(server), rules.Int(status), want, rules.Int(ms)}})
	}
}

// generate returns n lines and the sorted records they must give.
func (g *generator) generate(n int) ([]byte, []keyed) {
	for range n {
		g.next()
	}
	slices.SortFunc(g.want, compareKeyed)
	return g.buf, g.want
}

// FNV-1a, inline so that hashing sinks do not allocate.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return (h ^ 0xff) * fnvPrime // a separator no text byte can fake alone
}

func fnvInt(h uint64, i int64) uint64 {
	for range 8 {
		h = (h ^ uint64(i&0xff)) * fnvPrime
		i >>= 8
	}
	return h
}

func hashEvent(event string, vals []rules.Value) uint64 {
	h := fnvString(fnvOffset, event)
	for _, v := range vals {
		h = fnvInt(h, int64(v.Kind))
		h = fnvInt(h, v.Int)
		h = fnvString(h, v.Str)
	}
	return h
}

func hashMalformed(reason string, text []byte) uint64 {
	h := fnvString(fnvOffset, "malformed")
	h = fnvString(h, reason)
	for _, c := range text {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

func hashRec(r rec) uint64 {
	if r.Reason != "" {
		return hashMalformed(r.Reason, []byte(r.Text))
	}
	return hashEvent(r.Event, r.Values)
}

// hashSink keeps only the line and hash of each record.
type hashSink struct{ got []keyed }

func (s *hashSink) Event(e *audit.Event) {
	s.got = append(s.got, keyed{e.Pos.Line, hashEvent(e.Type(), e.Values)})
}

func (s *hashSink) Malformed(pos audit.Position, reason string, text []byte) {
	s.got = append(s.got, keyed{pos.Line, hashMalformed(reason, text)})
}
