// Package gzmembers reads gzip files as GNU gzip does: member after
// member, with zero bytes after the last one (the padding of tapes, dd
// and some uploaders) skipped, and any other bytes there an error that
// names where they start. A reader of all members at once, such as
// gzip.Reader in its default multistream mode, calls padding a bad
// header.
package gzmembers

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Reader reads a gzip file one member at a time, so that what follows the last member can be judged as GNU gzip
// judges it: zero bytes to the end of the file (the padding of tapes, dd
// and some uploaders) are skipped and counted, and anything else that
// starts no member is an error naming the byte of the file where it
// starts. A reader of all members at once calls padding a bad header.
type Reader struct {
	zr      *gzip.Reader
	src     *bufio.Reader
	pos     func() int64 // bytes of the file src has given out
	padding int64
	err     error
}

// NewReader starts reading the first member from src; its error is
// gzip.NewReader's. pos says how many bytes of the file src has given out,
// for the offsets in errors.
func NewReader(src *bufio.Reader, pos func() int64) (*Reader, error) {
	zr, err := gzip.NewReader(src)
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	return &Reader{zr: zr, src: src, pos: pos}, nil
}

func (g *Reader) Read(p []byte) (int, error) {
	for g.err == nil {
		n, err := g.zr.Read(p)
		if err == io.EOF {
			err = g.next()
		}
		g.err = err
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, g.err
}

// next starts the member after the one just read; it returns io.EOF when
// none follows, only zero bytes.
func (g *Reader) next() error {
	b, err := g.src.Peek(1)
	switch {
	case err == io.EOF:
		return io.EOF
	case err != nil:
		return err
	case b[0] == 0x1f: // the first byte of the gzip magic
		at := g.pos()
		if err := g.zr.Reset(g.src); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("gzip: member at byte %d of the file: %s", at, strings.TrimPrefix(err.Error(), "gzip: "))
		}
		g.zr.Multistream(false)
		return nil
	case b[0] != 0:
		return fmt.Errorf("gzip: trailing garbage at byte %d of the file", g.pos())
	}
	start := g.pos()
	for {
		b, err := g.src.Peek(g.src.Size())
		if i := NonZero(b); i >= 0 {
			g.src.Discard(i)
			return fmt.Errorf("gzip: trailing garbage at byte %d of the file, after %d zero bytes", g.pos(), g.pos()-start)
		}
		g.src.Discard(len(b))
		switch err {
		case nil, bufio.ErrBufferFull:
		case io.EOF:
			g.padding = g.pos() - start
			return io.EOF
		default:
			return err
		}
	}
}

// Padding returns how many zero bytes followed the last member; it is
// known once Read has returned io.EOF.
func (g *Reader) Padding() int64 { return g.padding }

func (g *Reader) Close() error { return g.zr.Close() }

// NonZero returns the index of the first byte of b that is not zero, or
// -1: where padding ends.
func NonZero(b []byte) int {
	for i, c := range b {
		if c != 0 {
			return i
		}
	}
	return -1
}
