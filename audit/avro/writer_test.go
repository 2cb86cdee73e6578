package avro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"
)

var allCodecs = []string{CodecNull, CodecDeflate, CodecSnappy, CodecZstandard}

func TestWriterRoundTrip(t *testing.T) {
	records := watchRecords(1234)
	for _, codec := range allCodecs {
		t.Run(codec, func(t *testing.T) {
			file := writeFile(t, watchSchema, codec, 100, records)
			if again := writeFile(t, watchSchema, codec, 100, records); !bytes.Equal(file, again) {
				t.Error("the same records made different bytes")
			}
			_, spans := layout(t, file)
			if len(spans) != 13 || spans[12].count != 34 {
				t.Fatalf("%d blocks, last of %d records", len(spans), spans[len(spans)-1].count)
			}
			_, recs := mustRead(t, &Reader{Workers: 2}, file)
			if len(recs) != len(records) {
				t.Fatalf("%d events", len(recs))
			}
			for i, r := range recs {
				if r.Pos.Block != int64(i/100) || r.Pos.Record != int64(i%100) {
					t.Fatalf("event %d at %+v", i, r.Pos)
				}
				in := records[i]
				want := fmt.Sprintf("string:%s string:%s string:%s int:%d", in["time"], in["userId"], in["movieId"], in["minute"])
				if got := strings.TrimSpace(strings.SplitN(r.String(), "MovieWatchEvent", 2)[1]); got != want {
					t.Fatalf("event %d: %s, want %s", i, got, want)
				}
			}
		})
	}
}

// TestWriterReadByGoavro has goavro's own OCF reader read the codecs it
// knows.
func TestWriterReadByGoavro(t *testing.T) {
	records := watchRecords(250)
	for _, codec := range []string{CodecNull, CodecDeflate, CodecSnappy} {
		t.Run(codec, func(t *testing.T) {
			file := writeFile(t, watchSchema, codec, 100, records)
			r, err := goavro.NewOCFReader(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for r.Scan() {
				d, err := r.Read()
				if err != nil {
					t.Fatal(err)
				}
				if got := d.(map[string]any)["userId"]; got != records[n]["userId"] {
					t.Fatalf("record %d: userId %v", n, got)
				}
				n++
			}
			if r.Err() != nil || n != len(records) {
				t.Fatalf("%d records, %v", n, r.Err())
			}
		})
	}
}

// TestWriterReadByPython has Python's avro read every codec, zstandard
// included. It skips where python3-avro and its codec modules are missing.
func TestWriterReadByPython(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import avro.datafile, snappy, zstandard").Run(); err != nil {
		t.Skipf("python3 with avro, snappy and zstandard: %v", err)
	}
	const script = `
import avro.datafile, avro.io, json, sys
with open(sys.argv[1], "rb") as f:
    r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
    recs = list(r)
    print(json.dumps({"codec": r.meta["avro.codec"].decode(), "n": len(recs), "last": recs[-1]}, sort_keys=True))
`
	records := watchRecords(321)
	for _, codec := range allCodecs {
		t.Run(codec, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), codec+".avro")
			if err := os.WriteFile(path, writeFile(t, watchSchema, codec, 50, records), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(py, "-c", script, path).CombinedOutput()
			if err != nil {
				t.Fatalf("python: %v\n%s", err, out)
			}
			var got struct {
				Codec string
				N     int
				Last  map[string]any
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			last := records[len(records)-1]
			if got.Codec != codec || got.N != len(records) || got.Last["userId"] != last["userId"] ||
				got.Last["minute"] != float64(last["minute"].(int32)) {
				t.Fatalf("python read %+v", got)
			}
		})
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	if _, err := NewWriter(&bytes.Buffer{}, watchSchema, "lz4", 10); err == nil || !strings.Contains(err.Error(), "null, deflate, snappy or zstandard") {
		t.Errorf("unknown codec: %v", err)
	}
	if _, err := NewWriter(&bytes.Buffer{}, `{"type":"record"}`, CodecNull, 10); err == nil {
		t.Error("bad schema accepted")
	}
	if _, err := NewWriter(&failWriter{}, watchSchema, CodecNull, 10); err == nil {
		t.Error("header write error lost")
	}

	w, err := NewWriter(&failWriter{after: 1}, watchSchema, CodecSnappy, 2)
	if err != nil {
		t.Fatal(err)
	}
	recs := watchRecords(3)
	if err := w.Append(map[string]any{"time": 1}); err == nil {
		t.Error("bad record accepted")
	}
	if err := w.Append(recs[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(recs[1]); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("block write error: %v", err)
	}
	if err := w.Append(recs[2]); err == nil {
		t.Error("append after a write error")
	}
	if err := w.Close(); err == nil {
		t.Error("close after a write error")
	}

	var buf bytes.Buffer
	w, err = NewWriter(&buf, watchSchema, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(recs[0]); err == nil {
		t.Error("append after close")
	}
	h, err := readHeader(newCountingReader(&buf), 1<<20)
	if err != nil || h.codec != CodecNull {
		t.Fatalf("header %+v, %v", h, err)
	}
}
