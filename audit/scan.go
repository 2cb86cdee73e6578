package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dqaudit/dqaudit/rules"
)

// Options tune a scan. Zero values mean defaults.
type Options struct {
	// Workers is how many files are read at once (default GOMAXPROCS).
	Workers int
	// Readers maps an input format name to its reader. Required.
	Readers map[string]Reader
	// RuleSamples is how many failing samples each rule keeps; 0 keeps
	// none (the config's default is 5).
	RuleSamples int
	// MalformedSamples is how many malformed lines are kept; 0 keeps none.
	MalformedSamples int
	// Progress, when set, is updated while the scan runs.
	Progress *Progress
	// Gunzip, when set, is the program that decompresses .gz files (see
	// FindGunzip); nil uses the built-in decoder.
	Gunzip *Gunzip
	// Now is the clock (default time.Now); tests inject a fixed one.
	Now func() time.Time
	// Decoders is how many goroutines decode files in all, over the
	// Workers files read at once (default GOMAXPROCS); the keys of unique
	// rules are buffered per goroutine.
	Decoders int
	// UniqueMemory is about how many bytes the keys of unique rules may
	// take before they are spilled to temporary files in os.TempDir
	// (default DefaultUniqueMemory, with at least 1024 keys a buffer).
	UniqueMemory int
}

// Scan reads every file of plan, checks its events against book and
// returns the result, with Status and ExitCode still unset (see Gate). A
// file that cannot be read fully is recorded in the result and the scan
// goes on; Scan itself fails only when ctx is cancelled, a file's format
// has no reader, or the keys of a unique rule could not be spilled to a
// temporary file (a *SpillError).
func Scan(ctx context.Context, plan *Plan, book *rules.Book, opts Options) (*Result, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	started := now()
	all := make([]int, len(plan.Files))
	for i := range all {
		all[i] = i
	}
	p, err := ScanPart(ctx, plan, book, opts, all)
	if err != nil {
		return nil, err
	}
	res, err := p.Result(ctx, plan, book)
	if err != nil {
		return nil, err
	}
	res.StartedAt, res.Duration = started, now().Sub(started)
	return res, nil
}

// Part is the mergeable state of a scan of some of a plan's files: what a
// shard of a distributed scan hands to the merge.
type Part struct {
	cfg     *scanConfig
	acc     *accumulator
	files   map[int]FileResult // by index in the plan
	infos   map[int]FileInfo
	workers int
}

func newScanConfig(book *rules.Book, opts Options, day string) *scanConfig {
	cfg := &scanConfig{
		book:             book,
		day:              day,
		ruleSamples:      opts.RuleSamples,
		malformedSamples: opts.MalformedSamples,
		progress:         opts.Progress,
		gunzip:           opts.Gunzip,
		unique:           make([]bool, len(book.Checks)),
	}
	n := 0
	for i, c := range book.Checks {
		cfg.unique[i] = c.Kind == rules.RuleUnique
		if cfg.unique[i] {
			n++
		}
	}
	// Each file worker's accumulator buffers keys, and so do the sinks it
	// hands to readers, one per goroutine that decodes a file.
	workers, decoders := opts.Workers, opts.Decoders
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if decoders <= 0 {
		decoders = runtime.GOMAXPROCS(0)
	}
	buffers := (workers + decoders) * max(n, 1)
	if opts.UniqueMemory > 0 {
		cfg.uniqueLimit = max(opts.UniqueMemory/keyRecSize/buffers, 1)
	} else {
		cfg.uniqueLimit = max(DefaultUniqueMemory/keyRecSize/buffers, minUniqueLimit)
	}
	return cfg
}

// ScanPart reads the files of plan whose indices are in only.
func ScanPart(ctx context.Context, plan *Plan, book *rules.Book, opts Options, only []int) (*Part, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	cfg := newScanConfig(book, opts, plan.Date)
	for _, i := range only {
		if f := plan.Files[i]; opts.Readers[f.Format] == nil {
			return nil, fmt.Errorf("input %q: no reader for format %q", f.Input, f.Format)
		}
	}
	files := make([]FileResult, len(plan.Files))
	infos := make([]FileInfo, len(plan.Files))
	// Largest files first, so that one big file does not start last.
	order := slices.Clone(only)
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(plan.Files[b].Size, plan.Files[a].Size) })

	jobs := make(chan int)
	fws := make([]*fileWorker, workers)
	var wg sync.WaitGroup
	for w := range workers {
		fws[w] = &fileWorker{cfg: cfg, acc: newAccumulator(cfg)}
		wg.Add(1)
		go func(fw *fileWorker) {
			defer wg.Done()
			for i := range jobs {
				files[i], infos[i] = fw.scanFile(ctx, plan, i, opts.Readers[plan.Files[i].Format])
				if opts.Progress != nil {
					opts.Progress.FilesDone.Add(1)
				}
			}
		}(fws[w])
	}
feed:
	for _, i := range order {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	var accs []*accumulator
	for _, fw := range fws {
		accs = append(append(accs, fw.acc), fw.sinks...)
	}
	if err := ctx.Err(); err != nil {
		for _, a := range accs {
			a.close()
		}
		return nil, err
	}
	total := accs[0]
	for _, a := range accs[1:] {
		total.merge(a)
	}
	total.flushProgress()
	for i, u := range total.uniq {
		if u != nil && u.err != nil {
			err := fmt.Errorf("unique rule %q: %w", book.Checks[i].Name, u.err)
			total.close()
			return nil, err
		}
	}
	p := &Part{cfg: cfg, acc: total, files: map[int]FileResult{}, infos: map[int]FileInfo{}, workers: workers}
	for _, i := range only {
		p.files[i], p.infos[i] = files[i], infos[i]
	}
	return p, nil
}

// Close drops the part's keys of unique rules and closes their temporary
// files, for a part that is not turned into a result or encoded.
func (p *Part) Close() { p.acc.close() }

// Merge adds o into p; o must not be used afterwards. Parts must come from
// the same plan and book, and must not share files.
func (p *Part) Merge(o *Part) error {
	for i := range o.files {
		if _, dup := p.files[i]; dup {
			return fmt.Errorf("file %d scanned by two parts", i)
		}
	}
	p.acc.merge(o.acc)
	for i, f := range o.files {
		p.files[i], p.infos[i] = f, o.infos[i]
	}
	p.workers = max(p.workers, o.workers)
	return nil
}

// Result turns the part into the result of the whole plan. Files of the
// plan that no part scanned are reported as input errors. It consumes the
// part's keys of unique rules: call it once. It fails only when ctx ends
// while it counts them or when they were not all spilled or read back (a
// *SpillError).
func (p *Part) Result(ctx context.Context, plan *Plan, book *rules.Book) (*Result, error) {
	res := &Result{
		Date:    plan.Date,
		Workers: p.workers,
		Events:  map[string]int64{},
		Hours:   map[string]*[24]int64{},
	}
	infos := make([]FileInfo, len(plan.Files))
	for i, pf := range plan.Files {
		if why := p.infos[i].GunzipReread; why != "" {
			res.GunzipRereads = append(res.GunzipRereads, GunzipReread{Path: pf.Path, Reason: why})
		}
		fr, ok := p.files[i]
		if !ok {
			fr = FileResult{Input: pf.Input, Format: pf.Format, Path: pf.Path, Bytes: pf.Size, Err: "not scanned by any shard", ErrOffset: -1, ErrBlock: -1}
		}
		res.Inputs = append(res.Inputs, fr)
		infos[i] = p.infos[i]
	}
	res.Profile = p.acc.dayProfile()
	res.Profile.Dates = []string{plan.Date}
	for name, ep := range res.Profile.Events {
		res.Events[name] = ep.Count
		res.Hours[name] = &ep.Hours
	}
	for _, e := range plan.Errors {
		res.Inputs = append(res.Inputs, FileResult{Input: e.Input, Format: e.Format, Path: e.Pattern, Err: e.Message, ErrOffset: -1, ErrBlock: -1})
	}
	res.Malformed = malformedSummary(p.acc, plan)
	res.Inputs = append(res.Inputs, noEvents(plan, res)...)
	res.Schemas = schemasSeen(plan, infos)
	var err error
	if res.Rules, err = ruleResults(ctx, p.acc, plan, book, p.cfg); err != nil {
		return nil, err
	}
	return res, nil
}

// noEvents returns input errors for inputs whose files were all read
// and gave no event, where that cannot be a good day:
//   - an input whose lines are all malformed (a producer that changed its
//     time format, say): nothing of it was audited;
//   - every input, when the whole day holds no event and no malformed
//     line (empty logs, Avro files of a header only): an upstream job
//     that wrote empty files must not pass the gate, as one that wrote
//     none does not.
//
// An input without events beside others with events passes (a type can
// be rare); row_count rules and drift's volume check judge how many
// events there should be.
func noEvents(plan *Plan, res *Result) []FileResult {
	type tally struct {
		format            string
		files             int
		events, malformed int64
		failed            bool // a file of it has an error already
	}
	var names []string
	by := map[string]*tally{}
	for _, fr := range res.Inputs {
		t := by[fr.Input]
		if t == nil {
			t = &tally{format: fr.Format}
			by[fr.Input] = t
			names = append(names, fr.Input)
		}
		t.files++
		t.events += fr.Events
		t.malformed += fr.Malformed
		t.failed = t.failed || fr.Err != ""
	}
	emptyDay := res.InputErrors() == 0 && len(plan.Files) > 0 && res.TotalEvents() == 0 && res.Malformed.Total == 0
	var out []FileResult
	for _, name := range names {
		t := by[name]
		files := "its file holds"
		if t.files > 1 {
			files = fmt.Sprintf("its %d files hold", t.files)
		}
		var why string
		switch {
		case t.failed || t.events > 0:
			continue
		case t.malformed > 0:
			lines := "line is"
			if t.malformed > 1 {
				lines = "lines are"
			}
			why = fmt.Sprintf("no events: %s no event; its %d %s malformed (see the malformed lines)", files, t.malformed, lines)
		case emptyDay:
			why = "no events: " + files + " no event and no malformed line, and no other input has any"
		default:
			continue
		}
		out = append(out, FileResult{Input: name, Format: t.format, Path: strings.Join(plan.Patterns[name], ", "),
			Err: why, ErrOffset: -1, ErrBlock: -1})
	}
	return out
}

// fileWorker is the state of one goroutine of a scan that reads file
// after file.
type fileWorker struct {
	cfg *scanConfig
	acc *accumulator // what the sinks of files read through a Gunzip program merge into
	// sinks are handed to the readers of file after file: a day of
	// thousands of small files would otherwise make, merge and drop an
	// accumulator (profile, rule evaluator, samples, keys) for each, and
	// that garbage, at the scan's GOGC of 400, set peak RSS. Results do
	// not change: accumulators count the same however events are split.
	sinks []*accumulator
	marks []sinkMark // per sink handed out, its counts before the file
	// shapes are those the files' writer schemas gave the sinks: see
	// maxKeptShapes.
	shapes map[*rules.Shape]bool
}

// maxKeptShapes bounds the shapes of writer schemas that a worker's
// sinks see before they are merged into its accumulator and replaced:
// each profiles and evaluates every shape it sees in a plan of its own,
// and a reader that cannot share one shape between files (an Avro
// schema the reader does not cache) makes one per file.
const maxKeptShapes = 256

type sinkMark struct{ events, malformed int64 }

// scanFile reads one file into w's accumulators and returns what is known
// of it.
func (w *fileWorker) scanFile(ctx context.Context, plan *Plan, i int, rd Reader) (fr FileResult, info FileInfo) {
	cfg := w.cfg
	pf := plan.Files[i]
	fr = FileResult{Input: pf.Input, Format: pf.Format, Path: pf.Path, Bytes: pf.Size, ErrOffset: -1, ErrBlock: -1}
	w.marks = w.marks[:0]
	// fresh are the sinks of a file read through the Gunzip program,
	// whose events are dropped if its output is refused: they cannot go
	// to w's kept sinks.
	var fresh []*accumulator
	newSink := func(throwaway bool) Sink {
		if throwaway {
			if fresh == nil {
				w.setKeysAside()
			}
			a := newAccumulator(cfg)
			fresh = append(fresh, a)
			return a
		}
		n := len(w.marks)
		if n == len(w.sinks) {
			w.sinks = append(w.sinks, newAccumulator(cfg))
		}
		s := w.sinks[n]
		w.marks = append(w.marks, sinkMark{s.events, s.malformed})
		return s
	}
	gz := cfg.gunzip
	if _, off := cfg.noGunzip.Load(pf.Input); off {
		gz = nil
	}
	var bytesRead atomic.Int64
	info, read := readFile(ctx, pf.Path, rd, int32(i), newSink, cfg.progress, gz, &bytesRead)
	var refused *gunzipRefusal
	if errors.As(read, &refused) {
		// The program's output was not the whole stream: what it gave is
		// dropped, from progress too, and the built-in decoder reads the
		// file again and says where it breaks, as a scan without the
		// program would.
		if p := cfg.progress; p != nil {
			p.BytesRead.Add(-bytesRead.Load())
			for _, s := range fresh {
				p.Events.Add(-(s.events - s.unflushed))
			}
		}
		if refused.wholeButOther {
			// Several members or trailing bytes: the input's other files
			// are likely written the same way, so they skip the program.
			cfg.noGunzip.Store(pf.Input, true)
		}
		for _, s := range fresh {
			s.close()
		}
		fresh = fresh[:0]
		info, read = readFile(ctx, pf.Path, rd, int32(i), newSink, cfg.progress, nil, nil)
		info.GunzipReread = refused.err.Error()
	}
	for _, s := range fresh {
		fr.Events += s.events
		fr.Malformed += s.malformed
		w.acc.merge(s)
	}
	for k, m := range w.marks {
		s := w.sinks[k]
		fr.Events += s.events - m.events
		fr.Malformed += s.malformed - m.malformed
		s.flushProgress()
	}
	if len(w.marks) > 0 {
		w.countShapes(info.Schemas)
	}
	var msgs []string
	if read != nil && !errors.Is(read, context.Canceled) {
		re := AsReadError(read)
		fr.ErrOffset, fr.ErrBlock, fr.ErrLine = re.Offset, re.Block, re.Line
		// Reports show where reading stopped from those fields: the
		// message leaves it out rather than say it twice.
		msg := read.Error()
		if re.Err != nil {
			msg = re.Err.Error()
		}
		msgs = append(msgs, msg)
	}
	for _, ws := range info.Schemas {
		if ws.Shape == nil {
			continue
		}
		for _, err := range cfg.book.CheckShape(ws.Shape) {
			msgs = append(msgs, err.Error())
		}
	}
	fr.Err = strings.Join(msgs, "; ")
	return fr, info
}

// countShapes notes the shapes of a file that w's kept sinks read, and
// retires the sinks once they have seen more than maxKeptShapes.
func (w *fileWorker) countShapes(schemas []WriterSchema) {
	for _, ws := range schemas {
		if ws.Shape == nil || w.shapes[ws.Shape] {
			continue
		}
		if w.shapes == nil {
			w.shapes = map[*rules.Shape]bool{}
		}
		w.shapes[ws.Shape] = true
	}
	if len(w.shapes) > maxKeptShapes {
		for _, s := range w.sinks {
			w.acc.merge(s)
		}
		w.sinks = w.sinks[:0]
		clear(w.shapes)
	}
}

// setKeysAside moves the keys of unique rules that w's kept sinks
// buffer into w.acc, before fresh sinks buffer keys of their own, so
// that w holds no more key buffers than newScanConfig counts.
func (w *fileWorker) setKeysAside() {
	for _, s := range w.sinks {
		for i, u := range s.uniq {
			if u != nil && (len(u.buf) > 0 || len(u.runs) > 0) {
				w.acc.uniq[i].merge(u)
				s.uniq[i] = newUniqueKeys(w.cfg.uniqueLimit, w.cfg.ruleSamples+1)
			}
		}
	}
}

// readFile opens, decompresses and reads one file, turning a panic in the
// reader into the file's error. With gz set, a .gz file goes through that
// program; when its output is refused, readFile returns a
// *gunzipRefusal and the caller reads the file again without gz. read,
// when set, counts the compressed bytes taken.
func readFile(ctx context.Context, path string, rd Reader, file int32, newSink func(throwaway bool) Sink, p *Progress, gz *Gunzip, read *atomic.Int64) (info FileInfo, err error) {
	var ext *gunzipReader
	defer func() {
		if v := recover(); v != nil {
			err = &ReadError{Offset: -1, Block: -1, Err: fmt.Errorf("panic: %v", v)}
		}
		if ext != nil && ctx.Err() == nil {
			if err != nil && ext.Failed() == nil {
				// The reader stopped early: whether the program's output
				// was sound decides whose error this is.
				ext.Drain()
			}
			if ext.Failed() != nil {
				err = &gunzipRefusal{err: ext.Failed(), wholeButOther: ext.wholeButOther}
			}
		}
	}()
	var counter *atomic.Int64
	if p != nil {
		counter = &p.BytesRead
	}
	r, closeFn, ext, err := openFile(ctx, path, read, counter, gz)
	if err != nil {
		return FileInfo{}, err
	}
	defer closeFn()
	// What the program gives may be thrown away (see gunzipRefusal).
	info, err = rd.Read(ctx, r, file, func() Sink { return newSink(ext != nil) })
	if err == nil {
		// A reader may stop before the end (say, at an Avro file's last
		// block); what remains must still decompress cleanly.
		if _, cerr := io.Copy(io.Discard, r); cerr != nil {
			err = &ReadError{Offset: -1, Block: -1, Err: cerr}
		}
	}
	return info, err
}

func malformedSummary(a *accumulator, plan *Plan) MalformedSummary {
	m := MalformedSummary{Total: a.malformed, ByReason: maps.Clone(a.malformedReasons), Samples: []MalformedSample{}}
	for _, it := range a.malformedSamples.items {
		m.Samples = append(m.Samples, MalformedSample{
			Path: plan.Files[it.Pos.File].Path, Line: it.Pos.Line, Block: it.Pos.Block, Record: it.Pos.Record,
			Reason: it.Item.reason, Text: it.Item.text,
		})
	}
	return m
}

func schemasSeen(plan *Plan, infos []FileInfo) map[string][]SchemaSeen {
	out := map[string][]SchemaSeen{}
	for i, info := range infos {
		for _, ws := range info.Schemas {
			list := out[ws.Event]
			// The fingerprint is of the canonical form, which drops logical
			// types: two schemas that differ only there are listed apart.
			j := slices.IndexFunc(list, func(s SchemaSeen) bool {
				return s.Fingerprint == ws.Fingerprint && slices.EqualFunc(s.Fields, ws.Fields, func(a SchemaField, b rules.Field) bool {
					return a.Name == b.Name && a.Type == b.Type
				})
			})
			if j < 0 {
				s := SchemaSeen{Fingerprint: ws.Fingerprint, Fields: []SchemaField{}}
				for _, f := range ws.Fields {
					s.Fields = append(s.Fields, SchemaField{Name: f.Name, Type: f.Type})
				}
				list = append(list, s)
				j = len(list) - 1
			}
			list[j].Files = append(list[j].Files, plan.Files[i].Path)
			out[ws.Event] = list
		}
	}
	return out
}

func ruleResults(ctx context.Context, a *accumulator, plan *Plan, book *rules.Book, cfg *scanConfig) ([]RuleResult, error) {
	a.countChecked() // merges move the counts; this catches events a received itself
	out := make([]RuleResult, 0, len(book.Checks))
	for i, c := range book.Checks {
		st := a.checks[i]
		rr := RuleResult{
			Name: c.Name, Event: c.Event, Field: fieldText(c), Kind: c.Kind.String(), Params: c.Params(),
			Severity: c.Severity.String(), Description: c.Description, Tolerance: c.Tolerance.String(),
			Definition: RuleDefinition(c.Rule), Checked: st.checked, Samples: []Sample{},
		}
		rr.Failed = st.failed
		items := st.samples.items
		if u := a.uniq[i]; u != nil {
			// Failures of a unique rule are repeats, plus events whose
			// where condition could not be evaluated.
			dup, dupSamples, err := duplicates(ctx, u, cfg.ruleSamples, plan)
			if err != nil {
				a.close()
				return nil, fmt.Errorf("unique rule %q: %w", c.Name, err)
			}
			rr.Failed += dup
			dupSamples.merge(&st.samples)
			items = dupSamples.items
		}
		for _, it := range items {
			rr.Samples = append(rr.Samples, newSample(plan, it.Pos, it.Item))
		}
		rr.Status = fromRuleStatus(c.Status(rr.Checked, rr.Failed))
		out = append(out, rr)
	}
	return out, nil
}

// duplicates counts the occurrences of unique keys after their first and
// picks the first n of them in report order as samples; a sample's value
// names where the first occurrence is. It consumes u.
func duplicates(ctx context.Context, u *uniqueKeys, n int, plan *Plan) (int64, smallest[string], error) {
	var dup int64
	s := newSmallest[string](n)
	err := u.each(ctx, func(_ [2]uint64, count int64, pos []Position) {
		if count < 2 {
			return
		}
		dup += count - 1
		for _, p := range pos[1:] {
			if s.wants(p) {
				s.add(p, "duplicate of "+where(plan, pos[0]))
			}
		}
	})
	return dup, s, err
}

func newSample(plan *Plan, pos Position, value string) Sample {
	s := Sample{Path: plan.Files[pos.File].Path, Value: value}
	if plan.Files[pos.File].Format == "avro" {
		s.Avro, s.Block, s.Record = true, pos.Block, pos.Record
	} else {
		s.Line = pos.Line
	}
	return s
}

// where names a position for people: path:line, or path block B record R.
func where(plan *Plan, pos Position) string {
	s := newSample(plan, pos, "")
	if s.Avro {
		return fmt.Sprintf("%s block %d record %d", s.Path, s.Block, s.Record)
	}
	return fmt.Sprintf("%s:%d", s.Path, s.Line)
}

func fromRuleStatus(s rules.Status) Status {
	switch s {
	case rules.StatusPass:
		return StatusPass
	case rules.StatusWarn:
		return StatusWarn
	case rules.StatusFail:
		return StatusFail
	}
	return StatusUnset
}

// fieldText names the field a check reads: its field, or a unique rule's
// fields joined by commas.
func fieldText(c *rules.Check) string {
	if len(c.Fields) > 0 {
		return strings.Join(c.Fields, ",")
	}
	return c.Field
}
