package audit_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/avro"
	"github.com/dqaudit/dqaudit/audit/generate"
	"github.com/dqaudit/dqaudit/audit/kafkalog"
	"github.com/dqaudit/dqaudit/rules"
)

// benchEvents is the size of the generated day: 500k events make 200k log
// lines and 147k records in watch.avro.
const benchEvents = 500_000

// BenchmarkScan runs the whole scan hot path, audit.Scan with the rules of
// config.example.yaml compiled against its reference set, over one input
// of a day written by generate.Write: each of its Avro files (one per
// codec), all of them at once, its gzipped Kafka log, and the same log as
// plain text. Reports are not written. Profile a case without the setup
// (generating the day) with
//
//	go test -run '^$' -bench 'BenchmarkScan/kafka-log$' -benchtime 40x -cpuprofile cpu.prof ./audit
//	go tool pprof -tagfocus 'scan=^kafka-log$' -relative_percentages -top audit.test cpu.prof
func BenchmarkScan(b *testing.B) {
	dir, day, _, lines := benchDay(b)

	tests := []struct {
		name   string
		format string
		path   string
		lines  int64 // events plus malformed lines a log must give; 0 for Avro
	}{
		{name: "avro-null", format: "avro", path: "watch.avro"},
		{name: "avro-snappy", format: "avro", path: "watch-subtitles.avro"},
		{name: "avro-deflate", format: "avro", path: "ratings.avro"},
		{name: "avro-zstandard", format: "avro", path: "recommendations.avro"},
		{name: "avro-day", format: "avro", path: "*.avro"},
		{name: "kafka-log-gz", format: "kafka-log", path: "kafka.log.gz", lines: lines},
		{name: "kafka-log", format: "kafka-log", path: "kafka.log", lines: lines},
	}
	for _, tc := range tests {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			// Relative paths of the example (its reference set) are
			// taken from the repository root, as dqaudit does.
			cfg, err := rules.Load("../config.example.yaml")
			if err != nil {
				b.Fatal(err)
			}
			cfg.Inputs = []rules.Input{{Name: tc.name, Format: tc.format, Paths: []string{filepath.Join(dir, tc.path)}}}
			plan, err := audit.NewPlan(ctx, cfg, day, "..")
			if err != nil {
				b.Fatal(err)
			}
			if len(plan.Files) == 0 || len(plan.Errors) > 0 {
				b.Fatalf("plan: %d files, errors %v", len(plan.Files), plan.Errors)
			}
			refs, err := audit.LoadReferences(ctx, cfg, "..", day, map[string]audit.Reader{"avro": avro.New()})
			if err != nil {
				b.Fatal(err)
			}
			book, err := rules.Compile(cfg, refs, day)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(plan.Bytes())
			b.ReportAllocs()
			var events int64
			// The label sets the scan apart from the setup in a CPU
			// profile: go tool pprof -tagfocus 'scan=^kafka-log$' ...
			pprof.Do(ctx, pprof.Labels("scan", tc.name), func(ctx context.Context) {
				for b.Loop() {
					// New readers each time, as each dqaudit run makes its own.
					res, err := audit.Scan(ctx, plan, book, audit.Options{
						Readers: map[string]audit.Reader{"avro": avro.New(), "kafka-log": kafkalog.New(kafkalog.Options{})},
					})
					if err != nil {
						b.Fatal(err)
					}
					if n := res.InputErrors(); n > 0 {
						b.Fatalf("%d input errors: %+v", n, res.Inputs)
					}
					n := res.TotalEvents()
					if n == 0 || (tc.lines > 0 && n+res.Malformed.Total != tc.lines) {
						b.Fatalf("%d events and %d malformed lines, want %d lines", n, res.Malformed.Total, tc.lines)
					}
					if checked := ruleChecked(res, "known-user"); checked != n {
						b.Fatalf("known-user checked %d of %d events", checked, n)
					}
					events += n
				}
			})
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// gunzip writes the plain text of the gzipped file src to dst and returns
// its number of lines.
func gunzip(b *testing.B, src, dst string) int64 {
	b.Helper()
	gz, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(zr); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return int64(bytes.Count(buf.Bytes(), []byte("\n")))
}

func ruleChecked(res *audit.Result, name string) int64 {
	for _, r := range res.Rules {
		if r.Name == name {
			return r.Checked
		}
	}
	return -1
}

// BenchmarkScanCost splits the cost of a line of the Kafka log on one
// goroutine: reading and parsing alone (a sink that counts), parsing and
// profiling (no rules), and the full audit (profile and the example's
// rules). The differences are what profiling and the rules cost a line.
//
//	go test -run '^$' -bench BenchmarkScanCost ./audit
//	go test -run '^$' -bench 'BenchmarkScanCost/parse$' -benchtime 60x -cpuprofile cpu.prof -o audit.test ./audit
//	go tool pprof -tagfocus 'cost=^parse$' -top audit.test cpu.prof
func BenchmarkScanCost(b *testing.B) {
	_, day, plain, lines := benchDay(b)
	data, err := os.ReadFile(plain)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("parse", func(b *testing.B) {
		r := kafkalog.New(kafkalog.Options{Workers: 1})
		var n int64
		pprof.Do(ctx, pprof.Labels("cost", "parse"), func(ctx context.Context) {
			for b.Loop() {
				sink := &countingSink{}
				if _, err := r.Read(ctx, bytes.NewReader(data), 0, func() audit.Sink { return sink }); err != nil {
					b.Fatal(err)
				}
				n += sink.n
			}
		})
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/line")
	})
	for _, tc := range []struct {
		name  string
		rules bool
	}{{"profile", false}, {"profile+rules", true}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg, err := rules.Load("../config.example.yaml")
			if err != nil {
				b.Fatal(err)
			}
			if !tc.rules {
				cfg.Rules = nil
			}
			cfg.Inputs = []rules.Input{{Name: "log", Format: "kafka-log", Paths: []string{plain}}}
			plan, err := audit.NewPlan(ctx, cfg, day, "..")
			if err != nil {
				b.Fatal(err)
			}
			refs, err := audit.LoadReferences(ctx, cfg, "..", day, nil)
			if err != nil {
				b.Fatal(err)
			}
			book, err := rules.Compile(cfg, refs, day)
			if err != nil {
				b.Fatal(err)
			}
			var n int64
			pprof.Do(ctx, pprof.Labels("cost", tc.name), func(ctx context.Context) {
				for b.Loop() {
					res, err := audit.Scan(ctx, plan, book, audit.Options{
						Workers: 1,
						Readers: map[string]audit.Reader{"kafka-log": kafkalog.New(kafkalog.Options{Workers: 1})},
					})
					if err != nil {
						b.Fatal(err)
					}
					if got := res.TotalEvents() + res.Malformed.Total; got != lines {
						b.Fatalf("%d lines, want %d", got, lines)
					}
					n += lines
				}
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/line")
		})
	}
}

// benchDay generates the benchmarks' day in a temporary directory and
// unpacks its Kafka log to plain text; lines is the log's line count.
func benchDay(b *testing.B) (dir string, day time.Time, plain string, lines int64) {
	b.Helper()
	dir = b.TempDir()
	day = time.Date(2024, 3, 19, 0, 0, 0, 0, time.UTC)
	if _, err := generate.Write(dir, generate.Options{Date: day, Events: benchEvents, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	plain = filepath.Join(dir, "kafka.log")
	return dir, day, plain, gunzip(b, filepath.Join(dir, "kafka.log.gz"), plain)
}

// countingSink counts the lines a reader hands over.
type countingSink struct{ n int64 }

func (s *countingSink) Event(*audit.Event)                       { s.n++ }
func (s *countingSink) Malformed(audit.Position, string, []byte) { s.n++ }
