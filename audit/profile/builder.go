package profile

import (
	"fmt"
	"math/bits"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	metro "github.com/dgryski/go-metro"

	"github.com/dqaudit/dqaudit/rules"
)

// TimeField is the field whose hour Profile counts. Its values are
// counted by kind but not profiled: every timestamp is distinct.
const TimeField = "time"

// Builder profiles the events of one goroutine. It is not safe for
// concurrent use; give each worker its own and merge their profiles.
type Builder struct {
	events   map[string]*eventAcc
	plans    map[*rules.Shape]*plan
	recent   []*plan       // the first few plans, searched before the map
	lastPlan *plan         // the plan of the last event
	scratch  []rules.Value // the values of an event without a ValueSlice

	day      string // the audited day, YYYY-MM-DD, or "" (see SetDay)
	dayLo    uint64 // le64(day) and le16(day[8:]), to compare dates
	dayHi    uint16
	dayIndex int64 // its days since 1970-01-01
	times    timeCache
}

// timeCache holds what the last text time that rules.TextTime read in
// its usual form gave: a log's lines come in time order, so the next one
// nearly always shares its date and hour, and its reading.
type timeCache struct {
	// "YYYY-MM-DDTHH" of the last time, as two little-endian words that
	// overlap: bytes 0-7 and 5-12
	w0, w1 uint64
	hour   int  // in [0, 24)
	other  bool // the date is not the audited day
	ok     bool // the fields hold a reading
}

type eventAcc struct {
	count    int64
	hours    [24]int64
	noHour   int64
	otherDay int64
	fields   map[string]*fieldAcc
}

// SetDay sets the audited day, so that events whose time falls on another
// date are counted in EventProfile.OtherDay. date is YYYY-MM-DD.
func (b *Builder) SetDay(date string) error {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return err
	}
	b.day, b.dayIndex = date, rules.DayNumber(t.Unix(), 3600)
	b.times = timeCache{} // it knows which dates were another day
	b.dayLo, b.dayHi = le64(date), le16(date[8:])
	return nil
}

// plan is how events of one shape are profiled, resolved once per shape.
type plan struct {
	shape    *rules.Shape
	ev       *eventAcc
	timePos  int       // position of the time field, or -1
	timeOff  uintptr   // the offset of its value (see planField)
	timeAcc  *fieldAcc // its counts by kind
	timeUnit int64     // units an hour of an integer timestamp, 0 if not one
	fields   []planField
	width    int // len(shape.Fields())
}

type planField struct {
	off uintptr // the offset of the field's value in a slice of values: its position times the size of a Value
	acc *fieldAcc
}

// fieldAcc is the Builder's side of a FieldProfile, laid out for the
// per-event path. While a field keeps frequencies its ints are only
// counted; their numeric statistics are computed from the counts when
// the field overflows or a Profile is taken, which gives the same result
// as adding them one by one.
type fieldAcc struct {
	kinds [numKinds]int64 // by kind; index KindNull counts nulls
	trues int64

	high     bool
	strIdx   map[string]int32 // index into strCnt; a map of ints so lookups never store the key
	strCnt   []int64
	strKeys  []string // the keys of strIdx by index: strKeys[strIdx[s]] == s
	lastStr  int32    // index of the string counted last, or -1
	small    []int64  // counts of ints in [0, len(small)): cheaper than a map
	nSmall   int      // non-zero counts in small
	ints     map[int64]int64
	keyBytes int
	regs     *registers // the distinct values once high

	num numStats // floats always; ints once high
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{
		events: map[string]*eventAcc{},
		plans:  map[*rules.Shape]*plan{},
	}
}

// ValueSlicer is implemented by events that hold their values in a slice
// in the order of Shape().Fields(). Observe reads such events through the
// slice, in place, instead of copying each value out through Value.
type ValueSlicer interface {
	// ValueSlice returns the event's values; element i is Value(i). The
	// caller does not keep or modify it.
	ValueSlice() []rules.Value
}

// Observe adds an event to the profile. Values are read during the call
// only; strings are copied when they become new frequency keys.
func (b *Builder) Observe(e rules.Event) {
	s := e.Shape()
	if s == nil {
		return
	}
	n := len(s.Fields())
	if vs, ok := e.(ValueSlicer); ok {
		if v := vs.ValueSlice(); len(v) >= n {
			b.ObserveValues(s, v)
			return
		}
	}
	b.scratch = b.scratch[:0]
	for i := range n {
		b.scratch = append(b.scratch, e.Value(i))
	}
	b.ObserveValues(s, b.scratch)
}

// ObserveValues is Observe for an event given as its shape and its values
// in the order of s.Fields(), as a source that holds them in a slice has
// them; it saves Observe's interface calls. vals must hold a value for
// every field of s.
func (b *Builder) ObserveValues(s *rules.Shape, vals []rules.Value) {
	p := b.lastPlan
	if p == nil || p.shape != s {
		// The shapes of a log alternate: search the first few plans
		// here, without a call.
		p = nil
		for _, r := range b.recent {
			if r.shape == s {
				p = r
				break
			}
		}
		if p == nil {
			p = b.planFor(s)
		}
		b.lastPlan = p
	}
	if len(vals) < p.width {
		panic(fmt.Sprintf("profile: %d values for the %d fields of a %s", len(vals), p.width, s.Event())) // a broken source
	}
	// The values are read at their offsets without bounds checks: every
	// field's position is below p.width, and vals holds that many.
	base := unsafe.Pointer(unsafe.SliceData(vals))
	ev := p.ev
	ev.count++
	c := &b.times
	if p.timePos < 0 {
		ev.noHour++
	} else if v := (*rules.Value)(unsafe.Add(base, p.timeOff)); v.Kind == rules.KindString && len(v.Str) >= 19 &&
		le64(v.Str) == c.w0 && le64(v.Str[5:]) == c.w1 && c.ok && rules.UsualTextTime(v.Str) {
		// the date and hour of the cached reading
		p.timeAcc.kinds[rules.KindString]++
		ev.hours[c.hour]++
		if c.other {
			ev.otherDay++
		}
	} else {
		hour, other := -1, false
		switch {
		case v.Kind == rules.KindString:
			hour, other = b.textHour(v.Str)
		case v.Kind == rules.KindInt && p.timeUnit > 0:
			hour, other = b.unixHour(v.Int, p.timeUnit)
		}
		if uint(hour) < uint(len(ev.hours)) {
			ev.hours[hour]++
		} else {
			ev.noHour++ // a date alone has none, but can be another day's
		}
		if other {
			ev.otherDay++
		}
		if int(v.Kind) < numKinds {
			p.timeAcc.kinds[v.Kind]++
		}
	}
	// Each case counts its kind with a constant index; a kind this
	// version does not know is skipped.
	for _, pf := range p.fields {
		v := (*rules.Value)(unsafe.Add(base, pf.off))
		f := pf.acc
		if v.Kind == rules.KindString { // the commonest kind, tested first
			f.kinds[rules.KindString]++
			str := v.Str
			if f.high {
				// insertString, without a call for strings shorter than
				// 32 bytes, which ids and names are: metro's assembly
				// takes its arguments on the stack, costs the loop its
				// registers, and runs its fixed steps for any length.
				// metro hashes the last 31 bytes or fewer in steps of 16,
				// 8, 4, 2 and 1 bytes, each taken while that many remain:
				// the bits of n say which there are, and each starts
				// where the longer ones ended.
				var h uint64
				if n := uint(len(str)); n < 32 {
					const k0, k1, k2, k3 = metroK0, metroK1, metroK2, metroK3
					p := unsafe.Pointer(unsafe.StringData(str))
					h = metroInit
					if n&16 != 0 {
						v0 := h + load64(p, 0)*k2
						v0 = bits.RotateLeft64(v0, -29) * k3
						v1 := h + load64(p, 8)*k2
						v1 = bits.RotateLeft64(v1, -29) * k3
						v0 ^= bits.RotateLeft64(v0*k0, -21) + v1
						v1 ^= bits.RotateLeft64(v1*k3, -21) + v0
						h += v1
					}
					if n&8 != 0 {
						h += load64(p, n&16) * k3
						h ^= bits.RotateLeft64(h, -55) * k1
					}
					if n&4 != 0 {
						h += uint64(load32(p, n&24)) * k3
						h ^= bits.RotateLeft64(h, -26) * k1
					}
					if n&2 != 0 {
						h += uint64(load16(p, n&28)) * k3
						h ^= bits.RotateLeft64(h, -48) * k1
					}
					if n&1 != 0 {
						h += uint64(*(*uint8)(unsafe.Add(p, n&30))) * k3
						h ^= bits.RotateLeft64(h, -37) * k1
					}
					h ^= bits.RotateLeft64(h, -28)
					h *= k0
					h ^= bits.RotateLeft64(h, -29)
				} else {
					h = metro.Hash64Str(str, metroSeed)
				}
				f.regs.insertHash(h)
				continue
			}
			if j := f.lastStr; j >= 0 && f.strKeys[j] == str {
				f.strCnt[j]++
				continue
			}
			if j, ok := f.strIndex(str); ok {
				f.strCnt[j]++
				f.lastStr = j
				continue
			}
			b.newString(f, str)
			continue
		}
		switch v.Kind {
		case rules.KindInt:
			f.kinds[rules.KindInt]++
			x := v.Int
			if f.high {
				f.num.addInt(x)
				f.regs.insertHash(fmix64(uint64(x)))
				continue
			}
			if u := uint64(x); u < uint64(len(f.small)) && f.small[u] > 0 {
				f.small[u]++
				continue
			}
			b.countInt(f, x)
		case rules.KindNull:
			f.kinds[rules.KindNull]++
		case rules.KindFloat:
			f.kinds[rules.KindFloat]++
			f.num.addFloat(v.Float)
		case rules.KindBool:
			f.kinds[rules.KindBool]++
			if v.Int != 0 {
				f.trues++
			}
		}
	}
}

// maxRecent bounds the plans searched linearly: a scan meets a handful of
// shapes, and comparing a few pointers beats hashing one.
const maxRecent = 8

// planFor returns the plan for s, made on its first event.
func (b *Builder) planFor(s *rules.Shape) *plan {
	p := b.plans[s]
	if p == nil {
		ev := b.events[s.Event()]
		if ev == nil {
			ev = &eventAcc{fields: map[string]*fieldAcc{}}
			b.events[s.Event()] = ev
		}
		p = &plan{shape: s, ev: ev, timePos: -1, width: len(s.Fields())}
		for i, fd := range s.Fields() {
			acc := ev.fields[fd.Name]
			if acc == nil {
				acc = &fieldAcc{strIdx: map[string]int32{}, ints: map[int64]int64{}, lastStr: -1}
				ev.fields[fd.Name] = acc
			}
			if fd.Name == TimeField && p.timePos < 0 {
				p.timePos, p.timeAcc, p.timeUnit = i, acc, rules.TimeUnit(fd.Type)
				p.timeOff = uintptr(i) * unsafe.Sizeof(rules.Value{})
				continue
			}
			p.fields = append(p.fields, planField{off: uintptr(i) * unsafe.Sizeof(rules.Value{}), acc: acc})
		}
		b.plans[s] = p
		if len(b.recent) < maxRecent {
			b.recent = append(b.recent, p)
		}
	}
	return p
}

// maxSmall bounds the ints counted in fieldAcc.small (32 KiB of counts):
// ratings, minutes, status codes, response times in ms.
const maxSmall = 4096

// countInt counts x for a field that keeps frequencies, when x is not an
// already seen small int.
func (b *Builder) countInt(f *fieldAcc, x int64) {
	if x >= 0 && x < maxSmall {
		if x >= int64(len(f.small)) {
			n := max(64, 2*len(f.small))
			for int64(n) <= x {
				n *= 2
			}
			f.small = append(f.small, make([]int64, min(n, maxSmall)-len(f.small))...)
		}
		f.small[x]++
		if f.small[x] > 1 {
			return
		}
		f.nSmall++
	} else {
		n := len(f.ints)
		f.ints[x]++
		if len(f.ints) == n {
			return
		}
	}
	if tooMany(f.distinct(), f.keyBytes) {
		b.overflow(f)
	}
}

func (f *fieldAcc) distinct() int { return f.nSmall + len(f.ints) + len(f.strIdx) }

// eachInt calls fn with each counted int and its count.
func (f *fieldAcc) eachInt(fn func(x, c int64)) {
	for x, c := range f.small {
		if c > 0 {
			fn(int64(x), c)
		}
	}
	for x, c := range f.ints {
		fn(x, c)
	}
}

// maxScan bounds the strings a field compares one by one instead of
// hashing the value for its map: status texts, server names and other
// enumerations take a compare or two.
const maxScan = 4

// strIndex returns the index of s among f's strings.
func (f *fieldAcc) strIndex(s string) (int32, bool) {
	if len(f.strKeys) <= maxScan {
		for j, k := range f.strKeys {
			if k == s {
				return int32(j), true
			}
		}
		return 0, false
	}
	j, ok := f.strIdx[s]
	return j, ok
}

func (b *Builder) newString(f *fieldAcc, s string) {
	s = strings.Clone(s) // s points into the source's buffer
	j := int32(len(f.strCnt))
	f.strIdx[s] = j
	f.strCnt = append(f.strCnt, 1)
	f.strKeys = append(f.strKeys, s)
	f.lastStr = j
	f.keyBytes += len(s)
	if tooMany(f.distinct(), f.keyBytes) {
		b.overflow(f)
	}
}

// overflow turns f high-cardinality: its distinct values move to a
// HyperLogLog and its int counts into the numeric statistics.
func (b *Builder) overflow(f *fieldAcc) {
	r := new(registers)
	for s := range f.strIdx {
		r.insertString(s)
	}
	f.eachInt(func(x, c int64) {
		r.insertHash(fmix64(uint64(x)))
		f.num.addIntCount(x, c)
	})
	f.high, f.regs = true, r
	f.strIdx, f.strCnt, f.strKeys, f.lastStr = nil, nil, nil, -1
	f.small, f.nSmall, f.ints, f.keyBytes = nil, 0, nil, 0
}

// Profile returns the profile of the events observed so far. The Builder
// stays usable; the Profile shares nothing with it.
func (b *Builder) Profile() *Profile {
	p := &Profile{Events: make(map[string]*EventProfile, len(b.events))}
	for name, ev := range b.events {
		ep := &EventProfile{
			Count:    ev.count,
			Hours:    ev.hours,
			NoHour:   ev.noHour,
			OtherDay: ev.otherDay,
			Fields:   make(map[string]*FieldProfile, len(ev.fields)),
		}
		for fname, f := range ev.fields {
			ep.Fields[fname] = f.profile()
		}
		p.Events[name] = ep
	}
	return p
}

func (f *fieldAcc) profile() *FieldProfile {
	fp := &FieldProfile{Nulls: f.kinds[rules.KindNull], trues: f.trues, high: f.high}
	for k, n := range f.kinds {
		fp.Count += n
		if k != int(rules.KindNull) {
			fp.kinds[k] = n
		}
	}
	if f.high {
		fp.hll = f.regs.sketch()
	} else {
		if len(f.strIdx) > 0 {
			fp.strs = make(map[string]int64, len(f.strIdx))
			for s, j := range f.strIdx {
				// JSON writes text that is not UTF-8 with U+FFFD for the
				// bad bytes: count it so, or "\xff" and "\xfe" would
				// be two keys here and one, twice, in the history.
				if !utf8.ValidString(s) {
					s = strings.ToValidUTF8(s, "\uFFFD")
				}
				fp.strs[s] += f.strCnt[j]
			}
		}
		if f.nSmall+len(f.ints) > 0 {
			fp.ints = make(map[int64]int64, f.nSmall+len(f.ints))
			f.eachInt(func(x, c int64) { fp.ints[x] = c })
		}
	}
	// nonFinite too: a field whose floats were all NaN or infinite (in a
	// small file, say) has no sketch, but its count must merge.
	if f.num.sketch != nil || f.num.nonFinite > 0 || len(fp.ints) > 0 {
		fp.num = f.num.clone()
		for x, c := range fp.ints {
			fp.num.addIntCount(x, c)
		}
	}
	return fp
}

// textHour returns the UTC hour of the text time t, or -1, and whether
// it falls on another date than the audited day, when one is set; it
// remembers the reading of a time in the usual form for those that share
// its date and hour.
func (b *Builder) textHour(t string) (hour int, otherDay bool) {
	date, h, ok := rules.TextTime(t)
	if !ok {
		return -1, false
	}
	// date != b.day by two loads, not a call to memequal; SetDay's layout
	// takes exactly 10 bytes.
	other := b.day != "" && (len(date) != 10 || le64(date) != b.dayLo || le16(date[8:]) != b.dayHi)
	if rules.UsualTextTime(t) && uint(h) < 24 {
		c := &b.times // field by field: a literal is built on the stack and copied
		c.w0, c.w1, c.hour, c.other, c.ok = le64(t), le64(t[5:]), h, other, true
	}
	return h, other
}

// unixHour returns the UTC hour of t, an Avro timestamp of unit (see
// rules.TimeUnit), and whether it falls on another date than the audited
// day, when one is set. Text times are read by textHour.
func (b *Builder) unixHour(t, unit int64) (hour int, otherDay bool) {
	h := t / unit // units since the epoch, in UTC
	if t%unit < 0 {
		h-- // before 1970: round down
	}
	return int((h%24 + 24) % 24), b.day != "" && rules.DayNumber(t, unit) != b.dayIndex
}

// le64 and le16 read the first 8 and 2 bytes of s as little-endian words:
// one load each.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le16(s string) uint16 {
	_ = s[1]
	return uint16(s[0]) | uint16(s[1])<<8
}
