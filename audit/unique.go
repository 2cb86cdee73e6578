package audit

import (
	"bufio"
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"unsafe"
)

// DefaultUniqueMemory is the memory the keys of unique rules may take in
// a scan before they are spilled to temporary files (Options.UniqueMemory).
const DefaultUniqueMemory = 8 << 20

// minUniqueLimit is the fewest occurrences a buffer holds before it
// spills under the default budget, so that a spill is worth its file.
const minUniqueLimit = 1024

// SpillError is the error of keys of a unique rule that could not be
// written to, or read back from, a temporary file: the rule's counts
// would miss keys, so there are none.
type SpillError struct {
	Err error
}

func (e *SpillError) Error() string { return "spill the keys of a unique rule: " + e.Err.Error() }

func (e *SpillError) Unwrap() error { return e.Err }

// keyRec is one occurrence of a unique rule's key, or, read from a
// partial, n occurrences of which pos is the first known one: the others
// lie after every position the partial kept for the key.
type keyRec struct {
	key [2]uint64
	pos Position
	n   int64
}

const keyRecSize = int(unsafe.Sizeof(keyRec{}))

func compareRec(a, b *keyRec) int {
	if c := cmp.Or(cmp.Compare(a.key[0], b.key[0]), cmp.Compare(a.key[1], b.key[1])); c != 0 {
		return c
	}
	switch {
	case a.pos.Less(b.pos):
		return -1
	case b.pos.Less(a.pos):
		return 1
	}
	return 0
}

// uniqueKeys holds the keys one goroutine saw for one unique rule: a
// buffer of occurrences that, each time it holds limit of them, is sorted
// and written to an unlinked temporary file (a run), so that memory stays
// bounded however many keys a day has. Only the first keep positions of a
// key are ever needed (the first occurrence and the samples), so a run
// keeps at most keep records per key, the last one counting the rest.
// Runs are merged, smallest first, whenever there are more than maxRuns.
// Counting happens once, in each. Spill errors are kept in err; the scan
// reports them.
type uniqueKeys struct {
	limit int
	keep  int
	buf   []keyRec
	runs  []run
	err   error
}

// run is a temporary file of records sorted by key, then position.
type run struct {
	f    *os.File
	recs int64
}

// maxRuns bounds the runs a uniqueKeys keeps open, and with them the
// file descriptors and the buffers of the final merge; fanIn runs are
// merged at a time.
const (
	maxRuns = 16
	fanIn   = 8
)

func newUniqueKeys(limit, keep int) *uniqueKeys {
	return &uniqueKeys{limit: max(limit, 1), keep: max(keep, 1)}
}

func (u *uniqueKeys) add(key [2]uint64, pos Position, n int64) {
	if len(u.buf) == cap(u.buf) && cap(u.buf) < u.limit {
		// Grow to at most limit, not past it as append would.
		u.buf = slices.Grow(u.buf, min(max(2*cap(u.buf), 64), u.limit)-len(u.buf))
	}
	u.buf = append(u.buf, keyRec{key, pos, n})
	if len(u.buf) >= u.limit {
		u.spill()
	}
}

// merge moves o's keys into u; o must not be used afterwards.
func (u *uniqueKeys) merge(o *uniqueKeys) {
	u.runs = append(u.runs, o.runs...)
	u.err = cmp.Or(u.err, o.err)
	for _, r := range o.buf {
		u.add(r.key, r.pos, r.n)
	}
	o.buf, o.runs = nil, nil
	u.compact()
}

// spill writes the buffer to a new run.
func (u *uniqueKeys) spill() {
	recs := u.buf
	u.buf = u.buf[:0]
	if u.err != nil {
		return
	}
	slices.SortFunc(recs, func(a, b keyRec) int { return compareRec(&a, &b) })
	r, err := u.write([]*recSource{{mem: recs}})
	if err != nil {
		u.err = err
		return
	}
	u.runs = append(u.runs, r)
	u.compact()
}

// compact merges the fanIn smallest runs into one while there are more
// than maxRuns: each record is rewritten about log_fanIn(runs) times.
func (u *uniqueKeys) compact() {
	for u.err == nil && len(u.runs) > maxRuns {
		slices.SortFunc(u.runs, func(a, b run) int { return cmp.Compare(a.recs, b.recs) })
		srcs := make([]*recSource, fanIn)
		for i, r := range u.runs[:fanIn] {
			srcs[i] = r.source()
		}
		merged, err := u.write(srcs)
		for _, r := range u.runs[:fanIn] {
			r.f.Close()
		}
		u.runs = append(u.runs[:0], u.runs[fanIn:]...)
		if err != nil {
			u.err = err
			return
		}
		u.runs = append(u.runs, merged)
	}
}

// write merges srcs into a new run, at most keep records per key. The
// file is unlinked at once, so that nothing is left behind however the
// process ends.
func (u *uniqueKeys) write(srcs []*recSource) (run, error) {
	f, err := os.CreateTemp("", "dqaudit-unique-*")
	if err != nil {
		return run{}, &SpillError{err}
	}
	os.Remove(f.Name())
	w := bufio.NewWriterSize(f, 64<<10)
	var b []byte
	var n int64
	err = mergeGroups(context.Background(), srcs, u.keep, func(key [2]uint64, count int64, pos []Position) {
		for i, p := range pos {
			r := keyRec{key: key, pos: p, n: 1}
			if i == len(pos)-1 {
				r.n = count - int64(len(pos)-1) // the occurrences not kept lie after p
			}
			b = appendRec(b[:0], &r)
			w.Write(b)
			n++
		}
	})
	if err == nil {
		if err = w.Flush(); err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err != nil {
			err = &SpillError{fmt.Errorf("%s: %w", f.Name(), err)}
		}
	}
	if err != nil {
		f.Close()
		return run{}, err
	}
	return run{f, n}, nil
}

func (r run) source() *recSource {
	return &recSource{file: bufio.NewReaderSize(r.f, 32<<10), name: r.f.Name()}
}

// close drops u's keys and closes its runs.
func (u *uniqueKeys) close() {
	for _, r := range u.runs {
		r.f.Close()
	}
	u.buf, u.runs = nil, nil
}

// A run holds records one after another: the key as two little-endian
// words, then the position's file, line, block and record and the count n
// as uvarints.
func appendRec(b []byte, r *keyRec) []byte {
	b = binary.LittleEndian.AppendUint64(b, r.key[0])
	b = binary.LittleEndian.AppendUint64(b, r.key[1])
	for _, x := range [...]uint64{uint64(r.pos.File), uint64(r.pos.Line), uint64(r.pos.Block), uint64(r.pos.Record), uint64(r.n)} {
		b = binary.AppendUvarint(b, x)
	}
	return b
}

func readRec(r *bufio.Reader, rec *keyRec) error {
	var k [16]byte
	if _, err := io.ReadFull(r, k[:]); err != nil {
		return err // io.EOF at a record boundary: the end of the run
	}
	rec.key = [2]uint64{binary.LittleEndian.Uint64(k[:8]), binary.LittleEndian.Uint64(k[8:])}
	var x [5]uint64
	for i := range x {
		v, err := binary.ReadUvarint(r)
		if err != nil {
			return cmp.Or(noEOF(err), errors.New("bad record"))
		}
		x[i] = v
	}
	rec.pos = Position{File: int32(x[0]), Line: int64(x[1]), Block: int64(x[2]), Record: int64(x[3])}
	rec.n = int64(x[4])
	return nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// each calls fn once per key, in key order, with the number of times it
// occurred and its smallest positions, at most u.keep of them, in order,
// in a slice that is reused after fn returns. It consumes u: its buffer
// and runs are gone afterwards. It stops when ctx ends.
func (u *uniqueKeys) each(ctx context.Context, fn func(key [2]uint64, count int64, first []Position)) error {
	defer u.close()
	if u.err != nil {
		return u.err
	}
	slices.SortFunc(u.buf, func(a, b keyRec) int { return compareRec(&a, &b) })
	srcs := []*recSource{{mem: u.buf}}
	for _, r := range u.runs {
		srcs = append(srcs, r.source())
	}
	return mergeGroups(ctx, srcs, u.keep, fn)
}

// mergeGroups merges the sorted sources and calls fn once per key, as
// each does.
func mergeGroups(ctx context.Context, srcs []*recSource, keep int, fn func(key [2]uint64, count int64, first []Position)) error {
	h := make(recHeap, 0, len(srcs))
	for _, s := range srcs {
		if err := s.next(); err != nil {
			return err
		}
		if !s.done {
			h = append(h, s)
		}
	}
	heap.Init(&h)
	var (
		key   [2]uint64
		count int64
		pos   []Position
	)
	for n := 0; len(h) > 0; n++ {
		if n%(1<<16) == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		s := h[0]
		r := &s.rec
		if count > 0 && r.key != key {
			fn(key, count, pos)
			count, pos = 0, pos[:0]
		}
		key = r.key
		count += r.n
		if len(pos) < keep {
			pos = append(pos, r.pos)
		}
		if err := s.next(); err != nil {
			return err
		}
		if s.done {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
	if count > 0 {
		fn(key, count, pos)
	}
	return nil
}

// recSource reads the records of the buffer or of one run, in order.
type recSource struct {
	mem  []keyRec
	file *bufio.Reader
	name string
	rec  keyRec
	done bool
}

func (s *recSource) next() error {
	if s.file == nil {
		if len(s.mem) == 0 {
			s.done = true
			return nil
		}
		s.rec, s.mem = s.mem[0], s.mem[1:]
		return nil
	}
	switch err := readRec(s.file, &s.rec); {
	case err == io.EOF:
		s.done = true
	case err != nil:
		return &SpillError{fmt.Errorf("read back %s: %w", s.name, err)}
	}
	return nil
}

// recHeap orders sources by their current record.
type recHeap []*recSource

func (h recHeap) Len() int           { return len(h) }
func (h recHeap) Less(i, j int) bool { return compareRec(&h[i].rec, &h[j].rec) < 0 }
func (h recHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *recHeap) Push(x any)        { *h = append(*h, x.(*recSource)) }
func (h *recHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
