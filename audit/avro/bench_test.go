package avro

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/dqaudit/dqaudit/audit"
)

const benchRecords = 200_000

var benchFiles struct {
	sync.Mutex
	m map[string][]byte
}

// benchFile returns an in-memory file of benchRecords MovieWatchEvents,
// 1000 to a block (about 43 KB uncompressed, near Java's default).
func benchFile(b *testing.B, codec string) []byte {
	benchFiles.Lock()
	defer benchFiles.Unlock()
	if f, ok := benchFiles.m[codec]; ok {
		return f
	}
	if benchFiles.m == nil {
		benchFiles.m = map[string][]byte{}
	}
	f := writeFile(b, watchSchema, codec, 1000, watchRecords(benchRecords))
	benchFiles.m[codec] = f
	return f
}

// countSink does the least a real sink does: look at every event.
type countSink struct {
	n, minutes int64
}

func (s *countSink) Event(e *audit.Event)                     { s.n++; s.minutes += e.Values[3].Int }
func (s *countSink) Malformed(audit.Position, string, []byte) {}

func BenchmarkRead(b *testing.B) {
	for _, codec := range allCodecs {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", codec, workers), func(b *testing.B) {
				file := benchFile(b, codec)
				r := &Reader{Workers: workers}
				b.SetBytes(int64(len(file)))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					var sinks []*countSink
					_, err := r.Read(context.Background(), bytes.NewReader(file), 0, func() audit.Sink {
						s := &countSink{}
						sinks = append(sinks, s)
						return s
					})
					if err != nil {
						b.Fatal(err)
					}
					var n int64
					for _, s := range sinks {
						n += s.n
					}
					if n != benchRecords {
						b.Fatalf("%d events", n)
					}
				}
				b.ReportMetric(float64(benchRecords)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkGoavroOCFReader is the baseline: goavro's own OCF reader in a
// plain Scan/Read loop on one goroutine.
func BenchmarkGoavroOCFReader(b *testing.B) {
	for _, codec := range []string{CodecNull, CodecDeflate, CodecSnappy} {
		b.Run(codec, func(b *testing.B) {
			file := benchFile(b, codec)
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r, err := goavro.NewOCFReader(bytes.NewReader(file))
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for r.Scan() {
					if _, err := r.Read(); err != nil {
						b.Fatal(err)
					}
					n++
				}
				if r.Err() != nil || n != benchRecords {
					b.Fatalf("%d records, %v", n, r.Err())
				}
			}
			b.ReportMetric(float64(benchRecords)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
