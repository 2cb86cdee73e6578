package avro

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
)

// A day of thousands of small files must not compile the same writer
// schema, nor make block decoders, for each file: at the scan's GOGC of
// 400 that garbage set peak RSS (10,000 files of 20 records: 171 MB,
// against 76 MB for 10 GB in 116 files). Files of one schema share one
// Shape, which the scan's profiles and rules plan once.
func TestSmallFilesShareSchemaAndDecoders(t *testing.T) {
	const schema = `{"type":"record","name":"MovieWatchEvent","fields":[
{"name":"time","type":"string"},{"name":"userId","type":"string"},
{"name":"movieId","type":"string"},{"name":"minute","type":"int"}]}`
	var recs []map[string]any
	for i := range 20 {
		recs = append(recs, map[string]any{"time": "2024-03-19T10:00:00", "userId": fmt.Sprint(i), "movieId": "m", "minute": int32(i % 5)})
	}
	for _, codec := range []string{CodecNull, CodecDeflate, CodecSnappy, CodecZstandard} {
		t.Run(codec, func(t *testing.T) {
			data := writeFile(t, schema, codec, 0, recs)
			r := &Reader{Workers: 2}
			first, _ := mustRead(t, r, data)
			const files = 50
			var sinks []*countSink
			newSink := func() audit.Sink {
				s := &countSink{}
				sinks = append(sinks, s)
				return s
			}
			alloc := allocated(func() {
				for range files {
					info, err := r.Read(context.Background(), bytes.NewReader(data), 1, newSink)
					if err != nil {
						t.Fatal(err)
					}
					if info.Schemas[0].Shape != first.Schemas[0].Shape {
						t.Fatal("a file of the same writer schema has a shape of its own")
					}
				}
			})
			var n int64
			for _, s := range sinks {
				n += s.n
			}
			if n != int64(files*len(recs)) {
				t.Fatalf("%d events, want %d", n, files*len(recs))
			}
			if raceEnabled {
				return // the race detector drops pooled decoders at random
			}
			t.Logf("%d bytes a file", alloc/files)
			if limit := uint64(8 << 10); alloc/files > limit {
				t.Errorf("a file of %d records cost %d KiB, want at most %d KiB", len(recs), alloc/files>>10, limit>>10)
			}
		})
	}
}
