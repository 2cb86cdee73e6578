package audit_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/avro"
	"github.com/dqaudit/dqaudit/audit/kafkalog"
	"github.com/dqaudit/dqaudit/rules"
)

// TestResultIsTheSameForAnySplit: a day's result does not hang on how its
// files are split: between workers and decoders, among the sinks that a
// worker hands from file to file, into shards merged in any order (from
// partial files or not), or by a Gunzip program whose output is refused.
// Each day is random, from a fixed seed: small Avro files of several
// writer schemas and codecs and small Kafka logs, with NaN and
// infinities, nulls, few strings, text that is not UTF-8 and times of
// other days, so that a file may hold values of one kind only.
func TestResultIsTheSameForAnySplit(t *testing.T) {
	gz, _ := exec.LookPath("gzip")
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x5917))
			plan, book := randomDay(t, rng)
			want := resultText(t, scanSplit(t, plan, book, [][]int{all(plan)}, 1, 1, nil, false))
			for trial := range 8 {
				workers, decoders := 1+rng.IntN(3), 1+rng.IntN(4)
				parts := make([][]int, 1+rng.IntN(4))
				for i := range plan.Files {
					j := rng.IntN(len(parts))
					parts[j] = append(parts[j], i)
				}
				var g *audit.Gunzip
				if gz != "" && rng.IntN(2) == 0 {
					g = &audit.Gunzip{Path: gz, Args: []string{"-dc"}}
				}
				encode := rng.IntN(2) == 0
				res := scanSplit(t, plan, book, parts, workers, decoders, g, encode)
				if got := resultText(t, res); got != want {
					t.Fatalf("trial %d: %d parts (encoded %v), %d workers, %d decoders, gunzip %v: the result differs from one worker's\n%s",
						trial, len(parts), encode, workers, decoders, g != nil, firstDifference(got, want))
				}
			}
		})
	}
}

func all(plan *audit.Plan) []int {
	idx := make([]int, len(plan.Files))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// scanSplit scans each part of the plan's files on its own, in random
// order, and merges the parts; encode sends each through a partial file.
func scanSplit(t *testing.T, plan *audit.Plan, book *rules.Book, parts [][]int, workers, decoders int, g *audit.Gunzip, encode bool) *audit.Result {
	t.Helper()
	ctx := context.Background()
	opts := audit.Options{
		Workers:          workers,
		Decoders:         workers * decoders,
		RuleSamples:      3,
		MalformedSamples: 3,
		Gunzip:           g,
		Readers: map[string]audit.Reader{
			"avro":      &avro.Reader{Workers: decoders},
			"kafka-log": kafkalog.New(kafkalog.Options{Workers: decoders, ChunkBytes: 64}),
		},
	}
	var total *audit.Part
	for _, only := range parts {
		p, err := audit.ScanPart(ctx, plan, book, opts, only)
		if err != nil {
			t.Fatal(err)
		}
		if encode {
			var buf bytes.Buffer
			if err := p.Encode(ctx, &buf, audit.PartialMeta{}); err != nil {
				t.Fatal(err)
			}
			if p, _, err = audit.DecodePart(&buf, plan, book, opts, nil); err != nil {
				t.Fatalf("decode a partial: %v", err)
			}
		}
		if total == nil {
			total = p
		} else if err := total.Merge(p); err != nil {
			t.Fatal(err)
		}
	}
	res, err := total.Result(ctx, plan, book)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// resultText is the result as JSON, without what may vary from run to
// run: times, the worker count and the files read again.
func resultText(t *testing.T, r *audit.Result) string {
	t.Helper()
	r.StartedAt, r.Duration, r.Workers, r.GunzipRereads = time.Time{}, 0, 0, nil
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-300)
	return "got:  …" + a[lo:min(len(a), i+300)] + "\nwant: …" + b[lo:min(len(b), i+300)]
}

// probeFields are the fields of the Probe records, of which each writer
// schema takes some, in an order of its own.
var probeFields = []string{
	`{"name":"time","type":"string"}`,
	`{"name":"userId","type":"string"}`,
	`{"name":"n","type":["null","long"]}`,
	`{"name":"x","type":["null","double"]}`,
	`{"name":"s","type":"string"}`,
	`{"name":"ok","type":["null","boolean"]}`,
}

// randomDay writes a random day of small files and plans it.
func randomDay(t *testing.T, rng *rand.Rand) (*audit.Plan, *rules.Book) {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ids := []string{"0", "7", "007", "42", "u1", "1000000000000000", "999999999999999", "-1", "", "caf\xe9"}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	when := func() string {
		day := "2024-03-19"
		switch rng.IntN(8) {
		case 0:
			day = "2024-03-18"
		case 1:
			return "late"
		}
		return fmt.Sprintf("%sT%02d:%02d:%02d", day, rng.IntN(24), rng.IntN(60), rng.IntN(60))
	}
	var schemas []string
	for v := range 5 {
		fs := append([]string(nil), probeFields...)
		rng.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
		fs = append(fs, fmt.Sprintf(`{"name":"v%d","type":"int"}`, v)) // a shape of its own
		schemas = append(schemas, `{"type":"record","name":"Probe","fields":[`+strings.Join(fs, ",")+`]}`)
	}
	codecs := []string{avro.CodecNull, avro.CodecDeflate, avro.CodecSnappy, avro.CodecZstandard}
	floats := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1.5, 3, 1e300}
	for f := range 20 + rng.IntN(20) {
		v := rng.IntN(len(schemas))
		var buf bytes.Buffer
		w, err := avro.NewWriter(&buf, schemas[v], codecs[rng.IntN(len(codecs))], 1+rng.IntN(3))
		if err != nil {
			t.Fatal(err)
		}
		onlyNonFinite := rng.IntN(3) == 0
		strs := []string{"a", "b", "c", "d\xff", "e"}[:1+rng.IntN(5)]
		for range rng.IntN(6) {
			rec := map[string]any{"time": when(), "userId": pick(ids), "s": pick(strs), fmt.Sprintf("v%d", v): int32(rng.IntN(3)),
				"n": nil, "x": nil, "ok": nil}
			if rng.IntN(5) > 0 {
				rec["n"] = map[string]any{"long": []int64{-1, 0, 3, 7, 200, 1 << 40}[rng.IntN(6)]}
			}
			if rng.IntN(4) > 0 {
				x := floats[rng.IntN(len(floats))]
				if onlyNonFinite {
					x = floats[rng.IntN(3)]
				}
				rec["x"] = map[string]any{"double": x}
			}
			if rng.IntN(3) > 0 {
				rec["ok"] = map[string]any{"boolean": rng.IntN(2) == 0}
			}
			if err := w.Append(rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		write(fmt.Sprintf("p%02d.avro", f), buf.Bytes())
	}
	logLines := func(n int) []byte {
		var b bytes.Buffer
		for range n {
			user := pick(ids)
			switch rng.IntN(4) {
			case 0:
				fmt.Fprintf(&b, "%s,%s,GET /data/m/movie+%d/%d.mpg\n", when(), user, rng.IntN(3), rng.IntN(5)-1)
			case 1:
				fmt.Fprintf(&b, "%s,%s,GET /rate/movie+%d=%d\n", when(), user, rng.IntN(3), rng.IntN(7))
			case 2:
				fmt.Fprintf(&b, "%s,%s,recommendation request rec-%d, status %d, result: %s, %d ms\n",
					when(), user, rng.IntN(2), []int{200, 200, 500}[rng.IntN(3)], []string{"", "m+1, m+2"}[rng.IntN(2)], rng.IntN(30))
			default:
				fmt.Fprintf(&b, "not a line \xfe%d\n", rng.IntN(3))
			}
		}
		return b.Bytes()
	}
	gzipped := func(parts ...[]byte) []byte {
		var b bytes.Buffer
		for _, p := range parts { // one member each
			zw := gzip.NewWriter(&b)
			if _, err := zw.Write(p); err != nil {
				t.Fatal(err)
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
		}
		return b.Bytes()
	}
	for f := range 8 + rng.IntN(8) {
		write(fmt.Sprintf("k%02d.log", f), logLines(rng.IntN(7)))
	}
	write("one.log.gz", gzipped(logLines(20)))
	write("two.log.gz", gzipped(logLines(10), logLines(10))) // refused from a Gunzip program: read again
	write("ids.txt", []byte("0\n7\n007\n42\nu1\n1000000000000000\n-1\n200\n"))
	write("c.yaml", []byte(`version: 1
inputs:
  - {name: avro, format: avro, paths: ["*.avro"]}
  - {name: log, format: kafka-log, paths: ["*.log", "*.log.gz"]}
references:
  known: {path: ids.txt}
events: [Probe]
rules:
  - {name: x-range, event: Probe, field: x, between: [0, 2]}
  - {name: x-nulls, event: Probe, field: x, max_null_ratio: 0.5}
  - {name: n-in, event: Probe, field: n, in: [0, 3, 7], where: "x != nil"}
  - {name: n-not-in, event: Probe, field: n, not_in: [200], where: "n >= 0"}
  - {name: n-known, event: Probe, field: n, in_reference: known, where: "n != 3"}
  - {name: s-in, event: Probe, field: s, in: [a, b], where: "n == 3"}
  - {name: s-pattern, event: Probe, field: s, pattern: "[a-c]"}
  - {name: ok-set, event: Probe, field: ok, not_null: true, where: "n < 7"}
  - {name: user-known, event: "*", field: userId, in_reference: known, severity: warn}
  - {name: users, event: "*", unique: [userId], severity: warn}
  - {name: pairs, event: Probe, unique: [s, n]}
  - {name: on-day, event: "*", field: time, on_day: true, severity: warn}
  - {name: minute, event: MovieWatchEvent, field: minute, min: 0}
  - {name: ok-status, event: RecommendationRequest, field: status, in: [200], where: "responseTime > 10"}
  - {name: expr, event: Probe, expr: "n != 7 || x == nil"}
`))
	cfg, err := rules.Load(filepath.Join(dir, "c.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	day := time.Date(2024, 3, 19, 0, 0, 0, 0, time.UTC)
	plan, err := audit.NewPlan(ctx, cfg, day, dir)
	if err != nil || len(plan.Errors) > 0 {
		t.Fatalf("plan: %v %v", err, plan.Errors)
	}
	refs, err := audit.LoadReferences(ctx, cfg, dir, day, nil)
	if err != nil {
		t.Fatal(err)
	}
	book, err := rules.Compile(cfg, refs, day)
	if err != nil {
		t.Fatal(err)
	}
	return plan, book
}
