package avro

import (
	"bytes"
	"errors"
	"runtime"
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
	}{
		{"truncated in data", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return f[:b[3].data+5], 3
		}, "unexpected EOF"},
		{"truncated in sync", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return f[:b[7].end+3], 7
		}, "read sync marker: unexpected EOF"},
		{"truncated in count", []string{CodecNull}, func(f []byte, _ int, b []span) ([]byte, int) {
			return append(bytes.Clone(f[:b[4].start]), 0x80), 4
		}, "read record count: unexpected EOF"},
		{"truncated header", nil, func(f []byte, head int, _ []span) ([]byte, int) {
			return f[:head-3], -1
		}, "read sync marker"},
		{"empty file", []string{CodecNull}, func([]byte, int, []span) ([]byte, int) {
			return nil, -1
		}, "empty file: not an Avro object container file"},
		{"cut in the magic", []string{CodecNull}, func(f []byte, _ int, _ []span) ([]byte, int) {
			return f[:2], -1
		}, "read magic: unexpected EOF"},
		{"bad magic", nil, func(f []byte, _ int, _ []span) ([]byte, int) {
			return splice(f, 3, 4, []byte{2}), -1
		}, "not an Avro object container file"},
		{"bad sync", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			bad := bytes.Clone(f)
			bad[b[4].end+9] ^= 0x40
			return bad, 4
		}, "sync marker mismatch"},
		{"unknown codec", []string{CodecNull}, func(f []byte, head int, _ []span) ([]byte, int) {
			return append(appendHeader(nil, watchSchema, "brotli", [16]byte{}), f[head:]...), -1
		}, `unsupported codec "brotli"`},
		{"no schema", []string{CodecNull}, func(f []byte, _ int, _ []span) ([]byte, int) {
			return append([]byte(magic), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), -1
		}, "no avro.schema"},
		{"bad schema", []string{CodecNull}, func(f []byte, head int, _ []span) ([]byte, int) {
			return append(appendHeader(nil, `{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}`, "null", [16]byte{}), f[head:]...), -1
		}, "schema"},
		{"not a record", []string{CodecNull}, func(f []byte, head int, _ []span) ([]byte, int) {
			return appendHeader(nil, `"string"`, "null", [16]byte{}), -1
		}, "not a record"},
		{"corrupt deflate", []string{CodecDeflate}, func(f []byte, _ int, b []span) ([]byte, int) {
			return splice(f, b[5].data, b[5].end, bytes.Repeat([]byte{0xff}, b[5].end-b[5].data)), 5
		}, "deflate"},
		{"corrupt zstandard", []string{CodecZstandard}, func(f []byte, _ int, b []span) ([]byte, int) {
			return splice(f, b[5].data, b[5].end, bytes.Repeat([]byte{0xff}, b[5].end-b[5].data)), 5
		}, "zstandard"},
		{"corrupt snappy", []string{CodecSnappy}, func(f []byte, _ int, b []span) ([]byte, int) {
			return splice(f, b[5].data, b[5].end, bytes.Repeat([]byte{0xff}, b[5].end-b[5].data)), 5
		}, "snappy"},
		{"snappy checksum", []string{CodecSnappy}, func(f []byte, _ int, b []span) ([]byte, int) {
			bad := bytes.Clone(f)
			bad[b[2].end-1] ^= 1
			return bad, 2
		}, "snappy checksum mismatch"},
		{"snappy without checksum", []string{CodecSnappy}, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(splice(f, b[2].data, b[2].end, []byte{1, 2}), b[2], b[2].count, 2), 2
		}, "shorter than its checksum"},
		{"huge count", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[6], 1<<40, int64(b[6].end-b[6].data)), 6
		}, "record count 1099511627776 out of bounds"},
		{"negative count", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[6], -3, int64(b[6].end-b[6].data)), 6
		}, "record count -3 out of bounds"},
		{"count too big for bytes", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[1], 1_000_000, int64(b[1].end-b[1].data)), 1
		}, "records cannot fit in"},
		{"huge size", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[6], b[6].count, 1<<40), 6
		}, "block size 1099511627776 out of bounds"},
		{"size past end", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[6], b[6].count, DefaultMaxBlockBytes-1), 6
		}, "read block data: unexpected EOF"},
		{"count one short", []string{CodecNull}, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[8], b[8].count-1, int64(b[8].end-b[8].data)), 8
		}, "bytes left in block after its 99 records"},
		{"count one long", []string{CodecNull}, func(f []byte, _ int, b []span) ([]byte, int) {
			return reframe(f, b[8], b[8].count+1, int64(b[8].end-b[8].data)), 8
		}, "record 100"},
		{"bad string length", []string{CodecNull}, func(f []byte, _ int, b []span) ([]byte, int) {
			return splice(f, b[2].data, b[2].data+1, []byte{0x7f}), 2 // record 0's time claims -64 bytes
		}, "record 0"},
		{"garbage after last block", nil, func(f []byte, _ int, b []span) ([]byte, int) {
			return append(bytes.Clone(f), "trailing garbage"...), len(b)
		}, ""},
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
				wantOffset, wantBlock := int64(0), int64(-1)
				if block >= 0 {
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
