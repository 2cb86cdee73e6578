package audit

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// Gunzip is an external program that decompresses .gz files faster than
// the built-in Go decoder: ISA-L's igzip inflates about 3.5 times as fast
// here. A scan pipes each compressed stream
// through it and falls back to the built-in decoder, from the start of
// the file, whenever the program's output cannot be trusted to be the
// whole stream (see gunzipReader), so results never depend on whether
// the program is installed.
type Gunzip struct {
	Path string   // the program
	Args []string // arguments that make it decompress stdin to stdout
}

// gunzipTools are the programs FindGunzip looks for, fastest first.
var gunzipTools = []struct {
	name string
	args []string
}{
	// pigz is not here: its reader, writer and check threads compete with
	// the scan's, and piped into a scan on two cores it was slower than
	// the built-in decoder. It can still be named.
	{"igzip", []string{"-dc"}},
}

// FindGunzip resolves how .gz files are decompressed. spec is "auto" (or
// empty): igzip when it is on PATH, else the built-in decoder; "go": the built-in decoder; or the name or path of a program
// that takes "-dc" as gzip does. It returns nil for the built-in decoder.
func FindGunzip(spec string) (*Gunzip, error) {
	switch spec {
	case "go":
		return nil, nil
	case "", "auto":
		for _, t := range gunzipTools {
			if p, err := exec.LookPath(t.name); err == nil {
				return &Gunzip{Path: p, Args: t.args}, nil
			}
		}
		return nil, nil
	}
	p, err := exec.LookPath(spec)
	if err != nil {
		return nil, fmt.Errorf("gunzip program %q: %w (use auto, go, or a program that takes -dc)", spec, err)
	}
	return &Gunzip{Path: p, Args: []string{"-dc"}}, nil
}

// pipeBytes is the pipe buffer asked for between the program and the scan.
const pipeBytes = 1 << 20

// maxToolStderr bounds what is kept of the program's error output.
const maxToolStderr = 4 << 10

// gunzipReader streams the decompressed output of a Gunzip program fed
// with a compressed stream. Its output is accepted only when the program
// exits cleanly after reading all its input, and the stream's last four
// bytes, the gzip trailer's ISIZE, equal the number of bytes it wrote
// modulo 2^32. That holds for
// a whole single-member file; a truncated or corrupt file, trailing
// garbage (which igzip and pigz ignore), or several members make it
// fail, and the caller then reads the file again with the built-in
// decoder, which decides.
type gunzipReader struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *limitedBuffer
	in     *eofReader // the compressed stream, as fed to the program
	tail   *tailWriter
	n      int64 // bytes of output read
	err    error // sticky: io.EOF once the output is accepted
	failed error // why the output was not accepted, if so
	once   sync.Once
}

func startGunzip(ctx context.Context, g *Gunzip, compressed io.Reader) (*gunzipReader, error) {
	r := &gunzipReader{stderr: &limitedBuffer{max: maxToolStderr}, in: &eofReader{r: compressed}, tail: &tailWriter{}}
	cmd := exec.CommandContext(ctx, g.Path, g.Args...)
	cmd.Stdin = io.TeeReader(r.in, r.tail)
	cmd.Stderr = r.stderr
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	growPipe(pw, pipeBytes)
	cmd.Stdout = pw
	err = cmd.Start()
	pw.Close() // the program holds its own copy
	if err != nil {
		pr.Close()
		return nil, err
	}
	r.cmd, r.out = cmd, pr
	return r, nil
}

func (r *gunzipReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.out.Read(p)
	r.n += int64(n)
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
	var err error
	r.once.Do(func() { err = r.cmd.Wait() })
	switch {
	case err != nil:
		msg := strings.TrimSpace(r.stderr.String())
		if msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		r.failed = fmt.Errorf("%s: %w", r.cmd.Path, err)
	case !r.in.eof:
		// The program stopped reading early: the trailer checked below
		// would not be the stream's.
		r.failed = fmt.Errorf("%s: exited before reading all its input", r.cmd.Path)
	case !r.tail.full():
		r.failed = fmt.Errorf("%s: input shorter than a gzip trailer", r.cmd.Path)
	case r.tail.isize() != uint32(r.n):
		r.failed = fmt.Errorf("%s: wrote %d bytes, the gzip trailer says %d (mod 2^32)", r.cmd.Path, r.n, r.tail.isize())
	default:
		return io.EOF
	}
	return r.failed
}

// Failed returns why the output was not accepted, or nil when it was or
// the stream was not read to its end.
func (r *gunzipReader) Failed() error { return r.failed }

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

// tailWriter keeps the last eight bytes written to it.
type tailWriter struct {
	buf [8]byte
	n   int64
}

func (t *tailWriter) Write(p []byte) (int, error) {
	if len(p) >= 8 {
		copy(t.buf[:], p[len(p)-8:])
	} else {
		copy(t.buf[:], t.buf[len(p):])
		copy(t.buf[8-len(p):], p)
	}
	t.n += int64(len(p))
	return len(p), nil
}

func (t *tailWriter) full() bool { return t.n >= 8 }

// isize is the gzip trailer's ISIZE: the last four bytes, little-endian.
func (t *tailWriter) isize() uint32 { return binary.LittleEndian.Uint32(t.buf[4:]) }

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

// errGunzipFailed marks a file whose external decompression failed; the
// scan reads it again with the built-in decoder.
var errGunzipFailed = errors.New("external gunzip failed")
