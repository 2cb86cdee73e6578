package rules

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchEvents returns a day's mix of the three built-in event types: half
// watch events, a quarter ratings, a quarter recommendation requests.
// Users are u0 to u1499, of whom benchBook knows u0 to u999.
func benchEvents() []Event {
	return benchEventsOf("u%d", func(i int) int { return i % 4 })
}

// benchLogEvents returns events in the mix of the generated Kafka log:
// 70% watch events, 10% ratings, 20% recommendation requests, with
// numeric user ids 0 to 1499, as the log writes them.
func benchLogEvents() []Event {
	return benchEventsOf("%d", func(i int) int {
		switch i % 10 {
		case 7:
			return 2
		case 8, 9:
			return 3
		}
		return 0
	})
}

// benchEventsOf makes 4096 events whose user ids are written with
// format, and whose type is decided by typ: 0 and 1 watch, 2 rating, 3
// recommendation request.
func benchEventsOf(format string, typ func(i int) int) []Event {
	var events []Event
	for i := 0; i < 4096; i++ {
		user := Str(fmt.Sprintf(format, i%1500)) // a few unknown users
		switch typ(i) {
		case 0, 1:
			events = append(events, event(watch, "time", Str("2024-05-01T10:00:00"), "userId", user,
				"movieId", Str("the+matrix+1999"), "minute", Int(int64(i%120-1))))
		case 2:
			events = append(events, event(rating, "time", Str("2024-05-01T10:00:00"), "userId", user,
				"movieId", Str("the+matrix+1999"), "rating", Int(int64(i%6))))
		case 3:
			status := Int(200)
			recs := Str("m1,m2,m3")
			if i%20 == 3 {
				status, recs = Int(500), Null()
			}
			events = append(events, event(reco, "time", Str("2024-05-01T10:00:00"), "userId", user,
				"server", Str("s1"), "status", status, "recommendations", recs, "responseTime", Int(int64(i%300))))
		}
	}
	return events
}

func benchBook(b *testing.B, path string) *Book {
	cfg, err := Load(path)
	if err != nil {
		b.Fatal(err)
	}
	sb := NewSetBuilder(2000)
	for i := 0; i < 1000; i++ {
		sb.Add(fmt.Sprintf("u%d", i))
		sb.Add(fmt.Sprint(i))
	}
	bk, err := Compile(cfg, map[string]Set{"known_users": sb.Set()}, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	return bk
}

// runEval runs bk's checks over events as a scan does, with Run.
func runEval(b *testing.B, bk *Book, events []Event) {
	ev := bk.NewEvaluator()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		n += len(ev.Run(events[i&(len(events)-1)]))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n)/float64(b.N), "failures/event")
}

// BenchmarkEval runs the README example's five rules (between, min,
// in_reference on "*", in, and not_null with a where condition).
func BenchmarkEval(b *testing.B) {
	runEval(b, benchBook(b, "testdata/valid/example.yaml"), benchEvents())
}

// BenchmarkEvalLog is BenchmarkEval on the mix of events and the numeric
// user ids of the generated Kafka log.
func BenchmarkEvalLog(b *testing.B) {
	runEval(b, benchBook(b, "testdata/valid/example.yaml"), benchLogEvents())
}

// BenchmarkEvalExpr adds an expr rule to the example, to show what an
// expression costs beside the simple kinds.
func BenchmarkEvalExpr(b *testing.B) {
	data, err := os.ReadFile("testdata/valid/example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	data = bytes.Replace(data, []byte("drift:"), []byte(`  - name: fast-enough
    event: RecommendationRequest
    expr: responseTime < 250 || server == "slow"
drift:`), 1)
	path := filepath.Join(b.TempDir(), "c.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	runEval(b, benchBook(b, path), benchEvents())
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/valid/all-kinds.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(bytes.NewReader(data), "c.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}
