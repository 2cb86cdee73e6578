// Package generate writes a realistic sample archive for one day: Avro
// files of the three event types in several codecs (one with the evolved
// watch schema), a gzipped Kafka log, faults of every kind the example rules
// look for, malformed lines, and a JSON ground truth of what was injected.
// The same options always give the same bytes.
package generate

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/dqaudit/dqaudit/audit/avro"
	"github.com/dqaudit/dqaudit/rules"
)

// Options say what to generate.
type Options struct {
	Date   time.Time
	Events int    // events of all types, before malformed lines
	Seed   uint64 // same seed, same archive
	// KnownUsers is how many user ids (1..KnownUsers) the reference set
	// lists; injected unknown users lie above it.
	KnownUsers int
	// Shift makes a drifted day: 1-star-heavy ratings instead of
	// 4-star-heavy, and response times three times as long.
	Shift bool
}

// Truth is what was injected: the counts a correct audit must report.
type Truth struct {
	Date      string           `json:"date"`
	Events    map[string]int64 `json:"events"`
	Malformed map[string]int64 `json:"malformed"`
	Faults    Faults           `json:"faults"`
	Files     []string         `json:"files"`
}

// Faults counts injected faults by kind.
type Faults struct {
	RatingOutOfRange     int64 `json:"rating_out_of_range"`
	NegativeMinute       int64 `json:"negative_minute"`
	UnknownUser          int64 `json:"unknown_user"`
	StatusNot200         int64 `json:"status_not_200"`
	Status200            int64 `json:"status_200"`
	NullRecommendations  int64 `json:"null_recommendations_status_200"`
	WatchEventsSubtitles int64 `json:"watch_events_evolved_schema"`
}

// The writer schemas, as in the seed article; watch v2 adds subtitles.
const (
	WatchSchema = `{"type":"record","name":"MovieWatchEvent","fields":[
{"name":"time","type":"string"},{"name":"userId","type":"string"},
{"name":"movieId","type":"string"},{"name":"minute","type":"int"}]}`
	WatchSchemaV2 = `{"type":"record","name":"MovieWatchEvent","fields":[
{"name":"time","type":"string"},{"name":"userId","type":"string"},
{"name":"movieId","type":"string"},{"name":"minute","type":"int"},
{"name":"subtitles","type":"boolean","default":false}]}`
	RatingSchema = `{"type":"record","name":"MovieRatingEvent","fields":[
{"name":"time","type":"string"},{"name":"userId","type":"string"},
{"name":"movieId","type":"string"},{"name":"rating","type":"int"}]}`
	RecommendationSchema = `{"type":"record","name":"RecommendationRequest","fields":[
{"name":"time","type":"string"},{"name":"userId","type":"string"},
{"name":"server","type":"string"},{"name":"status","type":"int"},
{"name":"recommendations","type":["null","string"],"default":null},
{"name":"responseTime","type":"int"}]}`
)

// event is one generated event before it is written in some format.
type event struct {
	kind      string
	ts        string // the time as logged
	sec       int    // second of the day
	frac      int    // milliseconds, or -1 for none
	user      int
	movie     string
	minute    int
	rating    int
	server    string
	status    int
	recs      string // "" means null
	respMS    int
	subtitles bool
}

type generator struct {
	rng   *rand.Rand
	opts  Options
	truth *Truth
}

// Write generates the archive into dir (created if missing) and returns
// the ground truth, also written as dir/truth.json.
func Write(dir string, opts Options) (*Truth, error) {
	if opts.Events <= 0 {
		return nil, fmt.Errorf("events must be positive, got %d", opts.Events)
	}
	opts.KnownUsers = cmp.Or(opts.KnownUsers, 5000)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	g := &generator{
		rng:  rand.New(rand.NewPCG(opts.Seed, 0x64716175646974)),
		opts: opts,
		truth: &Truth{
			Date:      opts.Date.Format("2006-01-02"),
			Events:    map[string]int64{},
			Malformed: map[string]int64{},
		},
	}
	watch, ratings, recs := g.events()
	// Avro gets 60% of each type; the Kafka log the rest.
	split := func(evs []event) ([]event, []event) { n := len(evs) * 6 / 10; return evs[:n], evs[n:] }
	watchAvro, watchLog := split(watch)
	ratingAvro, ratingLog := split(ratings)
	recAvro, recLog := split(recs)
	v2 := len(watchAvro) * 3 / 10 // evolved-schema share of the Avro watch events
	for i := range watchAvro[len(watchAvro)-v2:] {
		watchAvro[len(watchAvro)-v2+i].subtitles = g.rng.IntN(3) == 0
	}
	g.truth.Faults.WatchEventsSubtitles = int64(v2)

	files := []struct {
		name, schema, codec string
		evs                 []event
	}{
		{"watch.avro", WatchSchema, "null", watchAvro[:len(watchAvro)-v2]},
		{"watch-subtitles.avro", WatchSchemaV2, "snappy", watchAvro[len(watchAvro)-v2:]},
		{"ratings.avro", RatingSchema, "deflate", ratingAvro},
		{"recommendations.avro", RecommendationSchema, "zstandard", recAvro},
	}
	for _, f := range files {
		if err := writeAvro(filepath.Join(dir, f.name), f.schema, f.codec, f.evs); err != nil {
			return nil, err
		}
		g.truth.Files = append(g.truth.Files, f.name)
	}
	logEvents := slices.Concat(watchLog, ratingLog, recLog)
	slices.SortStableFunc(logEvents, func(a, b event) int { return cmp.Compare(a.sec, b.sec) })
	if err := g.writeLog(filepath.Join(dir, "kafka.log.gz"), logEvents); err != nil {
		return nil, err
	}
	g.truth.Files = append(g.truth.Files, "kafka.log.gz")
	for _, e := range slices.Concat(watch, ratings, recs) {
		g.truth.Events[e.kind]++
	}
	b, err := json.MarshalIndent(g.truth, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "truth.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return g.truth, nil
}

// WriteUsers writes the reference CSV of known users: a user_id column
// with ids 1..n, and a signup_day column for realism.
func WriteUsers(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "user_id,signup_day")
	for id := 1; id <= n; id++ {
		fmt.Fprintf(w, "%d,%d\n", id, 1+id%365)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (g *generator) events() (watch, ratings, recs []event) {
	n := g.opts.Events
	nWatch, nRating := n*70/100, n*10/100
	nRec := n - nWatch - nRating
	for len(watch) < nWatch {
		// A viewing session: consecutive minutes of one movie.
		start := g.second()
		user, movie := g.user(), g.movie()
		first := g.rng.IntN(120)
		for m := 0; m < 1+g.rng.IntN(30) && len(watch) < nWatch; m++ {
			e := event{kind: rules.MovieWatchEvent, sec: min(start+60*m, 86399), frac: g.frac(), user: user, movie: movie, minute: first + m}
			if g.rng.IntN(200) == 0 {
				e.minute = -1 - g.rng.IntN(90)
				g.truth.Faults.NegativeMinute++
			}
			watch = append(watch, e)
		}
	}
	for range nRating {
		center := 4.0
		if g.opts.Shift {
			center = 1.5
		}
		e := event{kind: rules.MovieRatingEvent, sec: g.second(), frac: g.frac(), user: g.user(), movie: g.movie(), rating: int(math.Round(center + 0.9*g.rng.NormFloat64()))}
		e.rating = min(max(e.rating, 1), 5)
		if g.rng.IntN(50) == 0 {
			e.rating = []int{0, 6, 7, 10, -1, 55}[g.rng.IntN(6)]
			g.truth.Faults.RatingOutOfRange++
		}
		ratings = append(ratings, e)
	}
	servers := []string{"rec-a.internal:8082", "rec-b.internal:8082", "rec-c.internal:8083"}
	for range nRec {
		e := event{kind: rules.RecommendationRequest, sec: g.second(), frac: g.frac(), user: g.user(), server: servers[g.rng.IntN(len(servers))], status: 200,
			respMS: int(math.Exp(4 + 0.6*g.rng.NormFloat64()))}
		if g.opts.Shift {
			e.respMS *= 3
		}
		switch r := g.rng.IntN(100); {
		case r < 3:
			e.status = []int{500, 503, 0}[g.rng.IntN(3)]
			e.recs = []string{"java.net.SocketTimeoutException: Read timed out", "upstream error: model not loaded", "Connection refused"}[g.rng.IntN(3)]
			g.truth.Faults.StatusNot200++
		case r < 4:
			g.truth.Faults.NullRecommendations++
			g.truth.Faults.Status200++
		default:
			list := make([]string, 20)
			for i := range list {
				list[i] = g.movie()
			}
			e.recs = joinComma(list)
			g.truth.Faults.Status200++
		}
		recs = append(recs, e)
	}
	// Unknown users: 1% of all events, spread over the types.
	for _, evs := range [][]event{watch, ratings, recs} {
		for i := range evs {
			evs[i].ts = g.timeText(evs[i])
			if g.rng.IntN(100) == 0 {
				evs[i].user = g.opts.KnownUsers + 1 + g.rng.IntN(100000)
				g.truth.Faults.UnknownUser++
			}
		}
	}
	return watch, ratings, recs
}

// second draws a second of the day with a daily rhythm: quiet nights,
// busy evenings.
func (g *generator) second() int {
	for {
		s := g.rng.IntN(86400)
		hour := float64(s) / 3600
		w := 0.25 + 0.75*math.Pow(math.Sin(math.Pi*(hour-3)/24), 2)
		if g.rng.Float64() < w {
			return s
		}
	}
}

func (g *generator) frac() int {
	if g.rng.IntN(4) == 0 {
		return g.rng.IntN(1000)
	}
	return -1
}

func (g *generator) user() int { return 1 + g.rng.IntN(g.opts.KnownUsers) }

var titleWords = []string{"the", "green", "mile", "matrix", "up", "inception", "star", "wars", "night", "city",
	"lost", "river", "dark", "knight", "blue", "planet", "silent", "storm", "last", "dance", "old", "man", "sea", "winter"}

func (g *generator) movie() string {
	n := 1 + g.rng.IntN(3)
	s := ""
	for i := range n {
		if i > 0 {
			s += "+"
		}
		s += titleWords[g.rng.IntN(len(titleWords))]
	}
	return s + "+" + strconv.Itoa(1950+g.rng.IntN(75))
}

func joinComma(list []string) string {
	s := ""
	for i, m := range list {
		if i > 0 {
			s += ", "
		}
		s += m
	}
	return s
}

func (g *generator) timeText(e event) string {
	t := g.opts.Date.Add(time.Duration(e.sec) * time.Second)
	s := t.Format("2006-01-02T15:04:05")
	if e.frac >= 0 {
		s += fmt.Sprintf(".%03d", e.frac)
	}
	return s
}

func writeAvro(path, schema, codec string, evs []event) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := avro.NewWriter(f, schema, codec, 1000)
	if err != nil {
		f.Close()
		return err
	}
	for _, e := range evs {
		if err := w.Append(avroRecord(e, schema == WatchSchemaV2)); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func avroRecord(e event, v2 bool) map[string]any {
	rec := map[string]any{"time": e.ts, "userId": strconv.Itoa(e.user)}
	switch e.kind {
	case rules.MovieWatchEvent:
		rec["movieId"], rec["minute"] = e.movie, int32(e.minute)
		if v2 {
			rec["subtitles"] = e.subtitles
		}
	case rules.MovieRatingEvent:
		rec["movieId"], rec["rating"] = e.movie, int32(e.rating)
	case rules.RecommendationRequest:
		rec["server"], rec["status"], rec["responseTime"] = e.server, int32(e.status), int32(e.respMS)
		if e.recs == "" {
			rec["recommendations"] = nil
		} else {
			rec["recommendations"] = map[string]any{"string": e.recs}
		}
	}
	return rec
}

// writeLog writes the Kafka log, gzipped, with malformed lines of every
// kind interleaved.
func (g *generator) writeLog(path string, evs []event) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(f)
	w := bufio.NewWriter(zw)
	bad := g.malformed(len(evs))
	next := 0
	for i, e := range evs {
		for next < len(bad) && bad[next].at == i {
			w.WriteString(bad[next].line)
			w.WriteByte('\n')
			g.truth.Malformed[bad[next].reason]++
			next++
		}
		g.writeLine(w, e)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (g *generator) writeLine(w io.Writer, e event) {
	ts := e.ts
	switch e.kind {
	case rules.MovieWatchEvent:
		fmt.Fprintf(w, "%s,%d,GET /data/m/%s/%d.mpg\n", ts, e.user, e.movie, e.minute)
	case rules.MovieRatingEvent:
		fmt.Fprintf(w, "%s,%d,GET /rate/%s=%d\n", ts, e.user, e.movie, e.rating)
	case rules.RecommendationRequest:
		fmt.Fprintf(w, "%s,%d,recommendation request %s, status %d, result: %s, %d ms\n", ts, e.user, e.server, e.status, e.recs, e.respMS)
	}
}

type badLine struct {
	at           int
	reason, line string
}

// malformed returns malformed lines of every kind, each placed before the
// event at index at, sorted by placement.
func (g *generator) malformed(n int) []badLine {
	day := g.opts.Date.Format("2006-01-02")
	kinds := []struct{ reason, line string }{
		{"unknown_shape", day + "T10:00:00,42,POST /login"},
		{"unknown_shape", "connection reset by peer"},
		{"bad_time", day + "T25:61:00,42,GET /rate/up+2009=4"},
		{"bad_time", "19/03/2024 10:00,42,GET /data/m/up+2009/3.mpg"},
		{"bad_minute", day + "T10:00:00,42,GET /data/m/up+2009/three.mpg"},
		{"bad_rating", day + "T10:00:00,42,GET /rate/up+2009=five"},
		{"bad_status", day + "T10:00:00,42,recommendation request rec-a.internal:8082, status OK, result: up+2009, 12 ms"},
		{"bad_response_time", day + "T10:00:00,42,recommendation request rec-a.internal:8082, status 200, result: up+2009, fast ms"},
		{"invalid_text", day + "T10:00:00,42,GET /rate/up\xff\xfe+2009=4"},
		{"invalid_text", day + "T10:00:00,42,GET /data/m/up\x00+2009/3.mpg"},
	}
	per := 1 + n/20000
	var out []badLine
	for _, k := range kinds {
		for range per {
			out = append(out, badLine{at: g.rng.IntN(max(n, 1)), reason: k.reason, line: k.line})
		}
	}
	slices.SortStableFunc(out, func(a, b badLine) int { return cmp.Compare(a.at, b.at) })
	return out
}
