// Command gunzipgo is a yardstick of docs/bench.sh: it decompresses each
// .gz file named on the command line with the Go decoder dqaudit builds
// in (klauspost/compress/gzip), reading 1 MiB at a time as the scan does,
// and prints the number of bytes it got. Its time is the floor of a scan
// that uses the built-in decoder. It is a yardstick, not product code.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gunzipgo FILE.gz...")
		os.Exit(2)
	}
	var n int64
	for _, path := range os.Args[1:] {
		c, err := gunzip(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gunzipgo: %s: %v\n", path, err)
			os.Exit(1)
		}
		n += c
	}
	fmt.Println(n)
}

func gunzip(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 1<<20)
	var n int64
	for {
		m, err := io.ReadFull(zr, buf)
		n += int64(m)
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return n, zr.Close()
		default:
			return n, err
		}
	}
}
