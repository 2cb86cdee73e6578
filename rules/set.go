package rules

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/dqaudit/dqaudit/internal/gzmembers"
)

// Set is a set of known ids that in_reference rules look values up in.
// Sets are exact and safe for concurrent reads.
type Set interface {
	// Has reports whether v's text is in the set: a string as it is, an
	// int by its decimal text (without allocating), null never.
	Has(v Value) bool
	// Len returns the number of distinct ids.
	Len() int
}

// SetBuilder builds a Set.
//
// The set is an open-addressing hash table of 16-byte slots. An id of up
// to 15 bytes is stored in its slot, so that a lookup costs one memory
// access; longer ids are kept in an arena that their slot points into.
// Added ids are first bucketed by the top bits of their hash, then
// inserted bucket by bucket, so that building walks the table in order
// instead of jumping around it: for millions of ids, that is several times
// faster than a map. 5M ids of 8 bytes take about 100 MB.
//
// Ids that are numerals, such as the "1888" of user ids, go in a bitmap
// instead when there are enough of them for the numbers they span: a
// lookup then reads the digits and one bit, and 5M users numbered from 1
// take 625 KB.
type SetBuilder struct {
	parts    [setParts][][]slot // added slots by hash bucket, in chunks
	chunk    int                // slots per chunk
	n        int                // slots added, repeats included
	arena    arena              // long ids
	hasEmpty bool
	nums     [][]uint64 // numerals (see numeral), in chunks
	numN     int        // numerals added, repeats included
	numMax   uint64     // the greatest of them
}

// arena holds long ids, each its uvarint length then its bytes, in
// chunks that are never moved: one growing slice would copy every id
// each time it grew and leave the old copies to the collector, which
// for 2M ids of 200 bytes peaked at three times the ids' size. An id's
// offset is its chunk's index in the top 32 bits and its place in the
// chunk below.
type arena [][]byte

// arenaChunk is the size of an arena chunk; a longer id gets a chunk
// of its own.
const arenaChunk = 4 << 20

func appendLong[T string | []byte](a *arena, id T) uint64 {
	need := binary.MaxVarintLen64 + len(id)
	if n := len(*a); n == 0 || cap((*a)[n-1])-len((*a)[n-1]) < need {
		*a = append(*a, make([]byte, 0, max(arenaChunk, need)))
	}
	c := &(*a)[len(*a)-1]
	off := uint64(len(*a)-1)<<32 | uint64(len(*c))
	*c = binary.AppendUvarint(*c, uint64(len(id)))
	*c = append(*c, id...)
	return off
}

func (a arena) id(off uint64) []byte {
	c := a[off>>32][off&(1<<32-1):]
	n, k := binary.Uvarint(c)
	return c[k : k+int(n)]
}

// slot is an id packed into 16 bytes. An id of 1 to 15 bytes is its
// length in the low byte of w0 and its bytes after; a longer one has
// longTag in that byte, the top 56 bits of its hash above, and its arena
// offset in w1. The zero slot is empty.
type slot struct{ w0, w1 uint64 }

const (
	maxShort   = 15
	maxNumeral = 1e15 // the least number of more than maxShort digits
	longTag    = 0x80
	setBits    = 8
	setParts   = 1 << setBits
)

// NewSetBuilder returns a builder expecting about sizeHint ids.
func NewSetBuilder(sizeHint int) *SetBuilder {
	return &SetBuilder{chunk: min(max(sizeHint/setParts, 64), 4096)}
}

// Add adds an id.
func (b *SetBuilder) Add(id string) {
	switch {
	case id == "":
		b.hasEmpty = true
	case len(id) <= maxShort:
		if x, ok := numeral(id); ok {
			b.putNum(x)
			return
		}
		b.put(pack(id))
	default:
		b.put(slot{xxhash.Sum64String(id)&^0xff | longTag, appendLong(&b.arena, id)})
	}
}

// AddBytes adds an id given as bytes, which the builder copies.
func (b *SetBuilder) AddBytes(id []byte) {
	switch {
	case len(id) == 0:
		b.hasEmpty = true
	case len(id) <= maxShort:
		if x, ok := numeral(string(id)); ok {
			b.putNum(x)
			return
		}
		b.put(pack(id))
	default:
		b.put(slot{xxhash.Sum64(id)&^0xff | longTag, appendLong(&b.arena, id)})
	}
}

// numeral returns the number an id of up to maxShort bytes spells when
// it is a numeral: decimal digits, without a leading zero unless it is
// "0", so that each number has one text and Has finds an int by its
// decimal text.
func numeral(id string) (uint64, bool) {
	if len(id) == 0 || len(id) > maxShort || id[0] == '0' && len(id) > 1 {
		return 0, false
	}
	var x uint64
	for i := 0; i < len(id); i++ {
		d := id[i] - '0'
		if d > 9 {
			return 0, false
		}
		x = x*10 + uint64(d)
	}
	return x, true
}

func (b *SetBuilder) putNum(x uint64) {
	if n := len(b.nums); n == 0 || len(b.nums[n-1]) == cap(b.nums[n-1]) {
		size := 64
		if n > 0 {
			size = min(2*cap(b.nums[n-1]), 1<<16)
		}
		b.nums = append(b.nums, make([]uint64, 0, size))
	}
	c := &b.nums[len(b.nums)-1]
	*c = append(*c, x)
	b.numN++
	b.numMax = max(b.numMax, x)
}

func (b *SetBuilder) put(s slot) {
	if b.chunk == 0 {
		b.chunk = 64
	}
	p := &b.parts[s.hash()>>(64-setBits)]
	if n := len(*p); n == 0 || len((*p)[n-1]) == cap((*p)[n-1]) {
		*p = append(*p, make([]slot, 0, b.chunk))
	}
	c := &(*p)[len(*p)-1]
	*c = append(*c, s)
	b.n++
}

func pack[T string | []byte](id T) slot {
	var p [16]byte
	p[0] = byte(len(id))
	copy(p[1:], id)
	return slot{binary.LittleEndian.Uint64(p[:8]), binary.LittleEndian.Uint64(p[8:])}
}

// packString is pack for an id of 1 to maxShort bytes, for lookups: it
// assembles the words from loads of the id, overlapping where the id is
// not a whole number of words, instead of copying it through memory,
// which costs a lookup of a short id a third of its time.
func packString(id string) slot {
	n := len(id)
	switch {
	case n >= 8:
		a, b := le64(id), le64(id[n-8:]) // b ends with id[8:]
		return slot{uint64(n) | a<<8, a>>56 | b>>(8*(16-n))<<8}
	case n >= 4:
		x := uint64(le32(id)) | uint64(le32(id[n-4:]))<<(8*(n-4))
		return slot{uint64(n) | x<<8, 0}
	}
	x := uint64(id[0]) | uint64(id[n/2])<<(8*(n/2)) | uint64(id[n-1])<<(8*(n-1))
	return slot{uint64(n) | x<<8, 0}
}

// le64 and le32 read the start of s as a little-endian word; the
// compiler makes each one load.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// hash returns where a slot goes in the table: from the packed words of
// a short id (a multiply-fold hash, as wyhash's), from the stored hash of
// a long one.
func (s slot) hash() uint64 {
	if s.w0&0xff == longTag {
		return s.w0
	}
	hi, lo := bits.Mul64(s.w0^0xa0761d6478bd642f, s.w1^0xe7037ed1a0b428db)
	hi, lo = bits.Mul64(hi^lo^0x8ebc6af09c88c6e3, 0x589965cc75374cc3)
	return hi ^ lo
}

// Bitmaps of numerals: one is made when its bits are at most
// bitsPerNumeral per numeral added, or minBitmap bits in all; else the
// numerals go in the hash table with the other ids.
const (
	bitsPerNumeral = 128 // the table takes 170 bits (16 bytes at a load of 3/4)
	minBitmap      = 1 << 16
)

// Set returns the set of the ids added so far and empties the builder.
func (b *SetBuilder) Set() Set {
	n := b.n
	var bitmap []uint64
	if b.numN > 0 {
		if span := b.numMax + 1; span <= minBitmap || span/bitsPerNumeral <= uint64(b.numN) {
			bitmap = make([]uint64, span/64+1)
		} else {
			n += b.numN
		}
	}
	size := n + n/3 + 1 // load at most 3/4, and one empty slot at least
	s := &hashSet{table: make([]slot, size), arena: b.arena, hasEmpty: b.hasEmpty, bits: bitmap}
	if s.hasEmpty {
		s.n++
	}
	for _, chunk := range b.nums {
		for _, x := range chunk {
			if bitmap != nil {
				w, bit := &bitmap[x/64], uint64(1)<<(x%64)
				if *w&bit == 0 {
					*w |= bit
					s.n++
				}
				continue
			}
			var buf [20]byte
			if s.insert(pack(strconv.AppendUint(buf[:0], x, 10))) {
				s.n++
			}
		}
	}
	for p := range b.parts {
		for _, chunk := range b.parts[p] {
			for _, x := range chunk {
				if s.insert(x) {
					s.n++
				}
			}
		}
		b.parts[p] = nil // let the collector have the chunks as we go
	}
	*b = SetBuilder{chunk: b.chunk}
	return s
}

type hashSet struct {
	table    []slot
	arena    arena
	n        int
	hasEmpty bool
	// bits holds the numerals when not nil: numeral x is in the set when
	// its bit x is set, and never in the table.
	bits []uint64
}

// hasNumeral reports whether the numeral x is in a set that has a bitmap.
func (s *hashSet) hasNumeral(x uint64) bool {
	return x/64 < uint64(len(s.bits)) && s.bits[x/64]>>(x%64)&1 != 0
}

// start returns the first slot to probe for hash h. The top bits decide,
// so that the buckets of SetBuilder map to consecutive stretches.
func (s *hashSet) start(h uint64) int {
	return int((h >> 32) * uint64(len(s.table)) >> 32)
}

func (s *hashSet) insert(x slot) bool {
	long := x.w0&0xff == longTag
	var id []byte
	if long {
		id = s.longID(x.w1)
	}
	for i := s.start(x.hash()); ; {
		t := &s.table[i]
		switch {
		case t.w0 == 0:
			*t = x
			return true
		case t.w0 == x.w0 && (!long && t.w1 == x.w1 || long && bytes.Equal(s.longID(t.w1), id)):
			return false
		}
		if i++; i == len(s.table) {
			i = 0
		}
	}
}

func (s *hashSet) longID(off uint64) []byte {
	return s.arena.id(off)
}

func (s *hashSet) has(id string) bool {
	var x slot
	long := false
	if s.bits != nil {
		if n, ok := numeral(id); ok {
			return s.hasNumeral(n)
		}
	}
	switch {
	case id == "":
		return s.hasEmpty
	case len(id) <= maxShort:
		x = packString(id)
	default:
		long = true
		x.w0 = xxhash.Sum64String(id)&^0xff | longTag
	}
	for i := s.start(x.hash()); ; {
		t := &s.table[i]
		switch {
		case t.w0 == 0:
			return false
		case t.w0 == x.w0 && (!long && t.w1 == x.w1 || long && string(s.longID(t.w1)) == id):
			return true
		}
		if i++; i == len(s.table) {
			i = 0
		}
	}
}

func (s *hashSet) Has(v Value) bool {
	switch v.Kind {
	case KindString:
		return s.has(v.Str)
	case KindNull:
		return false
	case KindFloat:
		if i, whole := v.wholeInt(); whole {
			v = Int(i)
		}
	}
	if v.Kind == KindInt && v.Int >= 0 && v.Int < maxNumeral && s.bits != nil {
		return s.hasNumeral(uint64(v.Int)) // its text is a numeral
	}
	var buf [32]byte
	return s.has(string(v.AppendText(buf[:0])))
}

func (s *hashSet) Len() int { return s.n }

// LoadSet reads the ids of a .csv or .txt reference, gzipped or not. A CSV
// file has a header row; the ids are in the column ref.Column. A .txt file
// has one id a line; blank lines and lines starting with # are skipped.
// Ids are trimmed of surrounding spaces, and empty ones are skipped.
// Avro references are read by the Avro reader into a SetBuilder. The
// caller expands {date} in ref.Path and resolves it against the config's
// directory as it sees fit; LoadSet opens the path as given. Errors name
// the file; the caller adds which reference it is.
func LoadSet(ref Reference) (Set, error) {
	if err := CheckSetPath(ref.Path); err != nil {
		return nil, err
	}
	f, err := os.Open(ref.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	return ReadSet(ref, f, size)
}

// CheckSetPath tells whether ReadSet reads files named like path.
func CheckSetPath(path string) error {
	switch refExt(path) {
	case ".csv", ".txt":
		return nil
	case ".avro":
		return fmt.Errorf("%s: LoadSet reads .csv and .txt files; Avro references are read by the Avro reader", path)
	}
	return fmt.Errorf("%s: a reference file must end in .csv, .txt, .csv.gz or .txt.gz", path)
}

// ReadSet is LoadSet reading from f, the content of ref.Path, whose size
// (0 when unknown) sizes the table.
func ReadSet(ref Reference, f io.Reader, size int64) (Set, error) {
	if err := CheckSetPath(ref.Path); err != nil {
		return nil, err
	}
	kind := refExt(ref.Path)
	hint := int(min(size/16, 1<<26))
	var r io.Reader = f
	var err error
	if strings.HasSuffix(strings.ToLower(withoutQuery(ref.Path)), ".gz") {
		// Member by member, as GNU gzip reads: zero padding after the
		// last member is skipped, as it is for the inputs.
		cr := &byteCounter{r: f}
		src := bufio.NewReaderSize(cr, 1<<16)
		zr, err := gzmembers.NewReader(src, func() int64 { return cr.n - int64(src.Buffered()) })
		if err != nil {
			return nil, fmt.Errorf("%s: not a gzip file: %w", ref.Path, err)
		}
		defer zr.Close()
		r = zr
		hint *= 4
	}
	b := NewSetBuilder(hint)
	br := bufio.NewReaderSize(r, 1<<16)
	if kind == ".csv" {
		err = readCSV(br, ref, b)
	} else {
		err = readTxt(br, ref.Path, b)
	}
	if err != nil {
		return nil, err
	}
	return b.Set(), nil
}

// lineReader returns lines without their line ending, reusing its buffer.
type lineReader struct {
	r    *bufio.Reader
	buf  []byte
	line int
}

func (lr *lineReader) next() ([]byte, error) {
	line, err := lr.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		lr.buf = append(lr.buf[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = lr.r.ReadSlice('\n')
			lr.buf = append(lr.buf, line...)
		}
		line = lr.buf
	}
	if len(line) == 0 && err != nil {
		return nil, err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	lr.line++
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return line, nil
}

func readTxt(r *bufio.Reader, path string, b *SetBuilder) error {
	lr := &lineReader{r: r}
	for {
		line, err := lr.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s:%d: %w", path, lr.line+1, err)
		}
		if lr.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff")) // as readCSV does
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		b.AddBytes(line)
	}
}

// readCSV reads the column of a CSV file. Lines without quotes, nearly
// all of them in practice, are split by hand; from the first quote on,
// encoding/csv reads the rest, since a quoted field may span lines.
func readCSV(r *bufio.Reader, ref Reference, b *SetBuilder) error {
	lr := &lineReader{r: r}
	header, err := lr.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: the file is empty; it needs a header row naming column %q", ref.Path, ref.Column)
		}
		return fmt.Errorf("%s: %w", ref.Path, err)
	}
	header = bytes.TrimPrefix(header, []byte("\ufeff"))
	names, err := csv.NewReader(bytes.NewReader(header)).Read()
	if err != nil {
		return fmt.Errorf("%s:1: bad header: %w", ref.Path, err)
	}
	col := -1
	for i, n := range names {
		if strings.TrimSpace(n) == ref.Column {
			col = i
			break
		}
	}
	if col < 0 {
		return fmt.Errorf("%s: no column %q in the header%s; its columns are %s",
			ref.Path, ref.Column, didYouMean(ref.Column, names), list(quoteAll(names), "and"))
	}
	short := func(line int, n int) error {
		return fmt.Errorf("%s:%d: the row has %d fields, so no column %q (field %d)", ref.Path, line, n, ref.Column, col+1)
	}
	for {
		line, err := lr.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s:%d: %w", ref.Path, lr.line+1, err)
		}
		if bytes.IndexByte(line, '"') >= 0 {
			return readCSVQuoted(line, lr, ref, col, b)
		}
		if len(line) == 0 {
			continue
		}
		field, n := csvField(line, col)
		if n <= col {
			return short(lr.line, n)
		}
		if field = bytes.TrimSpace(field); len(field) > 0 {
			b.AddBytes(field)
		}
	}
}

// csvField returns field i of an unquoted CSV line, and how many fields
// it saw (at most i+1).
func csvField(line []byte, i int) ([]byte, int) {
	for n := 0; ; n++ {
		j := bytes.IndexByte(line, ',')
		if n == i {
			if j >= 0 {
				return line[:j], n + 1
			}
			return line, n + 1
		}
		if j < 0 {
			return nil, n + 1
		}
		line = line[j+1:]
	}
}

func readCSVQuoted(first []byte, lr *lineReader, ref Reference, col int, b *SetBuilder) error {
	rest := append(append([]byte(nil), first...), '\n')
	cr := csv.NewReader(io.MultiReader(bytes.NewReader(rest), lr.r))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	base := lr.line - 1 // lines before the csv reader's first
	for {
		rec, err := cr.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fmt.Errorf("%s:%d:%d: %w", ref.Path, base+pe.Line, pe.Column, pe.Err)
			}
			return fmt.Errorf("%s: %w", ref.Path, err)
		}
		if len(rec) <= col {
			line, _ := cr.FieldPos(0)
			return fmt.Errorf("%s:%d: the row has %d fields, so no column %q (field %d)", ref.Path, base+line, len(rec), ref.Column, col+1)
		}
		if id := strings.TrimSpace(rec[col]); id != "" {
			b.Add(id)
		}
	}
}

func quoteAll(s []string) []string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = strconv.Quote(x)
	}
	return q
}

// byteCounter counts the bytes read through it, for offsets in a gzip
// file's errors.
type byteCounter struct {
	r io.Reader
	n int64
}

func (c *byteCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
