package audit

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/dqaudit/dqaudit/internal/gzmembers"
)

// Gunzip is an external program that decompresses .gz files faster than
// the built-in Go decoder: ISA-L's igzip inflates about 3.5 times as fast
// here. A scan pipes each compressed stream through it and falls back to
// the built-in decoder, from the start of the file, whenever the
// program's output cannot be shown to be the whole stream (see
// gunzipReader).
type Gunzip struct {
	Path string   // the program
	Args []string // arguments that make it decompress stdin to stdout
	// MinBytes is the compressed size below which a file of known size
	// is decompressed by the built-in decoder instead: starting the
	// program costs more than inflating a small file, and a day of
	// thousands of small .gz files ran 3 times slower through igzip.
	MinBytes int64
}

// DefaultGunzipMinBytes is Gunzip.MinBytes as FindGunzip sets it. igzip
// took 1.8 ms of CPU for a 65 KB file, 6.5 ms for 640 KB, against about
// 0.6 and 6 ms built in; above that the program wins, and it runs beside
// the scan on a core of its own.
const DefaultGunzipMinBytes = 256 << 10

// FindGunzip resolves how .gz files are decompressed. spec is "auto" (or
// empty): igzip when it is on PATH for files of DefaultGunzipMinBytes
// and more, else the built-in decoder; "go": the built-in decoder; or the
// name or path of a program that takes "-dc" as gzip does, used for every
// file. It returns nil for the built-in decoder.
//
// pigz is not chosen by auto: its reader, writer and check threads
// compete with the scan's, and piped into a scan on two cores it was
// slower than the built-in decoder. It can still be named.
func FindGunzip(spec string) (*Gunzip, error) {
	switch spec {
	case "go":
		return nil, nil
	case "", "auto":
		if p, err := exec.LookPath("igzip"); err == nil {
			return &Gunzip{Path: p, Args: []string{"-dc"}, MinBytes: DefaultGunzipMinBytes}, nil
		}
		return nil, nil
	}
	p, err := exec.LookPath(spec)
	if err != nil {
		return nil, fmt.Errorf("gunzip program %q: %w (use auto, go, or a program that takes -dc)", spec, err)
	}
	return &Gunzip{Path: p, Args: []string{"-dc"}}, nil // named: used for every file
}

// pipeBytes is the pipe buffer asked for between the program and the scan.
const pipeBytes = 1 << 20

// maxToolStderr bounds what is kept of the program's error output.
const maxToolStderr = 4 << 10

// gunzipReader streams the decompressed output of a Gunzip program fed
// with a compressed stream. Its output is accepted only when all of these
// hold: the program exits 0 after exec's copier fed it the whole input,
// or all but zero bytes that follow what it took; the built-in decoder
// accepts the stream's header (igzip lets reserved flag bits pass); and
// the eight bytes before the zero bytes that end the stream, if any, are
// a gzip trailer that holds the CRC-32 and the length modulo 2^32 of
// everything the program wrote. That is a whole single-member file,
// perhaps padded with zeros, which the built-in decoder accepts too. A
// truncated or corrupt file, several members, or trailing garbage (which
// igzip and pigz ignore) fail it, and the caller reads the file again with
// the built-in decoder, which decides. One damage passes: trailing bytes
// that end with a copy of the real trailer, and perhaps zeros after it,
// which the built-in decoder rejects.
type gunzipReader struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *limitedBuffer
	in     *eofReader  // the compressed stream, as fed to the program
	head   *headWriter // its first bytes: the gzip header
	tail   *tailWriter // its end: the trailer and any zeros after it
	crc    uint32      // CRC-32 of the output read so far
	n      int64       // bytes of output read
	err    error       // sticky: io.EOF once the output is accepted
	failed error       // why the output was not accepted, if so
	// the program exited 0 but its output is not one member's
	wholeButOther bool
	once          sync.Once

	padding int64 // zero bytes after the trailer, once the output is accepted

	// A local file the program reads itself (see startGunzipFile), and
	// how much of it the counters have been given, as its offset.
	file        *os.File
	taken       int64
	read, total *atomic.Int64
}

func startGunzip(ctx context.Context, g *Gunzip, compressed io.Reader) (*gunzipReader, error) {
	r := newGunzipReader()
	r.in.r = compressed
	if err := r.start(ctx, g, io.TeeReader(r.in, io.MultiWriter(r.head, r.tail))); err != nil {
		return nil, err
	}
	return r, nil
}

// startGunzipFile is startGunzip for a local regular file f, opened at
// its start: the program is given f itself as its input, so no goroutine
// copies the compressed bytes through a pipe (0.06-0.1 s of CPU for a
// 62 MB file here, on top of the 0.3 s the program takes). The checks are
// the same. The header and trailer are read from the file (ReadAt leaves
// the offset alone), and the file's offset, which the program shares,
// says whether it took all its input and how much of it has been read for
// the counters read and total (either may be nil).
func startGunzipFile(ctx context.Context, g *Gunzip, f *os.File, read, total *atomic.Int64) (*gunzipReader, error) {
	r := newGunzipReader()
	r.file, r.read, r.total = f, read, total
	if err := r.start(ctx, g, f); err != nil {
		return nil, err
	}
	return r, nil
}

func newGunzipReader() *gunzipReader {
	return &gunzipReader{
		stderr: &limitedBuffer{max: maxToolStderr},
		in:     &eofReader{},
		head:   &headWriter{max: maxGzipHeader},
		tail:   &tailWriter{},
	}
}

// start runs the program with stdin as its input and its output on a pipe.
func (r *gunzipReader) start(ctx context.Context, g *Gunzip, stdin io.Reader) error {
	cmd := exec.CommandContext(ctx, g.Path, g.Args...)
	cmd.Stdin = stdin
	cmd.Stderr = r.stderr
	// A program that leaves a child holding its stderr open must not keep
	// Wait waiting.
	cmd.WaitDelay = 5 * time.Second
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	growPipe(pw, pipeBytes)
	cmd.Stdout = pw
	err = cmd.Start()
	pw.Close() // the program holds its own copy
	if err != nil {
		pr.Close()
		return err
	}
	r.cmd, r.out = cmd, pr
	return nil
}

// account gives the counters what the program has read of the file since
// the last call.
func (r *gunzipReader) account() {
	off, err := r.file.Seek(0, io.SeekCurrent)
	if err != nil || off <= r.taken {
		return
	}
	if r.read != nil {
		r.read.Add(off - r.taken)
	}
	if r.total != nil {
		r.total.Add(off - r.taken)
	}
	r.taken = off
}

// readEnds fills head and tail from the file, and in.eof from whether
// the program read it to its end, as feeding it through the pipe would.
// Zero bytes after what the program read count as read (igzip stops at
// the first byte of a read that starts no member, and it reads 1 MiB at
// a time), and are given to the counters. An error leaves head and tail
// empty, so that the output is refused; it is returned to say why.
func (r *gunzipReader) readEnds() error {
	st, err := r.file.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	end, err := endOfNonZero(r.file, size)
	if err != nil {
		return err
	}
	if end <= r.taken && r.taken < size {
		if r.read != nil {
			r.read.Add(size - r.taken)
		}
		if r.total != nil {
			r.total.Add(size - r.taken)
		}
		r.taken = size
	}
	r.in.eof = r.taken >= size
	head := make([]byte, min(size, maxGzipHeader))
	n, _ := r.file.ReadAt(head, 0)
	r.head.Write(head[:n])
	var last [8]byte
	from := max(end-8, 0)
	if _, err := r.file.ReadAt(last[8-(end-from):], from); err != nil {
		return err
	}
	r.tail.last, r.tail.zeros, r.tail.n = last, size-end, size
	return nil
}

// endOfNonZero returns the offset in f, of size bytes, just past its last
// byte that is not zero: size when f does not end with a zero byte, 0
// when f holds only zeros.
func endOfNonZero(f *os.File, size int64) (int64, error) {
	buf := make([]byte, 32<<10)
	for end := size; end > 0; {
		from := max(end-int64(len(buf)), 0)
		b := buf[:end-from]
		if _, err := f.ReadAt(b, from); err != nil {
			return 0, err
		}
		if i := lastNonZero(b); i >= 0 {
			return from + int64(i) + 1, nil
		}
		end = from
	}
	return 0, nil
}

// drainZeros reads what the program left of a piped input, as when
// igzip stops at padding, into head and tail: in.eof is set when it is
// all zero bytes.
func (r *gunzipReader) drainZeros() {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.in.Read(buf)
		r.head.Write(buf[:n])
		r.tail.Write(buf[:n])
		if gzmembers.NonZero(buf[:n]) >= 0 || err != nil {
			return
		}
	}
}

func (r *gunzipReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.out.Read(p)
	if r.file != nil {
		r.account()
	}
	r.n += int64(n)
	r.crc = crc32.Update(r.crc, crc32.IEEETable, p[:n])
	switch {
	case err == io.EOF:
		r.err = r.finish()
	case err != nil:
		r.failed = err
		r.err = err
	}
	return n, r.err
}

// finish waits for the program and decides whether its output is whole.
func (r *gunzipReader) finish() error {
	var err, endsErr error
	r.once.Do(func() { err = r.cmd.Wait() })
	switch {
	case r.file != nil:
		r.account()
		endsErr = r.readEnds()
	case err == nil && !r.in.eof:
		r.drainZeros()
	}
	name := filepath.Base(r.cmd.Path)
	switch {
	case endsErr != nil:
		r.failed = fmt.Errorf("%s: reading the input's header and trailer: %w", name, endsErr)
	case err != nil:
		if msg := strings.TrimSpace(r.stderr.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		r.failed = fmt.Errorf("%s: %w", name, err)
	case !r.in.eof:
		// The trailer checked below would not be the stream's.
		r.failed = fmt.Errorf("%s exited before taking all its input", name)
	case !r.head.valid():
		r.failed = fmt.Errorf("%s accepted a gzip header the built-in decoder refuses", name)
	case !r.tail.full():
		r.failed = fmt.Errorf("%s: input shorter than a gzip trailer", name)
	default:
		padding, ok := r.tail.trailer(r.crc, uint32(r.n))
		if ok {
			r.padding = padding
			return io.EOF
		}
		crc, isize := r.tail.lastTrailer()
		r.wholeButOther = true
		r.failed = fmt.Errorf("%s wrote %d bytes with CRC-32 %08x; the last gzip trailer says %d (mod 2^32) and %08x (several members, or trailing bytes)",
			name, r.n, r.crc, isize, crc)
	}
	return r.failed
}

// Padding returns how many zero bytes followed the gzip trailer, once the
// output has been accepted.
func (r *gunzipReader) Padding() int64 { return r.padding }

// Failed returns why the output was not accepted, or nil when it was or
// the stream was not read to its end.
func (r *gunzipReader) Failed() error { return r.failed }

// Drain reads the rest of the output, so that whether the program's output
// is accepted is known even when the reader stopped early.
func (r *gunzipReader) Drain() {
	io.Copy(io.Discard, r)
}

// Close stops the program if it still runs and releases its pipes.
func (r *gunzipReader) Close() error {
	r.out.Close()
	r.once.Do(func() {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	})
	return nil
}

// eofReader notes when its reader has returned io.EOF. The program's
// input is copied by exec's goroutine, which Wait waits for, so eof can be
// read after Wait.
type eofReader struct {
	r   io.Reader
	eof bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.eof = true
	}
	return n, err
}

// maxGzipHeader bounds the header kept for checking; a longer one (a huge
// file name or extra field) fails the check, and the built-in decoder
// reads the file.
const maxGzipHeader = 64 << 10

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	buf []byte
	max int
}

func (h *headWriter) Write(p []byte) (int, error) {
	if room := h.max - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

// valid reports whether the built-in decoder accepts the header.
func (h *headWriter) valid() bool {
	zr, err := gzip.NewReader(bytes.NewReader(h.buf))
	if err != nil {
		return false
	}
	zr.Close()
	return true
}

// tailWriter keeps what a gzip trailer is looked for in: the eight bytes
// written that end with the last one that is not zero, and how many zero
// bytes follow it.
type tailWriter struct {
	last  [8]byte // zero-filled on the left while fewer were written
	zeros int64
	n     int64
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.n += int64(len(p))
	i := lastNonZero(p)
	if i < 0 {
		t.zeros += int64(len(p))
		return len(p), nil
	}
	if q := p[:i+1]; len(q) >= 8 {
		copy(t.last[:], q[len(q)-8:])
	} else {
		// the last eight bytes so far, zeros included, come before q
		end := t.end()
		copy(t.last[:], end[len(q):])
		copy(t.last[8-len(q):], q)
	}
	t.zeros = int64(len(p) - i - 1)
	return len(p), nil
}

func (t *tailWriter) full() bool { return t.n >= 8 }

// end returns the last eight bytes written.
func (t *tailWriter) end() [8]byte {
	var b [8]byte
	if t.zeros < 8 {
		copy(b[:], t.last[t.zeros:])
	}
	return b
}

// lastTrailer returns the CRC-32 and ISIZE that the last eight bytes
// written would hold as a gzip trailer.
func (t *tailWriter) lastTrailer() (crc, isize uint32) {
	b := t.end()
	return binary.LittleEndian.Uint32(b[:4]), binary.LittleEndian.Uint32(b[4:])
}

// trailer reports whether what was written ends with a gzip trailer of
// crc and isize followed by zero bytes only, and how many zero bytes.
// A trailer may end with zero bytes itself: those are its own, not
// padding. A trailer of zeros only (an empty member) cannot be told from
// padding; all the zeros but its eight are counted as padding then, zero
// bytes that end the compressed data included.
func (t *tailWriter) trailer(crc, isize uint32) (padding int64, ok bool) {
	var want [8]byte
	binary.LittleEndian.PutUint32(want[:4], crc)
	binary.LittleEndian.PutUint32(want[4:], isize)
	own := int64(8 - 1 - lastNonZero(want[:])) // want's zero bytes at its end
	if own == 8 {
		return t.zeros - 8, t.zeros >= 8
	}
	if t.zeros < own || t.n-t.zeros < 8-own {
		return 0, false
	}
	return t.zeros - own, bytes.Equal(t.last[own:], want[:8-own])
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// gunzipRefusal is readFile's error when the program's output was
// refused; the scan reads the file again with the built-in decoder.
type gunzipRefusal struct {
	err error
	// wholeButOther: the program read the file cleanly but the output is
	// not that of one member (several members, or trailing bytes).
	wholeButOther bool
}

func (e *gunzipRefusal) Error() string { return "gunzip output refused: " + e.err.Error() }
func (e *gunzipRefusal) Unwrap() error { return e.err }

// lastNonZero returns the index of the last byte of b that is not zero,
// or -1.
func lastNonZero(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != 0 {
			return i
		}
	}
	return -1
}
