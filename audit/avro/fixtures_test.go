package avro

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

// The fixtures under testdata/ were written by other Avro implementations
// (see testdata/gen/README.md): python-* by Python's avro, avroc-* by
// Avro C's avromod, avsc-* by Node's avsc. The records they hold are in
// testdata/gen/data/<dataset>.jsonl.

func loadJSONL(t *testing.T, dataset string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "gen", "data", dataset+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// expectValues computes the values a JSON record must decode to.
func expectValues(t *testing.T, fields []rules.Field, m map[string]any) []rules.Value {
	t.Helper()
	out := make([]rules.Value, len(fields))
	for i, f := range fields {
		var v any = m
		for _, part := range strings.Split(f.Name, ".") {
			mm, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = mm[part]
		}
		switch x := v.(type) {
		case nil:
		case string:
			out[i] = rules.Str(x)
		case bool:
			out[i] = rules.Bool(x)
		case json.Number:
			switch {
			case f.Type == "float":
				fl, _ := x.Float64()
				out[i] = rules.Float(widen(float32(fl))) // see TestFloatIsTheDecimalWritten
			case f.Kind == rules.KindFloat:
				fl, _ := x.Float64()
				out[i] = rules.Float(fl)
			default:
				n, err := x.Int64()
				if err != nil {
					t.Fatalf("field %s: %v", f.Name, err)
				}
				out[i] = rules.Int(n)
			}
		default: // arrays and maps: compact JSON, sorted keys
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(x); err != nil {
				t.Fatal(err)
			}
			out[i] = rules.Str(strings.TrimSuffix(b.String(), "\n"))
		}
	}
	return out
}

func fixtureFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.avro"))
	if err != nil || len(files) < 20 {
		t.Fatalf("fixtures: %d files, %v", len(files), err)
	}
	return files
}

// fixtureParts splits "python-watch-deflate.avro".
func fixtureParts(path string) (writer, dataset, codec string) {
	p := strings.Split(strings.TrimSuffix(filepath.Base(path), ".avro"), "-")
	return p[0], p[1], p[2]
}

var fixtureEvents = map[string]string{
	"watch": "MovieWatchEvent", "watchv2": "MovieWatchEvent", "rating": "MovieRatingEvent",
	"request": "RecommendationRequest", "session": "PlaybackSession",
}

func TestFixtures(t *testing.T) {
	var prints map[string]struct{ Canonical, Fingerprint string }
	b, err := os.ReadFile(filepath.Join("testdata", "gen", "data", "fingerprints.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &prints); err != nil {
		t.Fatal(err)
	}
	for _, path := range fixtureFiles(t) {
		writer, dataset, codec := fixtureParts(path)
		if codec == "lzma" {
			continue // TestFixtureUnsupportedCodec
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := loadJSONL(t, dataset)
			h, err := readHeader(newCountingReader(bytes.NewReader(data)), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			root, err := parseSchema(h.schema)
			if err != nil {
				t.Fatal(err)
			}
			if got := canonical(root); got != prints[dataset].Canonical {
				t.Errorf("canonical form\n got %s\nwant %s (Python's)", got, prints[dataset].Canonical)
			}
			for _, workers := range []int{1, 3} {
				info, recs := mustRead(t, &Reader{Workers: workers}, data)
				if len(info.Schemas) != 1 {
					t.Fatalf("%d schemas", len(info.Schemas))
				}
				ws := info.Schemas[0]
				if ws.Event != fixtureEvents[dataset] || ws.Shape.Event() != ws.Event {
					t.Errorf("event %q, shape %q, want %q", ws.Event, ws.Shape.Event(), fixtureEvents[dataset])
				}
				if ws.Fingerprint != prints[dataset].Fingerprint {
					t.Errorf("fingerprint %s, Python's %s", ws.Fingerprint, prints[dataset].Fingerprint)
				}
				if len(recs) != len(want) {
					t.Fatalf("workers=%d: %d events, want %d", workers, len(recs), len(want))
				}
				blocks := map[int64]bool{}
				for i, r := range recs {
					if r.Pos.File != 7 || r.Pos.Line != 0 || r.Event != ws.Event {
						t.Fatalf("event %d: %+v %s", i, r.Pos, r.Event)
					}
					blocks[r.Pos.Block] = true
					exp := expectValues(t, ws.Fields, want[i])
					if got, w := (rec{Vals: r.Vals}).String(), (rec{Vals: exp}).String(); got != w {
						t.Fatalf("%s event %d:\n got %s\nwant %s", writer, i, got, w)
					}
				}
				if len(blocks) < 2 {
					t.Errorf("only %d blocks; fixtures should have several", len(blocks))
				}
			}
		})
	}
}

// TestFixtureShapes pins the flattened fields of each writer schema.
func TestFixtureShapes(t *testing.T) {
	watch, _ := rules.BuiltinFields(rules.MovieWatchEvent)
	rating, _ := rules.BuiltinFields(rules.MovieRatingEvent)
	request, _ := rules.BuiltinFields(rules.RecommendationRequest)
	f := func(name string, k rules.Kind, nullable bool, typ string) rules.Field {
		return rules.Field{Name: name, Kind: k, Nullable: nullable, Type: typ}
	}
	tests := []struct {
		file string
		want []rules.Field
	}{
		{"python-watch-null.avro", watch[:4]},
		{"python-watchv2-null.avro", watch},
		{"python-rating-null.avro", rating},
		{"avsc-request-null.avro", request},
		{"avroc-session-snappy.avro", []rules.Field{
			f("sessionId", rules.KindString, false, "string"),
			f("device.os", rules.KindString, false, "string"),
			f("device.model", rules.KindString, true, `["null","string"]`),
			f("device.screen.width", rules.KindInt, false, "int"),
			f("device.screen.height", rules.KindInt, false, "int"),
			f("bitrateKbps", rules.KindInt, true, `["null","long"]`),
			f("bufferRatio", rules.KindFloat, false, "double"),
			f("quality", rules.KindString, false, "com.example.streaming.Quality"),
			f("tags", rules.KindString, false, `{"type":"array","items":"string"}`),
			f("attrs", rules.KindString, false, `{"type":"map","values":"int"}`),
			f("drm", rules.KindBool, false, "boolean"),
			f("score", rules.KindFloat, false, "float"),
			f("cdn.host", rules.KindString, true, "string"),
			f("cdn.pop", rules.KindString, true, "string"),
			f("errorCode", rules.KindNull, true, `["null","int","string"]`),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			info, _ := mustRead(t, New(), data)
			got := info.Schemas[0].Fields
			if len(got) != len(tc.want) {
				t.Fatalf("got %d fields %v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("field %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestFixtureCodecsAgree checks that the same writer's files in different
// codecs give the same events, positions included.
func TestFixtureCodecsAgree(t *testing.T) {
	groups := map[string][]string{}
	for _, path := range fixtureFiles(t) {
		writer, dataset, codec := fixtureParts(path)
		if codec != "lzma" {
			groups[writer+"-"+dataset] = append(groups[writer+"-"+dataset], path)
		}
	}
	compared := 0
	for name, paths := range groups {
		if len(paths) < 2 || name == "avroc-session" { // avroc-session: two block sizes
			continue
		}
		t.Run(name, func(t *testing.T) {
			var first []rec
			for i, p := range paths {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				_, recs := mustRead(t, &Reader{Workers: 2}, data)
				if i == 0 {
					first = recs
					continue
				}
				sameRecs(t, recs, first)
			}
		})
		compared++
	}
	if compared < 5 {
		t.Fatalf("compared %d groups", compared)
	}
}

func TestFixtureSpotValues(t *testing.T) {
	tests := []struct {
		file  string
		index int
		field string
		want  rules.Value
	}{
		{"python-watch-zstandard.avro", 0, "time", rules.Str("2024-03-19T00:00:00")},
		{"avsc-watch-snappy.avro", 239, "time", rules.Str("2024-03-19T00:27:53")},
		{"python-request-deflate.avro", 0, "server", rules.Str("17645-team14.isrl.ex:8082")},
		{"avroc-session-deflate.avro", 0, "cdn.host", rules.Str("edge7.cdn.ex")},
		{"avroc-session-deflate.avro", 0, "device.screen.width", rules.Int(3840)},
		{"avroc-session-deflate.avro", 0, "attrs", rules.Str(`{"b":-5}`)},
		{"avsc-session-null.avro", 0, "score", rules.Float(8)},
		{"avsc-session-null.avro", 0, "drm", rules.Bool(true)},
		{"avsc-session-null.avro", 1, "errorCode", rules.Int(404)},
		{"python-session-snappy.avro", 1, "bufferRatio", rules.Float(0.103)},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.field, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			info, recs := mustRead(t, New(), data)
			i := info.Schemas[0].Shape.Index(tc.field)
			if i < 0 {
				t.Fatalf("no field %q", tc.field)
			}
			if got := recs[tc.index].Vals[i]; got != tc.want {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestFixtureUnsupportedCodec(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "avroc-rating-lzma.avro"))
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	_, err = New().Read(t.Context(), bytes.NewReader(data), 0, c.newSink)
	var re *audit.ReadError
	at := int64(bytes.Index(data, []byte("\x08lzma")) + 1) // the codec's value, after its length
	if !errors.As(err, &re) || re.Block != -1 || re.Offset != at || !strings.Contains(err.Error(), `unsupported codec "lzma"`) {
		t.Fatalf("got %v, want the error at offset %d", err, at)
	}
	if len(c.sinks) != 0 {
		t.Errorf("made %d sinks for a file it could not open", len(c.sinks))
	}
}
