// Command watchavro writes the Avro inputs of docs/bench.sh: exactly -n
// MovieWatchEvent records, taken in order (and round again if need be)
// from a file that dqaudit generate wrote, re-encoded with audit/avro's
// Writer in each codec asked for, 1000 records to a block as generate
// writes them. One output file per codec: DIR/watch-CODEC.avro.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/linkedin/goavro/v2"

	"github.com/dqaudit/dqaudit/audit/avro"
	"github.com/dqaudit/dqaudit/audit/generate"
)

func main() {
	in := flag.String("in", "", "watch.avro written by dqaudit generate (required)")
	out := flag.String("out", "", "directory to write watch-CODEC.avro into (required)")
	n := flag.Int("n", 2_000_000, "records per file")
	codecs := flag.String("codecs", "null,deflate,snappy", "codecs, comma-separated")
	flag.Parse()
	if *in == "" || *out == "" || *n <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*in, *out, *n, strings.Split(*codecs, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "watchavro:", err)
		os.Exit(1)
	}
}

func run(in, out string, n int, codecs []string) error {
	recs, err := readAll(in)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("%s: no records", in)
	}
	for _, codec := range codecs {
		path := filepath.Join(out, "watch-"+codec+".avro")
		if err := write(path, codec, recs, n); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

func readAll(path string) ([]map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := goavro.NewOCFReader(bufio.NewReader(f))
	if err != nil {
		return nil, err
	}
	var recs []map[string]any
	for r.Scan() {
		v, err := r.Read()
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record %d is a %T, not a record", len(recs), v)
		}
		recs = append(recs, m)
	}
	return recs, r.Err()
}

func write(path, codec string, recs []map[string]any, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := avro.NewWriter(bw, generate.WatchSchema, codec, avro.DefaultRecordsPerBlock)
	if err != nil {
		f.Close()
		return err
	}
	for i := range n {
		if err := w.Append(recs[i%len(recs)]); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Close(); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
