// Command smallfiles writes the many-small-files day of
// docs/bench-smallfiles.sh from a day that dqaudit generate wrote: -files
// plain Kafka logs of -lines lines each, cut from its kafka.log.gz in
// order, and -files Avro files of -lines records each, taken in turn from
// its four Avro files, each with the schema and codec of the file it comes
// from (re-encoded with audit/avro's Writer). Outputs: OUT/kafka/NNNNN.log
// and OUT/avro/NNNNN.avro.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/gzip"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/avro"
	"github.com/dqaudit/dqaudit/audit/generate"
	"github.com/dqaudit/dqaudit/rules"
)

func main() {
	in := flag.String("in", "", "directory written by dqaudit generate (required)")
	out := flag.String("out", "", "directory to write kafka/ and avro/ into (required)")
	files := flag.Int("files", 10000, "files per format")
	lines := flag.Int("lines", 20, "lines or records per file")
	flag.Parse()
	if *in == "" || *out == "" || *files <= 0 || *lines <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := splitLog(*in, filepath.Join(*out, "kafka"), *files, *lines); err != nil {
		fmt.Fprintln(os.Stderr, "smallfiles:", err)
		os.Exit(1)
	}
	if err := splitAvro(*in, filepath.Join(*out, "avro"), *files, *lines); err != nil {
		fmt.Fprintln(os.Stderr, "smallfiles:", err)
		os.Exit(1)
	}
}

func splitLog(in, out string, files, lines int) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(in, "kafka.log.gz"))
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for i := range files {
		var b []byte
		for range lines {
			if !sc.Scan() {
				if err := sc.Err(); err != nil {
					return err
				}
				return fmt.Errorf("kafka.log.gz: %d lines, want %d: generate more events", i*lines+len(b), files*lines)
			}
			b = append(append(b, sc.Bytes()...), '\n')
		}
		if err := os.WriteFile(filepath.Join(out, fmt.Sprintf("%05d.log", i)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// source is one Avro file of the generated day, as generate.Write
// writes it.
type source struct {
	name, schema, codec string
	recs                []map[string]any
}

func splitAvro(in, out string, files, lines int) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	srcs := []*source{
		{name: "watch.avro", schema: generate.WatchSchema, codec: avro.CodecNull},
		{name: "watch-subtitles.avro", schema: generate.WatchSchemaV2, codec: avro.CodecSnappy},
		{name: "ratings.avro", schema: generate.RatingSchema, codec: avro.CodecDeflate},
		{name: "recommendations.avro", schema: generate.RecommendationSchema, codec: avro.CodecZstandard},
	}
	for _, s := range srcs {
		var err error
		if s.recs, err = readAvro(filepath.Join(in, s.name)); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	// One file from each source in turn, while it has records for one.
	next := 0
	for i := 0; i < files; next++ {
		if next == 4*files {
			return fmt.Errorf("the Avro files hold fewer than %d records for %d files: generate more events", lines, files)
		}
		s := srcs[next%len(srcs)]
		if len(s.recs) < lines {
			continue
		}
		path := filepath.Join(out, fmt.Sprintf("%05d.avro", i))
		if err := writeAvro(path, s.schema, s.codec, s.recs[:lines]); err != nil {
			return err
		}
		s.recs = s.recs[lines:]
		i++
	}
	return nil
}

// readAvro reads a file's records back into goavro's native form. The
// generated schemas are flat: strings, ints, a boolean and a nullable
// string.
func readAvro(path string) ([]map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sink := &recordSink{}
	r := &avro.Reader{Workers: 1}
	if _, err := r.Read(context.Background(), bufio.NewReader(f), 0, func() audit.Sink { return sink }); err != nil {
		return nil, err
	}
	return sink.recs, sink.err
}

type recordSink struct {
	recs []map[string]any
	err  error
}

func (s *recordSink) Event(e *audit.Event) {
	rec := map[string]any{}
	for i, fd := range e.Shape().Fields() {
		v := e.Values[i]
		switch {
		case fd.Nullable && v.Kind == rules.KindNull:
			rec[fd.Name] = nil
		case fd.Nullable && v.Kind == rules.KindString:
			rec[fd.Name] = map[string]any{"string": v.Str}
		case v.Kind == rules.KindString:
			rec[fd.Name] = v.Str
		case v.Kind == rules.KindInt:
			rec[fd.Name] = int32(v.Int)
		case v.Kind == rules.KindBool:
			rec[fd.Name] = v.Int != 0
		default:
			s.err = fmt.Errorf("field %q: value %v of kind %v not written back", fd.Name, v, v.Kind)
		}
	}
	s.recs = append(s.recs, rec)
}

func (s *recordSink) Malformed(pos audit.Position, reason string, _ []byte) {
	s.err = fmt.Errorf("record at %+v: %s", pos, reason)
}

func writeAvro(path, schema, codec string, recs []map[string]any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := avro.NewWriter(f, schema, codec, 0)
	if err == nil {
		for _, r := range recs {
			if err = w.Append(r); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = w.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
