package avro

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/rules"
)

const everythingSchema = `{
 "type": "record", "name": "Everything", "namespace": "test.ns",
 "fields": [
  {"name": "b", "type": "bytes"},
  {"name": "fx", "type": {"type": "fixed", "name": "Hash", "size": 4}},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "day", "type": {"type": "int", "logicalType": "date"}},
  {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
  {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
  {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
  {"name": "l", "type": "long"},
  {"name": "f", "type": "float"},
  {"name": "n", "type": "null"},
  {"name": "opt", "type": ["null", {"type": "record", "name": "Inner", "fields": [
    {"name": "x", "type": "int"},
    {"name": "y", "type": ["null", "string"]},
    {"name": "deep", "type": {"type": "record", "name": "Deep", "namespace": "test.ns", "fields": [
      {"name": "z", "type": ["long", "null"]}]}}]}]},
  {"name": "again", "type": "Inner"},
  {"name": "multi", "type": ["null", "string", {"type": "record", "name": "R", "fields": [{"name": "q", "type": "int"}]}]},
  {"name": "nums", "type": ["int", "long"]},
  {"name": "arr", "type": {"type": "array", "items": "R"}},
  {"name": "m", "type": {"type": "map", "values": ["null", "double"]}}
 ]}`

func TestEverythingFields(t *testing.T) {
	f := func(name string, k rules.Kind, nullable bool, typ string) rules.Field {
		return rules.Field{Name: name, Kind: k, Nullable: nullable, Type: typ}
	}
	want := []rules.Field{
		f("b", rules.KindString, false, "bytes"),
		f("fx", rules.KindString, false, "test.ns.Hash"),
		f("ts", rules.KindInt, false, `{"type":"long","logicalType":"timestamp-millis"}`),
		f("day", rules.KindInt, false, `{"type":"int","logicalType":"date"}`),
		f("price", rules.KindFloat, false, `{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}`),
		f("id", rules.KindString, false, `{"type":"string","logicalType":"uuid"}`),
		f("kind", rules.KindString, false, "test.ns.Kind"),
		f("l", rules.KindInt, false, "long"),
		f("f", rules.KindFloat, false, "float"),
		f("n", rules.KindNull, true, "null"),
		f("opt.x", rules.KindInt, true, "int"),
		f("opt.y", rules.KindString, true, `["null","string"]`),
		f("opt.deep.z", rules.KindInt, true, `["long","null"]`),
		f("again.x", rules.KindInt, false, "int"),
		f("again.y", rules.KindString, true, `["null","string"]`),
		f("again.deep.z", rules.KindInt, true, `["long","null"]`),
		f("multi", rules.KindString, true, `["null","string","test.ns.R"]`),
		f("nums", rules.KindInt, false, `["int","long"]`),
		f("arr", rules.KindString, false, `{"type":"array","items":"test.ns.R"}`),
		f("m", rules.KindString, false, `{"type":"map","values":["null","double"]}`),
	}
	fs, err := compileSchema(everythingSchema, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := fs.info.Fields
	if len(got) != len(want) {
		t.Fatalf("got %d fields: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d: got %+v\n want %+v", i, got[i], want[i])
		}
	}
	if fs.info.Event != "Everything" {
		t.Errorf("event %q", fs.info.Event)
	}
}

// everythingRecords are two records of everythingSchema.
func everythingRecords() []map[string]any {
	inner := func(x int32, y any, z any) map[string]any {
		return map[string]any{"x": x, "y": y, "deep": map[string]any{"z": z}}
	}
	return []map[string]any{{
		"b": []byte{0, 'a', 0xff}, "fx": []byte("ABCD"), "ts": int64(1710806400123), "day": int32(19801),
		"price": big.NewRat(-12345, 100), "id": "0b1c8f3e-5a3e-4c3a-9d7e-2f1a1b2c3d4e", "kind": "B",
		"l": int64(-1) << 40, "f": float32(1.5), "n": nil,
		"opt":   goavro.Union("test.ns.Inner", inner(7, goavro.Union("string", "why"), goavro.Union("long", int64(9)))),
		"again": inner(-1, nil, nil),
		"multi": goavro.Union("test.ns.R", map[string]any{"q": int32(3)}),
		"nums":  goavro.Union("long", int64(1)<<50),
		"arr":   []any{map[string]any{"q": int32(1)}, map[string]any{"q": int32(2)}},
		"m":     map[string]any{"z": nil, "a": goavro.Union("double", 0.25), "\"q\"\n": goavro.Union("double", -2.0)},
	}, {
		"b": []byte{}, "fx": []byte{1, 2, 3, 4}, "ts": int64(0), "day": int32(-1),
		"price": big.NewRat(5, 1), "id": "", "kind": "A", "l": int64(0), "f": float32(-0.125), "n": nil,
		"opt": nil, "again": inner(2, nil, goavro.Union("long", int64(-3))),
		"multi": goavro.Union("string", "text"), "nums": goavro.Union("int", int32(-7)),
		"arr": []any{}, "m": map[string]any{},
	}}
}

func TestEverythingValues(t *testing.T) {
	records := everythingRecords()
	want := [][]rules.Value{{
		rules.Str("\x00a\xff"), rules.Str("ABCD"), rules.Int(1710806400123), rules.Int(19801),
		rules.Float(-123.45), rules.Str("0b1c8f3e-5a3e-4c3a-9d7e-2f1a1b2c3d4e"), rules.Str("B"),
		rules.Int(-1 << 40), rules.Float(1.5), rules.Null(),
		rules.Int(7), rules.Str("why"), rules.Int(9),
		rules.Int(-1), rules.Null(), rules.Null(),
		rules.Str(`{"q":3}`), rules.Int(1 << 50),
		rules.Str(`[{"q":1},{"q":2}]`), rules.Str(`{"\"q\"\n":{"double":-2},"a":{"double":0.25},"z":null}`),
	}, {
		rules.Str(""), rules.Str("\x01\x02\x03\x04"), rules.Int(0), rules.Int(-1),
		rules.Float(5), rules.Str(""), rules.Str("A"),
		rules.Int(0), rules.Float(-0.125), rules.Null(),
		rules.Null(), rules.Null(), rules.Null(),
		rules.Int(2), rules.Null(), rules.Int(-3),
		rules.Str("text"), rules.Int(-7),
		rules.Str(`[]`), rules.Str(`{}`),
	}}
	for _, codec := range []string{CodecNull, CodecDeflate, CodecSnappy, CodecZstandard} {
		t.Run(codec, func(t *testing.T) {
			file := writeFile(t, everythingSchema, codec, 1, records)
			_, recs := mustRead(t, New(), file)
			if len(recs) != 2 {
				t.Fatalf("%d events", len(recs))
			}
			for i, r := range recs {
				if r.Pos.Block != int64(i) || r.Pos.Record != 0 {
					t.Errorf("event %d at %+v", i, r.Pos)
				}
				sameRecs(t, []rec{{Vals: r.Vals}}, []rec{{Vals: want[i]}})
			}
		})
	}
}

// rawFile frames hand-made block data under schema, null codec.
func rawFile(schema string, blocks ...[]byte) []byte {
	var sync [syncLength]byte
	b := appendHeader(nil, schema, CodecNull, sync)
	for _, blk := range blocks {
		b = appendLong(b, 1)
		b = appendLong(b, int64(len(blk)))
		b = append(b, blk...)
		b = append(b, sync[:]...)
	}
	return b
}

func TestRecursiveSchema(t *testing.T) {
	const schema = `{"type":"record","name":"LongList","fields":[
	  {"name":"value","type":"int"},
	  {"name":"next","type":["null","LongList"]}]}`
	fs, err := compileSchema(schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []rules.Field{
		{Name: "value", Kind: rules.KindInt, Type: "int"},
		{Name: "next", Kind: rules.KindString, Nullable: true, Type: `["null","LongList"]`},
	}
	if len(fs.info.Fields) != 2 || fs.info.Fields[0] != want[0] || fs.info.Fields[1] != want[1] {
		t.Fatalf("fields %+v", fs.info.Fields)
	}
	// value 1, next {value 2, next {value 3, next null}}
	_, recs := mustRead(t, New(), rawFile(schema, []byte{2, 2, 4, 2, 6, 0}))
	got := recs[0].String()
	if want := ` int:1 string:{"next":{"LongList":{"next":null,"value":3}},"value":2}`; !strings.HasSuffix(got, want) {
		t.Fatalf("got %s, want ...%s", got, want)
	}
}

// TestValueBombs checks records whose arrays, maps or nesting would make
// goavro allocate or recurse without bound: they are refused as corrupt,
// cheaply.
func TestValueBombs(t *testing.T) {
	const list = `{"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","L"]}]}`
	deep := make([]byte, 0, 4002)
	for range 2000 {
		deep = append(deep, 0, 2) // v 0, next: branch 1
	}
	deep = append(deep, 0, 0)
	tests := []struct {
		name, schema string
		block        []byte
		want         string
	}{
		{"array count", `{"type":"record","name":"A","fields":[{"name":"xs","type":{"type":"array","items":"int"}}]}`,
			appendLong(nil, 1<<31-1), "more than 1048576 array or map items"},
		{"array of nulls", `{"type":"record","name":"A","fields":[{"name":"xs","type":{"type":"array","items":"null"}}]}`,
			append(appendLong(nil, 1<<21), 0), "more than 1048576 array or map items"},
		{"negative array block", `{"type":"record","name":"A","fields":[{"name":"xs","type":{"type":"array","items":"int"}}]}`,
			appendLong(appendLong(nil, -(1<<40)), 0), "more than 1048576"},
		{"map count", `{"type":"record","name":"M","fields":[{"name":"m","type":{"type":"map","values":"string"}}]}`,
			appendLong(nil, 1<<40), "more than 1048576 array or map items"},
		{"deep list", list, deep, "nested more than 500 deep"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			alloc := allocated(func() { _, _, err = read(t, New(), rawFile(tc.schema, tc.block)) })
			var re *audit.ReadError
			if !errors.As(err, &re) || re.Block != 0 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want block 0: %s", err, tc.want)
			}
			if alloc > 8<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}

// TestStringsAsBytes checks fields whose strings goavro decodes as bytes,
// and a union where it cannot.
func TestStringsAsBytes(t *testing.T) {
	const schema = `{"type":"record","name":"S","fields":[
	  {"name":"s","type":"string"},
	  {"name":"ns","type":["string","null"]},
	  {"name":"sb","type":["null","string","bytes"]},
	  {"name":"si","type":["int","string"]}]}`
	records := []map[string]any{
		{"s": "héllo", "ns": goavro.Union("string", "a"), "sb": goavro.Union("string", "x"), "si": goavro.Union("string", "y")},
		{"s": "", "ns": nil, "sb": goavro.Union("bytes", []byte{0xff}), "si": goavro.Union("int", int32(5))},
	}
	_, recs := mustRead(t, New(), writeFile(t, schema, CodecNull, 10, records))
	want := []string{
		"7/0/0 S string:héllo string:a string:x string:y",
		"7/0/1 S string: null:null string:\xff int:5",
	}
	if len(recs) != len(want) {
		t.Fatalf("%d events", len(recs))
	}
	for i, r := range recs {
		if r.String() != want[i] {
			t.Errorf("got %q, want %q", r.String(), want[i])
		}
	}
}

func TestEmptyRecords(t *testing.T) {
	const schema = `{"type":"record","name":"Nothing","fields":[]}`
	var sync [syncLength]byte
	file := appendHeader(nil, schema, CodecNull, sync)
	file = append(appendLong(appendLong(file, 5), 0), sync[:]...)
	info, recs := mustRead(t, New(), file)
	if len(recs) != 5 || len(info.Schemas[0].Fields) != 0 || recs[4].Pos.Record != 4 {
		t.Fatalf("%d events, %+v", len(recs), info.Schemas)
	}
}

func TestCanonicalForm(t *testing.T) {
	// Fullnames, stripped attributes, named types defined once, and a nested
	// namespace repeated as Python writes it.
	tests := []struct{ schema, want string }{
		{`{"type":"record","name":"a.b.R","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":2}},{"name":"g","type":"F"}],"doc":"x"}`,
			`{"name":"a.b.R","type":"record","fields":[{"name":"f","type":{"name":"a.b.F","type":"fixed","size":2}},{"name":"g","type":"a.b.F"}]}`},
		{`{"type":"record","name":"R","namespace":"n","fields":[{"name":"e","type":{"type":"enum","name":"E","namespace":"n","symbols":["X"]}},{"name":"o","type":{"type":"record","name":"o.O","fields":[]}}]}`,
			`{"name":"n.R","type":"record","fields":[{"name":"e","type":{"name":"n.E","type":"enum","symbols":["X"]}},{"name":"o","type":{"name":"o.O","type":"record","fields":[]}}]}`},
		{`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":{"type":"long","logicalType":"timestamp-millis"}}},{"name":"u","type":["null",{"type":"map","values":"R"}]}]}`,
			`{"name":"R","type":"record","fields":[{"name":"a","type":{"type":"array","items":"long"}},{"name":"u","type":["null",{"type":"map","values":"R"}]}]}`},
	}
	for _, tc := range tests {
		root, err := parseSchema(tc.schema)
		if err != nil {
			t.Fatalf("%s: %v", tc.schema, err)
		}
		if got := canonical(root); got != tc.want {
			t.Errorf("canonical\n got %s\nwant %s", got, tc.want)
		}
	}
	// The specification's fingerprint of "int" (CRC-64-AVRO).
	if got := rabin([]byte(`"int"`)); got != 0x7275d51a3f395c8f {
		t.Errorf(`rabin("int") = %016x`, got)
	}
}

func TestBadSchemas(t *testing.T) {
	// R0 has two fields of R1, R1 two of R2, ...: 2^30 leaves flattened.
	var dag strings.Builder
	for i := range 30 {
		fmt.Fprintf(&dag, `{"type":"record","name":"R%d","fields":[{"name":"a","type":`, i)
	}
	dag.WriteString(`"int"},{"name":"b","type":"int"}]}`)
	for i := 29; i > 0; i-- {
		fmt.Fprintf(&dag, `},{"name":"b","type":"R%d"}]}`, i)
	}
	deep := strings.Repeat(`{"type":"array","items":`, 300) + `"int"` + strings.Repeat("}", 300)
	tests := []struct{ name, schema, want string }{
		{"duplicate field", `{"type":"record","name":"D","fields":[{"name":"a","type":"int"},{"name":"a","type":"long"}]}`, "unique"},
		{"exponential flattening", dag.String(), "flattens to more than 10000 fields"},
		{"deep nesting", `{"type":"record","name":"N","fields":[{"name":"a","type":` + deep + `}]}`, "nested too deeply"},
		{"top-level union", `["null",{"type":"record","name":"U","fields":[]}]`, "top-level type is union"},
		{"unknown type", `{"type":"record","name":"X","fields":[{"name":"a","type":"Y"}]}`, `unknown type "Y"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			alloc := allocated(func() {
				_, _, err = read(t, New(), appendHeader(nil, tc.schema, CodecNull, [16]byte{}))
			})
			var re *audit.ReadError
			if !errors.As(err, &re) || re.Block != -1 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a header error saying %q", err, tc.want)
			}
			if alloc > 64<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}

// TestFloatIsTheDecimalWritten: an Avro float is read as the shortest
// decimal that gives it back, so that rules written with decimals match.
func TestFloatIsTheDecimalWritten(t *testing.T) {
	for _, tc := range []struct {
		in   float32
		want float64
	}{
		{0.1, 0.1},
		{2.5, 2.5},
		{1.0 / 3, 0.33333334},
		{16777217, 16777216},
		{float32(math.Inf(-1)), math.Inf(-1)},
		{-0.0, 0},
	} {
		if got := widen(tc.in); got != tc.want {
			t.Errorf("widen(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := widen(float32(math.NaN())); got == got {
		t.Errorf("widen(NaN) = %v", got)
	}
}

// A fixed decimal's precision and scale are part of its type as reports
// show it, as a bytes decimal's are: decimal(9,2) and decimal(9,4) read
// the same bytes as values 100 times apart.
func TestFixedDecimalTypeText(t *testing.T) {
	schema := func(logical string) string {
		return `{"type":"record","name":"P","fields":[{"name":"amt","type":{"type":"fixed","name":"Money","size":8` + logical + `}}]}`
	}
	for _, tc := range []struct {
		name, logical, want string
	}{
		{"plain fixed", ``, `Money`},
		{"decimal(18,2)", `,"logicalType":"decimal","precision":18,"scale":2`, `{"type":"Money","logicalType":"decimal","precision":18,"scale":2}`},
		{"decimal(18,4)", `,"logicalType":"decimal","precision":18,"scale":4`, `{"type":"Money","logicalType":"decimal","precision":18,"scale":4}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := compileSchema(schema(tc.logical), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := fs.info.Fields[0].Type; got != tc.want {
				t.Errorf("type %s, want %s", got, tc.want)
			}
		})
	}
}

// TestDecimalExactText: a decimal keeps its exact text beside its float,
// without exponent or trailing zeros, so that rules of identity can tell
// apart decimals float64 cannot.
func TestDecimalExactText(t *testing.T) {
	twos := func(n *big.Int, size int) []byte { // big-endian two's complement
		m := new(big.Int).Set(n)
		if m.Sign() < 0 {
			m.Add(m, new(big.Int).Lsh(big.NewInt(1), uint(8*size)))
		}
		return m.FillBytes(make([]byte, size))
	}
	for _, tc := range []struct {
		n     string
		scale int
		want  string
	}{
		{"12345", 2, "123.45"},
		{"100", 2, "1"},
		{"-150", 2, "-1.5"},
		{"-5", 2, "-0.05"},
		{"0", 4, "0"},
		{"12345678901234567891", 0, "12345678901234567891"},
		{"-99999999999999999999999999999999999999", 2, "-999999999999999999999999999999999999.99"},
	} {
		n, _ := new(big.Int).SetString(tc.n, 10)
		f, exact := decimal(twos(n, 17), tc.scale)
		if exact != tc.want {
			t.Errorf("decimal(%s, scale %d) = %q, want %q", tc.n, tc.scale, exact, tc.want)
		}
		if want, _ := strconv.ParseFloat(tc.want, 64); f != want {
			t.Errorf("decimal(%s, scale %d) = %v, want the float %v", tc.n, tc.scale, f, want)
		}
	}
}

// TestAliasEventType: a record renamed with an alias is audited as the
// event type its alias names, so that the rules of that type check it.
func TestAliasEventType(t *testing.T) {
	schema := func(name, extra string) string {
		return `{"type":"record","name":"` + name + `"` + extra + `,"fields":[{"name":"time","type":"string"},{"name":"minute","type":"int"}]}`
	}
	tests := []struct {
		name   string
		schema string
		events []string // Reader.Events
		want   string   // event type, or an error's text when err
		err    bool
	}{
		{"alias of a built-in type", schema("WatchEvent", `,"aliases":["MovieWatchEvent"]`), nil, "MovieWatchEvent", false},
		{"full name, short alias", schema("com.x.WatchEvent", `,"aliases":["MovieWatchEvent"]`), nil, "MovieWatchEvent", false},
		{"namespace, short alias", schema("WatchEvent", `,"namespace":"com.x","aliases":["Old","MovieWatchEvent"]`), nil, "MovieWatchEvent", false},
		{"alias in another namespace", schema("com.x.WatchEvent", `,"aliases":["org.y.MovieWatchEvent"]`), nil, "MovieWatchEvent", false},
		{"alias of no known type", schema("com.x.WatchEvent", `,"aliases":["OldWatch"]`), nil, "WatchEvent", false},
		{"alias's namespace is not a name", schema("WatchEvent", `,"aliases":["MovieWatchEvent.V1"]`), nil, "WatchEvent", false},
		{"the record's own name wins", schema("MovieRatingEvent", `,"aliases":["MovieWatchEvent"]`), nil, "MovieRatingEvent", false},
		{"alias of a configured type", schema("Failure", `,"aliases":["PlaybackError"]`), []string{"PlaybackError"}, "PlaybackError", false},
		{"same, unconfigured", schema("Failure", `,"aliases":["PlaybackError"]`), nil, "Failure", false},
		{"configured name wins over a built-in alias", schema("PlaybackError", `,"aliases":["MovieWatchEvent"]`), []string{"PlaybackError"}, "PlaybackError", false},
		{"one type under two namespaces", schema("a.W", `,"aliases":["MovieWatchEvent","b.MovieWatchEvent"]`), nil, "MovieWatchEvent", false},
		{"aliases of two types", schema("a.W", `,"aliases":["MovieWatchEvent","MovieRatingEvent"]`), nil,
			`record "a.W" has aliases of 2 event types, MovieRatingEvent, MovieWatchEvent: its events cannot be all of them`, true},
		{"alias not a name", schema("W", `,"aliases":["9lives"]`), nil, `record "W": alias "9lives" is not an Avro name`, true},
		{"alias with an empty part", schema("W", `,"aliases":["a..MovieWatchEvent"]`), nil, `alias "a..MovieWatchEvent" is not an Avro name`, true},
		{"aliases not a list", schema("W", `,"aliases":"MovieWatchEvent"`), nil, `record "W": aliases must be a list of names`, true},
	}
	plain, err := compileSchema(schema("MovieWatchEvent", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// One record: time "x", minute 2.
			file := appendHeader(nil, tc.schema, CodecNull, [16]byte{})
			file = append(appendLong(appendLong(file, 1), 3), 2, 'x', 4)
			file = append(file, make([]byte, 16)...)
			info, recs, err := read(t, &Reader{Events: tc.events}, file)
			if tc.err {
				var re *audit.ReadError
				if !errors.As(err, &re) || re.Block != -1 || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %v, want a header error saying %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(info.Schemas) != 1 || info.Schemas[0].Event != tc.want || info.Schemas[0].Shape.Event() != tc.want {
				t.Fatalf("schemas %+v, want event %s", info.Schemas, tc.want)
			}
			if len(recs) != 1 || recs[0].Event != tc.want || recs[0].Vals[0].String() != "x" || recs[0].Vals[1].String() != "2" {
				t.Fatalf("events %v, want one %s", recs, tc.want)
			}
			// The fingerprint is the schema's as written: a renamed record
			// is a new writer schema of its type, which drift reports.
			if tc.want == "MovieWatchEvent" && info.Schemas[0].Fingerprint == plain.info.Fingerprint {
				t.Errorf("fingerprint %s is that of the record named MovieWatchEvent", plain.info.Fingerprint)
			}
		})
	}
	// Nested named types are fields, not events: their aliases, even
	// malformed, decide nothing and fail nothing.
	nested := `{"type":"record","name":"WatchEvent","aliases":["MovieWatchEvent"],"fields":[
	 {"name":"k","type":{"type":"enum","name":"K","symbols":["A"],"aliases":["9x", "MovieRatingEvent"]}},
	 {"name":"r","type":{"type":"record","name":"MovieRatingEvent","aliases":7,"fields":[]}}]}`
	if fs, err := compileSchema(nested, nil); err != nil || fs.info.Event != "MovieWatchEvent" {
		t.Errorf("nested aliases: %v, %+v", err, fs)
	}
}

// TestZeroByteItemBound: array items that encode to no bytes (nulls) are
// bounded by the file, not only by the record: a few bytes a record
// claiming a million nulls each would otherwise decode to gigabytes of
// JSON text.
func TestZeroByteItemBound(t *testing.T) {
	const schema = `{"type":"record","name":"A","fields":[{"name":"xs","type":{"type":"array","items":"null"}}]}`
	nulls := append(appendLong(nil, maxItemsPerRecord), 0)
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprint(workers, " workers"), func(t *testing.T) {
			data := rawFile(schema, nulls, nulls, nulls, nulls)
			var err error
			var recs []rec
			alloc := allocated(func() { _, recs, err = read(t, &Reader{Workers: workers}, data) })
			var re *audit.ReadError
			if !errors.As(err, &re) || re.Block != 2 || !strings.Contains(err.Error(), "encode to no bytes") {
				t.Fatalf("got %v, want block 2: items that encode to no bytes", err)
			}
			if len(recs) != 2 {
				t.Errorf("got %d records, want the 2 of the blocks before", len(recs))
			}
			if alloc > 1<<30 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
	t.Run("one block", func(t *testing.T) {
		var sync [syncLength]byte
		data := appendHeader(nil, schema, CodecNull, sync)
		data = appendLong(data, 3)
		data = appendLong(data, int64(3*len(nulls)))
		data = append(data, slices.Repeat(nulls, 3)...)
		data = append(data, sync[:]...)
		_, _, err := read(t, New(), data)
		var re *audit.ReadError
		if !errors.As(err, &re) || re.Block != 0 || !strings.Contains(err.Error(), "record 2: more than 2097152 array items in the block encode to no bytes") {
			t.Fatalf("got %v, want block 0 record 2: items that encode to no bytes", err)
		}
	})
}

// TestDecimalLengthBound: a decimal's exact text costs time that grows
// faster than its length, so an unscaled value longer than any decimal
// type's is the record's error, not seconds of work each.
func TestDecimalLengthBound(t *testing.T) {
	const schema = `{"type":"record","name":"D","fields":[{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":38,"scale":2}}]}`
	value := func(n int) []byte {
		b := append(appendLong(nil, int64(n)), 0x7f)
		return append(b, bytes.Repeat([]byte{0x5a}, n-1)...)
	}
	if _, recs := mustRead(t, New(), rawFile(schema, value(128))); len(recs) != 1 {
		t.Fatalf("got %d records from a decimal of 128 bytes, want 1", len(recs))
	}
	_, _, err := read(t, New(), rawFile(schema, value(129), value(1<<20)))
	var re *audit.ReadError
	if !errors.As(err, &re) || re.Block != 0 || !strings.Contains(err.Error(), `record 0: field "d": decimal of 129 bytes, more than the 128`) {
		t.Fatalf("got %v, want block 0: decimal of 129 bytes", err)
	}
}

// TestInvalidDecimalIsIgnored: a decimal whose precision and scale are not
// valid is read as its bytes or fixed, as the specification asks, not as
// a number scaled by what the writer did not mean (a scale of 2000 read
// as 0 made -1e-1950 a -1.87e50 that failed min: 0).
func TestInvalidDecimalIsIgnored(t *testing.T) {
	for _, tc := range []struct {
		name, typ string
		kind      rules.Kind
	}{
		{"valid", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}`, rules.KindFloat},
		{"scale 0", `{"type":"bytes","logicalType":"decimal","precision":9}`, rules.KindFloat},
		{"scale above precision", `{"type":"bytes","logicalType":"decimal","precision":2,"scale":2000}`, rules.KindString},
		{"negative scale", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":-2}`, rules.KindString},
		{"no precision", `{"type":"bytes","logicalType":"decimal","scale":2}`, rules.KindString},
		{"fixed", `{"type":"fixed","name":"F","size":4,"logicalType":"decimal","precision":0,"scale":2}`, rules.KindString},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := compileSchema(`{"type":"record","name":"D","fields":[{"name":"d","type":`+tc.typ+`}]}`, nil)
			if err != nil {
				t.Fatal(err)
			}
			f := fs.shape.Fields()[0]
			if f.Kind != tc.kind {
				t.Errorf("kind %v, want %v (type %s)", f.Kind, tc.kind, f.Type)
			}
			if tc.kind == rules.KindString && strings.Contains(f.Type, "decimal") {
				t.Errorf("type %s still says decimal", f.Type)
			}
		})
	}
}
