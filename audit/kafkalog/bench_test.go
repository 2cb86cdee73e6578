package kafkalog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/dqaudit/dqaudit/audit"
)

// benchInput is a log of mixed lines, one in 50 malformed: 40% watch,
// 20% rating and 40% recommendation lines of 1 to 20 movies (144 bytes a
// line on average), or, watchHeavy, 90% watch, 5% rating, 5% recommendation
// lines, nearer the service's real traffic.
func benchInput(b *testing.B, lines int, watchHeavy bool) []byte {
	b.Helper()
	g := newGenerator(42, 4096, 50)
	if watchHeavy {
		g.watchShare, g.ratingShare = 90, 5
	}
	data, _ := g.generate(lines)
	return data
}

func BenchmarkRead(b *testing.B) {
	const lines = 500_000
	for _, mix := range []string{"mixed", "watch-heavy"} {
		data := benchInput(b, lines, mix == "watch-heavy")
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", mix, workers), func(b *testing.B) {
				r := New(Options{Workers: workers})
				newSink := func() audit.Sink { return &countSink{} }
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, err := r.Read(context.Background(), bytes.NewReader(data), 0, newSink); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkReadGzip reads a gzipped log; compare with BenchmarkGunzip,
// which only decompresses it.
func BenchmarkReadGzip(b *testing.B) {
	const lines = 500_000
	gz := gzipped(b, benchInput(b, lines, false))
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			r := New(Options{Workers: workers})
			newSink := func() audit.Sink { return &countSink{} }
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				zr, err := gzip.NewReader(bytes.NewReader(gz))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.Read(context.Background(), zr, 0, newSink); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func BenchmarkGunzip(b *testing.B) {
	gz := gzipped(b, benchInput(b, 500_000, false))
	buf := make([]byte, DefaultChunkBytes) // read as Read does, not through io.Copy
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := io.ReadFull(zr, buf)
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func gzipped(b *testing.B, data []byte) []byte {
	b.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkParseLine parses one line of each shape over and over.
func BenchmarkParseLine(b *testing.B) {
	tests := []struct {
		name string
		line string
	}{
		{name: "watch", line: tWatch},
		{name: "rating", line: tRate},
		{name: "recommendation", line: tReco},
		{name: "recommendation 20 movies", line: "2024-03-17T10:05:01.123,7,recommendation request 17645-team20.isri.cmu.edu:8082, status 200, result: " +
			strings.Repeat("the+green+mile+1999, ", 19) + "up+2009, 213 ms"},
		{name: "recommendation 500 KB", line: "2024-03-17T10:05:01,9,recommendation request s1:8082, status 200, result: " +
			strings.Repeat("the+lord+of+the+rings+2001, ", 500_000/28) + "up+2009, 99 ms"},
		{name: "malformed time", line: "2024-02-30T10:00:00,1,GET /rate/x=1"},
		{name: "non-ASCII", line: "2024-03-17T10:04:59,42,GET /data/m/amélie+2001/17.mpg"},
	}
	r := New(Options{})
	for _, tc := range tests {
		b.Run(tc.name, func(b *testing.B) {
			sink := &countSink{}
			p := newParser(r.shapes, sink, 0, r.maxLine)
			ln := []byte(tc.line)
			b.SetBytes(int64(len(ln)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				p.lines(ln, 1)
			}
			if sink.events+sink.malformed != b.N {
				b.Fatalf("%d records for %d lines", sink.events+sink.malformed, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
