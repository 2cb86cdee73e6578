package avro

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
)

// span is where one block lies in a file.
type span struct {
	start, data, end int // block start, data start, data end; the sync follows
	count            int64
}

// layout finds the header's length and the blocks of a good file.
func layout(t testing.TB, file []byte) (int, []span) {
	t.Helper()
	c := newCountingReader(bytes.NewReader(file))
	if _, err := readHeader(c, 1<<20); err != nil {
		t.Fatal(err)
	}
	head := int(c.off)
	var blocks []span
	for {
		start := int(c.off)
		count, err := c.readLong()
		if err != nil {
			break
		}
		size, err := c.readLong()
		if err != nil {
			t.Fatal(err)
		}
		s := span{start: start, data: int(c.off), end: int(c.off + size), count: count}
		if _, err := c.readN(nil, size+syncLength); err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, s)
	}
	return head, blocks
}

// splice returns a copy of b with b[from:to] replaced by repl.
func splice(b []byte, from, to int, repl []byte) []byte {
	out := append([]byte(nil), b[:from]...)
	out = append(out, repl...)
	return append(out, b[to:]...)
}

// reframe rewrites block k's count and size fields.
func reframe(file []byte, s span, count, size int64) []byte {
	return splice(file, s.start, s.data, appendLong(appendLong(nil, count), size))
}

func before(recs []rec, block int64) []rec {
	var out []rec
	for _, r := range recs {
		if r.Pos.Block < block {
			out = append(out, r)
		}
	}
	return out
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestCorruptFiles(t *testing.T) {
	const blocks, perBlock = 10, 100
	good := map[string][]byte{}
	for _, codec := range []string{CodecNull, CodecDeflate, CodecSnappy, CodecZstandard} {
		good[codec] = writeFile(t, watchSchema, codec, perBlock, watchRecords(blocks*perBlock))
	}
	tests := []struct {
		name   string
		codecs []string // all four when nil
		// corrupt returns the bad file and the block whose start is the
		// error's offset (-1 for the header, len(blocks) for the end).
		corrupt func(file []byte, head int, b []span) ([]byte, int)
		want    string // in the error text
		// at returns the offset a header error names (block -1): that
		// of the part that is wrong or cut short.
		at func(bad []byte, head int) int
	}{
		{"truncated in data", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return f[:b[3].data+5], 3
		}, "unexpected EOF", nil},
		{"truncated in sync", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return f[:b[7].end+3], 7
		}, "read sync marker: unexpected EOF", nil},
		{"truncated in count", []string{CodecNull}, func(f []byte, _ int, b []span) ([]byte, int) {
			return append(bytes.Clone(f[:b[4].start]), 0x80), 4
		}, "read record count: unexpected EOF", nil},
		{"truncated header", nil, func(f []byte, head int, _ []span) ([]byte, int) {
			return f[:head-3], -1
		}, "read sync marker: unexpected EOF", func(_ []byte, head int) int { return head - syncLength }},
		{"truncated in schema", nil, func(f []byte, _ int, _ []span) ([]byte, int) {
			return f[:bytes.Index(f, []byte(`{"type"`))+10], -1
		}, "read metadata value: unexpected EOF", func(bad []byte, _ int) int { return bytes.Index(bad, []byte(`{"type"`)) }},
		{"huge metadata length", []string{CodecNull}, func(f []byte, _ int, _ []span) ([]byte, int) {
			return append([]byte(magic), appendLong(appendLong(nil, 1), 1<<40)...), -1
		}, "metadata key length 1099511627776 out of bounds", func([]byte, int) int { return len(magic) + 1 }},
		{"empty file", []string{CodecNull}, func([]byte, int, []span) ([]byte, int) {
			return nil, -1
		}, "empty file: not an Avro object container file", func([]byte, int) int { return 0 }},
		{"cut in the magic", []string{CodecNull}, func(f []byte, _ int, _ []span) ([]byte, int) {
			return f[:2], -1
		}, "read magic: unexpected EOF", func([]byte, int) int { return 0 }},
		{"bad magic", nil, func(f []byte, _ int, _ []span) ([]byte, int) {
			return splice(f, 3, 4, []byte{2}), -1
		}, "not an Avro object container file", func([]byte, int) int { return 0 }},
		{"bad sync", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			bad := bytes.Clone(f)
			bad[b[4].end+9] ^= 0x40
			return bad, 4
		}, "sync marker mismatch", nil},
		{"unknown codec", []string{CodecNull}, func(f []byte, head int, _ []span) ([]byte, int) {
			return append(appendHeader(nil, watchSchema, "brotli", [16]byte{}), f[head:]...), -1
		}, `unsupported codec "brotli"`, func(bad []byte, _ int) int { return bytes.Index(bad, []byte("brotli")) }},
		{"no schema", []string{CodecNull}, func(f []byte, _ int, _ []span) ([]byte, int) {
			return append([]byte(magic), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), -1
		}, "no avro.schema", func([]byte, int) int { return len(magic) }},
		{"bad schema", []string{CodecNull}, func(f []byte, head int, _ []span) ([]byte, int) {
			return append(appendHeader(nil, `{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}`, "null", [16]byte{}), f[head:]...), -1
		}, "schema", func(bad []byte, _ int) int { return bytes.Index(bad, []byte(`{"type":"record","name":"X"`)) }},
		{"not a record", []string{CodecNull}, func(f []byte, head int, _ []span) ([]byte, int) {
			return appendHeader(nil, `"string"`, "null", [16]byte{}), -1
		}, "not a record", func(bad []byte, _ int) int { return bytes.LastIndex(bad, []byte(`"string"`)) }},
		{"corrupt deflate", []string{CodecDeflate}, func(f []byte, _ int, b []span) ([]byte, int) {
			return splice(f, b[5].data, b[5].end, bytes.Repeat([]byte{0xff}, b[5].end-b[5].data)), 5
		}, "deflate", nil},
		{"corrupt zstandard", []string{CodecZstandard}, func(f []byte, _ int, b []span) ([]byte, int) {
			return splice(f, b[5].data, b[5].end, bytes.Repeat([]byte{0xff}, b[5].end-b[5].data)), 5
		}, "zstandard", nil},
		{"corrupt snappy", []string{CodecSnappy}, func(f []byte, _ int, b []span) ([]byte, int) {
			return splice(f, b[5].data, b[5].end, bytes.Repeat([]byte{0xff}, b[5].end-b[5].data)), 5
		}, "snappy", nil},
		{"snappy checksum", []string{CodecSnappy}, func(f []byte, _ int, b []span) ([]byte, int) {
			bad := bytes.Clone(f)
			bad[b[2].end-1] ^= 1
			return bad, 2
		}, "snappy checksum mismatch", nil},
		{"snappy without checksum", []string{CodecSnappy}, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(splice(f, b[2].data, b[2].end, []byte{1, 2}), b[2], b[2].count, 2), 2
		}, "shorter than its checksum", nil},
		{"huge count", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[6], 1<<40, int64(b[6].end-b[6].data)), 6
		}, "record count 1099511627776 out of bounds", nil},
		{"negative count", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[6], -3, int64(b[6].end-b[6].data)), 6
		}, "record count -3 out of bounds", nil},
		{"count too big for bytes", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[1], 1_000_000, int64(b[1].end-b[1].data)), 1
		}, "records cannot fit in", nil},
		{"huge size", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[6], b[6].count, 1<<40), 6
		}, "block size 1099511627776 out of bounds", nil},
		{"size past end", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[6], b[6].count, DefaultMaxBlockBytes-1), 6
		}, "read block data: unexpected EOF", nil},
		{"count one short", []string{CodecNull}, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[8], b[8].count-1, int64(b[8].end-b[8].data)), 8
		}, "bytes left in block after its 99 records", nil},
		{"count one long", []string{CodecNull}, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[8], b[8].count+1, int64(b[8].end-b[8].data)), 8
		}, "record 100", nil},
		{"bad string length", []string{CodecNull}, func(f []byte, _ int, b []span) ([]byte, int) {
			return splice(f, b[2].data, b[2].data+1, []byte{0x7f}), 2 // record 0's time claims -64 bytes
		}, "record 0", nil},
		{"garbage after last block", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return append(bytes.Clone(f), "trailing garbage"...), len(b)
		}, "", nil},
	}
	for _, tc := range tests {
		codecs := tc.codecs
		if codecs == nil {
			codecs = []string{CodecNull, CodecDeflate, CodecSnappy, CodecZstandard}
		}
		for _, codec := range codecs {
			t.Run(tc.name+"/"+codec, func(t *testing.T) {
				file := good[codec]
				head, spans := layout(t, file)
				if len(spans) != blocks {
					t.Fatalf("%d blocks", len(spans))
				}
				_, all := mustRead(t, New(), file)
				bad, block := tc.corrupt(file, head, spans)
				wantOffset, wantBlock := int64(-1), int64(-1)
				if block < 0 {
					wantOffset = int64(tc.at(bad, head))
				} else {
					wantBlock = int64(block)
					if block < len(spans) {
						wantOffset = int64(spans[block].start)
					} else {
						wantOffset = int64(len(file))
					}
				}
				for _, workers := range []int{1, 2, 4} {
					var recs []rec
					var err error
					alloc := allocated(func() { _, recs, err = read(t, &Reader{Workers: workers}, bad) })
					var re *audit.ReadError
					if !errors.As(err, &re) {
						t.Fatalf("workers=%d: got %v, want a *audit.ReadError", workers, err)
					}
					if re.Block != wantBlock || re.Offset != wantOffset || re.Line != 0 {
						t.Errorf("workers=%d: block %d offset %d, want block %d offset %d (%v)",
							workers, re.Block, re.Offset, wantBlock, wantOffset, err)
					}
					if !strings.Contains(err.Error(), tc.want) {
						t.Errorf("workers=%d: error %q does not say %q", workers, err, tc.want)
					}
					sameRecs(t, recs, before(all, max(wantBlock, 0)))
					if alloc > 16<<20 {
						t.Errorf("workers=%d: allocated %d MiB", workers, alloc>>20)
					}
				}
			})
		}
	}
}

func TestHeaderOnlyFile(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, watchSchema, CodecDeflate, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	info, recs := mustRead(t, New(), buf.Bytes())
	if len(recs) != 0 || len(info.Schemas) != 1 || info.Schemas[0].Event != "MovieWatchEvent" {
		t.Fatalf("%d events, %+v", len(recs), info)
	}
}

// TestDecompressedSizeBound checks that a block that inflates past
// MaxBlockBytes is refused, in every codec.
func TestDecompressedSizeBound(t *testing.T) {
	recs := make([]map[string]any, 2000)
	for i := range recs {
		recs[i] = map[string]any{"time": strings.Repeat("x", 100), "userId": "u", "movieId": "m", "minute": int32(1)}
	}
	for _, codec := range []string{CodecDeflate, CodecSnappy, CodecZstandard} {
		t.Run(codec, func(t *testing.T) {
			file := writeFile(t, watchSchema, codec, 1000, recs) // ~107 KB a block, compressed to little
			_, spans := layout(t, file)
			if size := spans[0].end - spans[0].data; size > 20<<10 {
				t.Fatalf("block compressed to %d bytes only", size)
			}
			_, _, err := read(t, &Reader{MaxBlockBytes: 64 << 10}, file)
			var re *audit.ReadError
			if !errors.As(err, &re) || re.Block != 0 || !strings.Contains(err.Error(), "decompresses to more than 65536 bytes") {
				t.Fatalf("got %v", err)
			}
			if _, got := mustRead(t, &Reader{MaxBlockBytes: 128 << 10}, file); len(got) != 2000 {
				t.Fatalf("%d events under a big enough limit", len(got))
			}
		})
	}
}

// tally counts events.
type tally struct{ n int64 }

func (s *tally) Event(*audit.Event)                       { s.n++ }
func (s *tally) Malformed(audit.Position, string, []byte) {}

// TestZeroByteRecordBound: records that encode to no bytes cost nothing to
// claim, so a file's blocks may claim only so many of them in all; files
// of a few thousand such records still read.
func TestZeroByteRecordBound(t *testing.T) {
	schema := func(fields int) string {
		var b strings.Builder
		b.WriteString(`{"type":"record","name":"Ping","fields":[`)
		for i := range fields {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":"f%d","type":"null"}`, i)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	nulls := func(fields, n int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{}
			for k := range fields {
				out[i][fmt.Sprintf("f%d", k)] = nil
			}
		}
		return out
	}
	// blocks makes a file of blocks that claim counts of records of no bytes.
	blocks := func(schema string, counts ...int64) ([]byte, []int64) {
		var sync [syncLength]byte
		sync[3] = 7
		file := appendHeader(nil, schema, CodecNull, sync)
		var starts []int64
		for _, c := range counts {
			starts = append(starts, int64(len(file)))
			file = append(appendLong(appendLong(file, c), 0), sync[:]...)
		}
		return file, starts
	}
	count := func(r *Reader, file []byte) (int64, error) {
		var sinks []*tally
		_, err := r.Read(context.Background(), bytes.NewReader(file), 0, func() audit.Sink {
			s := &tally{}
			sinks = append(sinks, s)
			return s
		})
		var n int64
		for _, s := range sinks {
			n += s.n
		}
		return n, err
	}

	t.Run("legitimate files", func(t *testing.T) {
		for _, tc := range []struct {
			fields, records, perBlock int
			codec                     string
		}{
			{2, 5000, 5000, CodecNull},
			{2, 5000, 1000, CodecDeflate},
			{0, 5000, 5000, CodecSnappy},
		} {
			file := writeFile(t, schema(tc.fields), tc.codec, tc.perBlock, nulls(tc.fields, tc.records))
			if n, err := count(New(), file); err != nil || n != int64(tc.records) {
				t.Errorf("%d records of %d null fields, %d a block: got %d events, %v", tc.records, tc.fields, tc.perBlock, n, err)
			}
		}
		// As a writer frames them, without encoding a thousand nulls 2000 times.
		file, _ := blocks(schema(1000), 2000)
		if n, err := count(New(), file); err != nil || n != 2000 {
			t.Errorf("2000 records of 1000 null fields: got %d events, %v", n, err)
		}
	})

	const quarter = maxZeroByteValues / 2 / 4 // of the records of two fields a file may hold
	tests := []struct {
		name    string
		fields  int
		counts  []int64
		block   int64 // that fails
		records int64 // the file claims there
		limit   int64
	}{
		{"one block claims the most a block may", 2, []int64{DefaultMaxBlockBytes}, 0, DefaultMaxBlockBytes, maxZeroByteValues / 2},
		{"many blocks", 2, slices.Repeat([]int64{quarter}, 10), 4, 5 * quarter, maxZeroByteValues / 2},
		{"wide records", 1000, []int64{2000, 97, 1}, 2, 2098, maxZeroByteValues / 1000},
		{"no fields", 0, []int64{maxZeroByteValues - 1, 2}, 1, maxZeroByteValues + 1, maxZeroByteValues},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file, starts := blocks(schema(tc.fields), tc.counts...)
			for _, workers := range []int{1, 2} {
				n, err := count(&Reader{Workers: workers}, file)
				var re *audit.ReadError
				if !errors.As(err, &re) || re.Block != tc.block || re.Offset != starts[tc.block] {
					t.Fatalf("workers=%d: got %v, want an error in block %d at offset %d", workers, err, tc.block, starts[tc.block])
				}
				want := fmt.Sprintf("record count %d brings the file to %d records, more than the %d a file may hold when its records encode to no bytes",
					tc.counts[tc.block], tc.records, tc.limit)
				if !strings.Contains(err.Error(), want) {
					t.Errorf("workers=%d: error %q does not say %q", workers, err, want)
				}
				var before int64
				for _, c := range tc.counts[:tc.block] {
					before += c
				}
				if n != before {
					t.Errorf("workers=%d: %d events, want the %d of the blocks before", workers, n, before)
				}
			}
		})
	}
}
