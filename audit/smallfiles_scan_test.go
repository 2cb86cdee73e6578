package audit_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/avro"
	"github.com/dqaudit/dqaudit/audit/generate"
	"github.com/dqaudit/dqaudit/audit/kafkalog"
	"github.com/dqaudit/dqaudit/rules"
)

// smallFile is how many events each file of smallDay holds.
const smallFile = 20

// smallDay writes files plain Kafka logs (kafka/NNNN.log) and files Avro
// files (avro/NNNN.avro, the generated schemas and codecs in turn) of
// smallFile events each into dir.
func smallDay(t testing.TB, dir string, files int) {
	t.Helper()
	for _, sub := range []string{"kafka", "avro"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	kinds := []struct{ schema, codec string }{
		{generate.WatchSchema, avro.CodecNull},
		{generate.WatchSchemaV2, avro.CodecSnappy},
		{generate.RatingSchema, avro.CodecDeflate},
		{generate.RecommendationSchema, avro.CodecZstandard},
	}
	for i := range files {
		var log strings.Builder
		for j := range smallFile {
			ts, user, movie := fmt.Sprintf("2024-03-19T%02d:%02d:00", j, i%60), 1+(i*7+j)%6000, fmt.Sprintf("movie+%d", j%9)
			switch j % 3 {
			case 0:
				fmt.Fprintf(&log, "%s,%d,GET /data/m/%s/%d.mpg\n", ts, user, movie, j-1)
			case 1:
				fmt.Fprintf(&log, "%s,%d,GET /rate/%s=%d\n", ts, user, movie, j%7)
			default:
				fmt.Fprintf(&log, "%s,%d,recommendation request rec-a:8082, status %d, result: %s, %d ms\n", ts, user, 200+j%2*300, movie, 10+j)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "kafka", fmt.Sprintf("%04d.log", i)), []byte(log.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		k := kinds[i%len(kinds)]
		f, err := os.Create(filepath.Join(dir, "avro", fmt.Sprintf("%04d.avro", i)))
		if err != nil {
			t.Fatal(err)
		}
		w, err := avro.NewWriter(f, k.schema, k.codec, 0)
		if err != nil {
			t.Fatal(err)
		}
		for j := range smallFile {
			rec := map[string]any{"time": fmt.Sprintf("2024-03-19T%02d:%02d:00", j, i%60), "userId": fmt.Sprint(1 + (i*7+j)%6000)}
			switch k.schema {
			case generate.RatingSchema:
				rec["movieId"], rec["rating"] = fmt.Sprintf("movie+%d", j%9), int32(j%7)
			case generate.RecommendationSchema:
				rec["server"], rec["status"], rec["responseTime"] = "rec-a:8082", int32(200+j%2*300), int32(10+j)
				rec["recommendations"] = map[string]any{"string": "movie+1"}
				if j%4 == 0 {
					rec["recommendations"] = nil
				}
			default:
				rec["movieId"], rec["minute"] = fmt.Sprintf("movie+%d", j%9), int32(j-1)
				if k.schema == generate.WatchSchemaV2 {
					rec["subtitles"] = j%2 == 0
				}
			}
			if err := w.Append(rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestScanOfSmallFilesAllocatesLittlePerFile: a day of thousands of small
// files must not cost each file an accumulator (profile, rule evaluator,
// samples), a compiled writer schema or a block decoder. At the scan's
// GOGC of 400 that garbage set peak RSS: 10,000 files of 20 events peaked
// at 112 MB (Kafka logs) and 151 MB (Avro), against 82 MB for 10 GB in
// 38 files (docs/bench-smallfiles.sh). What a file costs is measured as
// the difference between scans of many files and of a few, so that what
// a scan costs once drops out.
func TestScanOfSmallFilesAllocatesLittlePerFile(t *testing.T) {
	if audit.RaceEnabled {
		t.Skip("the race detector drops pooled decoders at random")
	}
	const few, many = 40, 240
	defer debug.SetGCPercent(debug.SetGCPercent(400)) // as dqaudit runs
	dir := t.TempDir()
	smallDay(t, dir, many)
	ctx := context.Background()
	for _, tc := range []struct {
		format, glob string
		limit        uint64 // bytes per file
	}{
		// Before: 67 KiB a Kafka log, 93 KiB an Avro file. What remains
		// is the file's own: opening it, its result, and the strings of
		// its Avro records.
		{rules.FormatKafkaLog, "kafka/*.log", 16 << 10},
		{rules.FormatAvro, "avro/*.avro", 24 << 10},
	} {
		t.Run(tc.format, func(t *testing.T) {
			cfg, err := rules.Load("../config.example.yaml")
			if err != nil {
				t.Fatal(err)
			}
			cfg.Inputs = []rules.Input{{Name: "small", Format: tc.format, Paths: []string{filepath.Join(dir, tc.glob)}}}
			day := time.Date(2024, 3, 19, 0, 0, 0, 0, time.UTC)
			all, err := audit.NewPlan(ctx, cfg, day, "..")
			if err != nil || len(all.Files) != many {
				t.Fatalf("plan: %v, %d files", err, len(all.Files))
			}
			refs, err := audit.LoadReferences(ctx, cfg, "..", day, nil)
			if err != nil {
				t.Fatal(err)
			}
			book, err := rules.Compile(cfg, refs, day)
			if err != nil {
				t.Fatal(err)
			}
			scan := func(files int) uint64 {
				plan := *all
				plan.Files = all.Files[:files]
				// The readers dqaudit makes for --workers 2 and many files.
				opts := audit.Options{Workers: 2, Decoders: 2, RuleSamples: 5, MalformedSamples: 5, Readers: map[string]audit.Reader{
					rules.FormatAvro:     &avro.Reader{Workers: 1},
					rules.FormatKafkaLog: kafkalog.New(kafkalog.Options{Workers: 1}),
				}}
				var res *audit.Result
				got := audit.Allocated(func() {
					if res, err = audit.Scan(ctx, &plan, book, opts); err != nil {
						t.Fatal(err)
					}
				})
				for _, fr := range res.Inputs {
					if fr.Err != "" || fr.Events+fr.Malformed != smallFile {
						t.Fatalf("%s: %d events, %d malformed, error %q; want %d lines", fr.Path, fr.Events, fr.Malformed, fr.Err, smallFile)
					}
				}
				return got
			}
			// The least of three tries: a collection during a scan
			// empties the pools, which then fill again.
			scan(few)
			perFile := uint64(math.MaxUint64)
			for range 3 {
				a, b := scan(few), scan(many)
				perFile = min(perFile, (b-min(a, b))/(many-few))
			}
			t.Logf("%d bytes a file", perFile)
			if perFile > tc.limit {
				t.Errorf("a small file cost %d KiB, want at most %d KiB", perFile>>10, tc.limit>>10)
			}
		})
	}
}
