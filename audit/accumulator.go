package audit

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/dqaudit/dqaudit/audit/profile"
	"github.com/dqaudit/dqaudit/rules"
)

// accumulator is a Sink that counts what one goroutine sees: the day's
// profile (events per type and hour, field distributions), rule outcomes
// with bounded samples, duplicate keys of unique rules, and malformed
// lines. Accumulators merge; the merge is order-independent, which is what
// makes results the same for any number of workers.
type accumulator struct {
	cfg     *scanConfig
	eval    *rules.Evaluator
	profile *profile.Builder
	merged  *profile.Profile // profiles of merged accumulators

	events int64
	checks []checkStats
	uniq   []*uniqueKeys // per check; nil unless the check is unique

	malformed        int64
	malformedReasons map[string]int64
	malformedSamples smallest[malformedItem]

	unflushed int64 // events since the last progress flush
}

type checkStats struct {
	checked, failed int64
	samples         smallest[string]
}

type malformedItem struct {
	reason, text string
}

// scanConfig is what every accumulator of a scan shares; read-only.
type scanConfig struct {
	book             *rules.Book
	day              string // the audited day: events of other dates are counted apart
	ruleSamples      int
	malformedSamples int
	unique           []bool // per check
	uniqueLimit      int    // keys a uniqueKeys buffers before it spills
	progress         *Progress
	gunzip           *Gunzip
	noGunzip         sync.Map // input name → true: its files skip gunzip
}

func newAccumulator(cfg *scanConfig) *accumulator {
	a := &accumulator{
		cfg:              cfg,
		eval:             cfg.book.NewEvaluator(),
		profile:          profile.NewBuilder(),
		merged:           &profile.Profile{},
		checks:           make([]checkStats, len(cfg.book.Checks)),
		uniq:             make([]*uniqueKeys, len(cfg.book.Checks)),
		malformedReasons: map[string]int64{},
		malformedSamples: newSmallest[malformedItem](cfg.malformedSamples),
	}
	if cfg.day != "" {
		// A plan's date is valid; a bad one only loses the count.
		_ = a.profile.SetDay(cfg.day)
	}
	for i := range a.checks {
		a.checks[i].samples = newSmallest[string](cfg.ruleSamples)
		if cfg.unique[i] {
			a.uniq[i] = newUniqueKeys(cfg.uniqueLimit, cfg.ruleSamples+1)
		}
	}
	return a
}

var _ Sink = (*accumulator)(nil)

// Event profiles e and runs every check that applies to it.
func (a *accumulator) Event(e *Event) {
	a.events++
	a.profile.ObserveValues(e.shape, e.Values)
	for _, o := range a.eval.RunValues(e.shape, e.Values) {
		if u := a.uniq[o.Check]; u != nil && !o.Err {
			u.add(o.Key, e.Pos, 1)
			continue
		}
		if o.Failed {
			c := &a.checks[o.Check]
			c.failed++
			if c.samples.wants(e.Pos) {
				c.samples.add(e.Pos, sampleText(o.Value, a.cfg.book.Checks[o.Check].Kind))
			}
		}
	}
	if a.unflushed++; a.unflushed == 1<<16 {
		a.flushProgress()
	}
}

func (a *accumulator) flushProgress() {
	if a.cfg.progress != nil {
		a.cfg.progress.Events.Add(a.unflushed)
	}
	a.unflushed = 0
}

// countChecked moves the evaluator's counts of checked events into the
// check stats.
func (a *accumulator) countChecked() {
	for i, n := range a.eval.Checked() {
		a.checks[i].checked += n
	}
	clear(a.eval.Checked())
}

// Malformed counts one line that was not an event.
func (a *accumulator) Malformed(pos Position, reason string, text []byte) {
	a.malformed++
	a.malformedReasons[reason]++
	if a.malformedSamples.wants(pos) {
		a.malformedSamples.add(pos, malformedItem{reason: reason, text: cutText(text)})
	}
}

// merge adds o into a. o must not be used afterwards.
func (a *accumulator) merge(o *accumulator) {
	o.flushProgress()
	a.events += o.events
	a.merged.Merge(o.dayProfile())
	a.countChecked()
	o.countChecked()
	for i := range a.checks {
		a.checks[i].checked += o.checks[i].checked
		a.checks[i].failed += o.checks[i].failed
		a.checks[i].samples.merge(&o.checks[i].samples)
		if u := a.uniq[i]; u != nil {
			u.merge(o.uniq[i])
		}
	}
	a.malformed += o.malformed
	for r, n := range o.malformedReasons {
		a.malformedReasons[r] += n
	}
	a.malformedSamples.merge(&o.malformedSamples)
}

// close drops the keys of a's unique rules and closes their temporary
// files, for an accumulator whose counts are thrown away.
func (a *accumulator) close() {
	for _, u := range a.uniq {
		if u != nil {
			u.close()
		}
	}
}

// dayProfile is the profile of everything a has seen and merged.
func (a *accumulator) dayProfile() *profile.Profile {
	p := a.profile.Profile()
	p.Merge(a.merged)
	return p
}

// sampleText is a value's text as a sample keeps it: valid UTF-8, cut at
// MaxSampleText bytes (see cutText).
func sampleText(v rules.Value, kind rules.RuleKind) string {
	s := v.String()
	if v.Kind == rules.KindString && typed(kind) && readsAsOther(s) {
		// The string "42" failing in: [42] must not look like the number.
		s = `"` + s + `"`
	}
	return cutText([]byte(s))
}

// typed reports whether checks of kind tell a string from the number or
// boolean it spells; in_reference and pattern read the text of any value.
func typed(kind rules.RuleKind) bool {
	switch kind {
	case rules.RuleIn, rules.RuleNotIn, rules.RuleBetween, rules.RuleMin, rules.RuleMax, rules.RuleExpr:
		return true
	}
	return false
}

// readsAsOther reports whether a string value would read in a report as
// a number, a boolean or null.
func readsAsOther(s string) bool {
	switch s {
	case "null", "true", "false":
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil || errors.Is(err, strconv.ErrRange)
}

// cutText copies b, cut to MaxSampleText bytes at a rune boundary and then
// marked with "…", with invalid UTF-8 replaced so reports stay valid text.
func cutText(b []byte) string {
	if len(b) > MaxSampleText {
		// Step back to the start of the rune that the bound splits, at
		// most UTFMax-1 bytes: invalid bytes are no rune's continuation.
		cut := MaxSampleText
		for cut > MaxSampleText-(utf8.UTFMax-1) && !utf8.RuneStart(b[cut]) {
			cut--
		}
		if !utf8.RuneStart(b[cut]) {
			cut = MaxSampleText
		}
		return strings.ToValidUTF8(string(b[:cut]), "\uFFFD") + "…"
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// Progress is updated while a scan runs, for a progress display. The
// totals are fixed before the scan starts; the counters are safe to read
// at any time.
type Progress struct {
	FilesTotal int
	BytesTotal int64
	FilesDone  atomic.Int64
	BytesRead  atomic.Int64
	Events     atomic.Int64
}

// NewProgress returns a Progress with the plan's totals.
func NewProgress(p *Plan) *Progress {
	return &Progress{FilesTotal: len(p.Files), BytesTotal: p.Bytes()}
}
