package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dqaudit/dqaudit/audit/store"
	"github.com/dqaudit/dqaudit/rules"
)

// LoadReferences loads every reference set of cfg once. CSV and text files
// are read by rules.LoadSet; an .avro file contributes the values of the
// reference's field, read with readers["avro"]. {date} and the other
// placeholders in a path expand to day; relative paths are taken relative
// to base; a URL is read from object storage.
func LoadReferences(ctx context.Context, cfg *rules.Config, base string, day time.Time, readers map[string]Reader) (map[string]rules.Set, error) {
	sets := map[string]rules.Set{}
	var errs []error
	for _, ref := range cfg.References {
		ref.Path = store.Resolve(base, ExpandDate(ref.Path, day))
		var set rules.Set
		var err error
		if name := strings.ToLower(store.Name(ref.Path)); strings.HasSuffix(name, ".avro") || strings.HasSuffix(name, ".avro.gz") || strings.HasSuffix(name, ".avro.zst") {
			set, err = collectField(ctx, ref, readers["avro"])
		} else {
			set, err = loadSet(ctx, ref)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			// Every reference is tried, so that one run names all the
			// broken ones, each at its place in the config.
			at := ""
			if cfg.File != "" && ref.Pos.Line > 0 {
				at = fmt.Sprintf("%s:%d:%d: ", cfg.File, ref.Pos.Line, ref.Pos.Column)
			}
			errs = append(errs, fmt.Errorf("%sreference %q: %w", at, ref.Name, err))
			continue
		}
		sets[ref.Name] = set
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return sets, nil
}

// loadSet reads a CSV or text reference from wherever it is stored.
func loadSet(ctx context.Context, ref rules.Reference) (rules.Set, error) {
	if !store.IsRemote(ref.Path) {
		return rules.LoadSet(ref)
	}
	if err := rules.CheckSetPath(ref.Path); err != nil {
		return nil, err
	}
	f, size, err := store.Open(ctx, ref.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return rules.ReadSet(ref, f, size)
}

// collectField reads every event of an Avro file and keeps the text of one
// field. A panic in the reader becomes an error.
func collectField(ctx context.Context, ref rules.Reference, rd Reader) (set rules.Set, err error) {
	defer func() {
		if v := recover(); v != nil {
			set, err = nil, fmt.Errorf("%s: panic: %v", ref.Path, v)
		}
	}()
	if rd == nil {
		return nil, fmt.Errorf("%s: no Avro reader", ref.Path)
	}
	if ref.Field == "" {
		return nil, fmt.Errorf("%s: an Avro reference needs field", ref.Path)
	}
	r, closeFn, _, err := openFile(ctx, ref.Path, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	var sinks []*fieldSink
	_, err = rd.Read(ctx, r, 0, func() Sink {
		s := &fieldSink{field: ref.Field}
		sinks = append(sinks, s)
		return s
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref.Path, err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, fmt.Errorf("%s: %w", ref.Path, err)
	}
	b := rules.NewSetBuilder(0)
	found := false
	var events int64
	for _, s := range sinks {
		found = found || s.found
		events += s.events
		for _, v := range s.values {
			b.Add(v)
		}
	}
	if events == 0 {
		// A header without blocks (an export that wrote nothing): an empty
		// set would fail every in_reference check, so say why.
		return nil, fmt.Errorf("%s: the file has no records", ref.Path)
	}
	if !found {
		return nil, fmt.Errorf("%s: no record has field %q", ref.Path, ref.Field)
	}
	return b.Set(), nil
}

type fieldSink struct {
	field   string
	shape   *rules.Shape
	index   int
	found   bool
	events  int64
	values  []string
	textBuf []byte
}

func (s *fieldSink) Event(e *Event) {
	s.events++
	if e.Shape() != s.shape {
		s.shape, s.index = e.Shape(), e.Shape().Index(s.field)
	}
	if s.index < 0 {
		return
	}
	s.found = true
	v := e.Values[s.index]
	if v.IsNull() {
		return
	}
	s.textBuf = v.AppendText(s.textBuf[:0])
	s.values = append(s.values, string(s.textBuf))
}

func (s *fieldSink) Malformed(Position, string, []byte) {}
