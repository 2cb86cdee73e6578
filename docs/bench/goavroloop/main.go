// Command goavroloop is the Avro baseline of docs/bench.sh: goavro's own
// OCF reader in a plain Scan/Read loop on one goroutine, decoding every
// record of each file named on the command line and doing nothing else.
// It prints the number of records read. It is a yardstick, not product
// code.
package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/linkedin/goavro/v2"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: goavroloop FILE.avro...")
		os.Exit(2)
	}
	var n int64
	for _, path := range os.Args[1:] {
		c, err := decode(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "goavroloop: %s: %v\n", path, err)
			os.Exit(1)
		}
		n += c
	}
	fmt.Println(n)
}

func decode(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	// The same read buffer dqaudit puts in front of its inputs.
	r, err := goavro.NewOCFReader(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		return 0, err
	}
	var n int64
	for r.Scan() {
		if _, err := r.Read(); err != nil {
			return n, err
		}
		n++
	}
	return n, r.Err()
}
