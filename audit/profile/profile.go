// Package profile builds mergeable profiles of a day of events and measures
// drift between them, in the manner of TensorFlow Data Validation.
//
// A Builder, owned by one goroutine, observes events and yields a Profile:
// per event type the event count and events per hour of the day, and per
// field the count of values by kind and of nulls; for numbers min, max,
// mean, standard deviation and a DDSketch for quantiles; for strings, ints
// and booleans the exact frequency of each value until the field holds more
// than MaxDistinct values (or MaxKeyBytes of strings), after which it is
// high-cardinality and keeps a HyperLogLog distinct count instead.
//
// Profiles merge: the merge of the profiles of the parts of a set of events
// is the profile of the whole, whichever way the events were split, to the
// bit (sums are kept exactly). Profiles encode to a versioned JSON document
// of bounded size for the history; Compare and the distribution helpers
// measure drift of a field against a baseline.
package profile

import (
	"cmp"
	"slices"
	"strconv"
	"unsafe"

	"github.com/axiomhq/hyperloglog"

	"github.com/dqaudit/dqaudit/rules"
)

// Limits of frequency tracking; part of profile version 1. Whether a field
// exceeds them depends only on the set of its distinct values, so merges
// reach the same verdict however the events were split.
const (
	// MaxDistinct is the number of distinct values (strings and ints) a
	// field may hold before it becomes high-cardinality.
	MaxDistinct = 1000
	// MaxKeyBytes bounds the total length of a field's distinct strings;
	// it keeps long free text out of the history.
	MaxKeyBytes = 64 << 10
	// DefaultTopK is the number of values reports and categorical drift
	// metrics single out; the rest go to an "other" bucket.
	DefaultTopK = 20
	// HLLPrecision is the precision of the distinct-count sketches
	// (2^14 registers, about 0.8% standard error).
	HLLPrecision = 14
)

// numKinds is the number of rules.Kind values a profile counts.
const numKinds = int(rules.KindString) + 1

// Profile is the profile of one day, or of a merged set of days.
type Profile struct {
	// Dates are the days covered, "YYYY-MM-DD", sorted and unique. The
	// Builder leaves them empty; the caller names the day.
	Dates []string
	// Events holds a profile per event type.
	Events map[string]*EventProfile
}

// EventProfile is the profile of the events of one type.
type EventProfile struct {
	Count int64
	// Hours counts events by the hour of their "time" field, read from an
	// ISO-8601 string: "2024-03-19T08:..." is hour 8.
	Hours [24]int64
	// NoHour counts events without a readable hour: no time field, null,
	// or not an ISO-8601 string.
	NoHour int64
	// OtherDay counts the events with an hour whose time falls on another
	// date than the audited day (late or replayed events); they are in
	// Hours too. Zero when the day was not set (Builder.SetDay).
	OtherDay int64
	Fields   map[string]*FieldProfile
}

// FieldProfile is the profile of one field of one event type.
type FieldProfile struct {
	// Count is the number of values, nulls included.
	Count int64
	Nulls int64

	kinds [numKinds]int64 // non-null values by kind
	trues int64           // booleans that were true

	high bool             // frequencies dropped; hll holds the distinct values
	strs map[string]int64 // string frequencies while !high
	ints map[int64]int64  // int frequencies while !high
	hll  *hyperloglog.Sketch

	num *numStats // nil without numbers
}

// KindCount returns the number of values of kind k (KindNull: Nulls).
func (f *FieldProfile) KindCount(k rules.Kind) int64 {
	if k == rules.KindNull {
		return f.Nulls
	}
	if int(k) >= numKinds {
		return 0
	}
	return f.kinds[k]
}

// Kinds returns the kinds of the non-null values seen, in Kind order.
func (f *FieldProfile) Kinds() []rules.Kind {
	var ks []rules.Kind
	for k := rules.KindBool; int(k) < numKinds; k++ {
		if f.kinds[k] > 0 {
			ks = append(ks, k)
		}
	}
	return ks
}

// HighCardinality reports whether the field outgrew MaxDistinct or
// MaxKeyBytes, so that its frequencies were dropped.
func (f *FieldProfile) HighCardinality() bool { return f.high }

// Distinct returns the number of distinct strings, ints and booleans:
// exact while frequencies are kept, else a HyperLogLog estimate.
func (f *FieldProfile) Distinct() (n int64, exact bool) {
	if t := f.trues; t > 0 {
		n++
	}
	if f.kinds[rules.KindBool] > f.trues {
		n++
	}
	if f.high {
		return n + int64(f.hll.Estimate()), false
	}
	return n + int64(len(f.strs)+len(f.ints)), true
}

// ValueCount is a value and how often it occurred.
type ValueCount struct {
	Value rules.Value
	Count int64
}

// TopK returns the k most frequent values (strings, ints and booleans),
// most frequent first, ties in value order, and the count of all other
// tracked values. ok is false for a high-cardinality field.
func (f *FieldProfile) TopK(k int) (top []ValueCount, other int64, ok bool) {
	if f.high {
		return nil, 0, false
	}
	all := f.values()
	slices.SortFunc(all, byCountDesc)
	if k < 0 {
		k = 0
	}
	if len(all) > k {
		for _, vc := range all[k:] {
			other += vc.Count
		}
		all = all[:k:k]
	}
	return all, other, true
}

// values returns every tracked value with its count, unsorted.
func (f *FieldProfile) values() []ValueCount {
	all := make([]ValueCount, 0, len(f.strs)+len(f.ints)+2)
	for s, c := range f.strs {
		all = append(all, ValueCount{rules.Str(s), c})
	}
	for i, c := range f.ints {
		all = append(all, ValueCount{rules.Int(i), c})
	}
	if f.trues > 0 {
		all = append(all, ValueCount{rules.Bool(true), f.trues})
	}
	if n := f.kinds[rules.KindBool] - f.trues; n > 0 {
		all = append(all, ValueCount{rules.Bool(false), n})
	}
	return all
}

func byCountDesc(a, b ValueCount) int {
	if c := cmp.Compare(b.Count, a.Count); c != 0 {
		return c
	}
	return compareValues(a.Value, b.Value)
}

// compareValues orders values by kind, then by value.
func compareValues(a, b rules.Value) int {
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	switch a.Kind {
	case rules.KindString:
		return cmp.Compare(a.Str, b.Str)
	case rules.KindFloat:
		return cmp.Compare(a.Float, b.Float)
	}
	return cmp.Compare(a.Int, b.Int)
}

// NumericCount returns the number of int and finite float values.
func (f *FieldProfile) NumericCount() int64 {
	if f.num == nil {
		return 0
	}
	return f.num.count()
}

// NonFinite returns the number of NaN and infinite floats, which the
// numeric statistics leave out.
func (f *FieldProfile) NonFinite() int64 {
	if f.num == nil {
		return 0
	}
	return f.num.nonFinite
}

// Min returns the smallest number; ok is false without numbers.
func (f *FieldProfile) Min() (v float64, ok bool) {
	if f.NumericCount() == 0 {
		return 0, false
	}
	return f.num.min(), true
}

// Max returns the largest number; ok is false without numbers.
func (f *FieldProfile) Max() (v float64, ok bool) {
	if f.NumericCount() == 0 {
		return 0, false
	}
	return f.num.max(), true
}

// Mean returns the mean of the numbers, from their exact sum.
func (f *FieldProfile) Mean() (v float64, ok bool) {
	if f.NumericCount() == 0 {
		return 0, false
	}
	return f.num.mean(), true
}

// StdDev returns the population standard deviation of the numbers,
// sqrt((n·Σx² − (Σx)²) / n²) from exact sums.
func (f *FieldProfile) StdDev() (v float64, ok bool) {
	if f.NumericCount() == 0 {
		return 0, false
	}
	return f.num.stdDev(), true
}

// Quantile returns the lower q-quantile of the numbers: the value of rank
// ⌊q·(n−1)⌋ (0-based) in sorted order. It is exact for a field of ints
// whose frequencies are kept, else the sketch's estimate within 1%.
func (f *FieldProfile) Quantile(q float64) (v float64, ok bool) {
	if f.NumericCount() == 0 || !(q >= 0 && q <= 1) {
		return 0, false
	}
	if !f.high && f.num.floats == 0 {
		return f.exactIntQuantile(q), true
	}
	v, err := f.num.sketch.GetValueAtQuantile(q)
	return v, err == nil
}

func (f *FieldProfile) exactIntQuantile(q float64) float64 {
	keys := make([]int64, 0, len(f.ints))
	for k := range f.ints {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	rank := float64(q * float64(f.num.ints-1))
	var seen float64
	for _, k := range keys {
		seen += float64(f.ints[k])
		if seen > rank {
			return float64(k)
		}
	}
	return float64(keys[len(keys)-1])
}

// Merge adds o to p, so that p becomes the profile of both: counts,
// hours, frequencies, sums, sketches and distinct counts add up as if one
// Builder had seen the events of both. o is left unchanged and shares
// nothing with p afterwards; it must not be p.
func (p *Profile) Merge(o *Profile) {
	p.Dates = mergeDates(p.Dates, o.Dates)
	if p.Events == nil {
		p.Events = make(map[string]*EventProfile, len(o.Events))
	}
	for name, oe := range o.Events {
		e := p.Events[name]
		if e == nil {
			e = &EventProfile{}
			p.Events[name] = e
		}
		e.merge(oe)
	}
}

func mergeDates(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

func (e *EventProfile) merge(o *EventProfile) {
	e.Count += o.Count
	e.NoHour += o.NoHour
	e.OtherDay += o.OtherDay
	for h := range e.Hours {
		e.Hours[h] += o.Hours[h]
	}
	if e.Fields == nil {
		e.Fields = make(map[string]*FieldProfile, len(o.Fields))
	}
	for name, of := range o.Fields {
		f := e.Fields[name]
		if f == nil {
			f = &FieldProfile{}
			e.Fields[name] = f
		}
		f.merge(of)
	}
}

func (f *FieldProfile) merge(o *FieldProfile) {
	f.Count += o.Count
	f.Nulls += o.Nulls
	for k := range f.kinds {
		f.kinds[k] += o.kinds[k]
	}
	f.trues += o.trues

	if o.num != nil {
		if f.num == nil {
			f.num = o.num.clone()
		} else {
			f.num.merge(o.num)
		}
	}

	switch {
	case f.high && o.high:
		_ = f.hll.Merge(o.hll) // precisions checked on decode
	case f.high:
		for s := range o.strs {
			hllString(f.hll, s)
		}
		for i := range o.ints {
			hllInt(f.hll, i)
		}
	case o.high:
		h := o.hll.Clone()
		for s := range f.strs {
			hllString(h, s)
		}
		for i := range f.ints {
			hllInt(h, i)
		}
		f.high, f.hll = true, h
		f.strs, f.ints = nil, nil
	default:
		for s, c := range o.strs {
			if f.strs == nil {
				f.strs = make(map[string]int64, len(o.strs))
			}
			f.strs[s] += c
		}
		for i, c := range o.ints {
			if f.ints == nil {
				f.ints = make(map[int64]int64, len(o.ints))
			}
			f.ints[i] += c
		}
		if tooMany(len(f.strs)+len(f.ints), keyBytes(f.strs)) {
			f.toHigh()
		}
	}
}

func tooMany(distinct, keyBytes int) bool {
	return distinct > MaxDistinct || keyBytes > MaxKeyBytes
}

func keyBytes(m map[string]int64) int {
	n := 0
	for s := range m {
		n += len(s)
	}
	return n
}

// toHigh drops the frequencies for a HyperLogLog of the same values.
func (f *FieldProfile) toHigh() {
	h := newHLL()
	for s := range f.strs {
		hllString(h, s)
	}
	for i := range f.ints {
		hllInt(h, i)
	}
	f.high, f.hll = true, h
	f.strs, f.ints = nil, nil
}

// newHLL returns a dense sketch. The sparse form saves space for small
// sets, but re-inserting known values costs it a merge of its sorted list
// every 164 insertions, and a field only gets a sketch once it holds more
// than MaxDistinct values.
func newHLL() *hyperloglog.Sketch {
	h, err := hyperloglog.NewSketch(HLLPrecision, false)
	if err != nil {
		panic("profile: hyperloglog: " + err.Error()) // constant arguments
	}
	return h
}

// hllString inserts s, hashed with MetroHash64 by Insert, which reads
// its argument during the call only: s is passed without a copy.
func hllString(h *hyperloglog.Sketch, s string) {
	h.Insert(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// hllInt inserts i by its fmix64 hash (MurmurHash3's finalizer), a
// bijection that spreads consecutive ints uniformly at a fraction of the
// cost of hashing their bytes. An int and a string collide with
// probability 2^-64. The hash is part of profile version 1: sketches of
// past days merge with new ones.
func hllInt(h *hyperloglog.Sketch, i int64) {
	h.InsertHash(fmix64(uint64(i)))
}

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// Field returns the profile of a field of an event type, or nil.
func (p *Profile) Field(event, field string) *FieldProfile {
	e := p.Events[event]
	if e == nil {
		return nil
	}
	return e.Fields[field]
}

// EventTypes returns the event types in sorted order.
func (p *Profile) EventTypes() []string {
	return sortedKeys(p.Events)
}

// FieldNames returns the fields in sorted order.
func (e *EventProfile) FieldNames() []string {
	return sortedKeys(e.Fields)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// label is a value's text for a categorical bucket.
func label(v rules.Value) string {
	if v.Kind == rules.KindInt {
		return strconv.FormatInt(v.Int, 10)
	}
	return v.String()
}
