package profile

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// exactSum adds float64 and int64 values without rounding, so that a sum
// does not depend on the order of its terms: a merged profile carries the
// same bits as the profile of the whole. It is a fixed-point number in
// units of 2^-1074 (the smallest float64 step) held in 32-bit limbs that
// are stored in int64 words; the spare bits of each word absorb carries,
// which are propagated every 2^30 additions.
type exactSum struct {
	w       [sumWords]int64
	pending uint32 // additions since the last normalize
}

const (
	sumWords = 72   // 2304 bits: float64 range (2098 bits) plus 2^64 terms, with room to spare
	sumShift = 1074 // the value of word 0, bit 0 is 2^-1074
	limbMask = 1<<32 - 1
	maxAdds  = 1 << 30 // each add puts < 2^32 into a word; 2^30 adds stay below 2^62
)

// addFloat adds a finite x.
func (a *exactSum) addFloat(x float64) {
	b := math.Float64bits(x)
	e := uint(b>>52) & 0x7ff
	m := b & (1<<52 - 1)
	if e == 0 {
		if m == 0 {
			return
		}
		e = 1 // subnormal: same scale as the smallest normal, no hidden bit
	} else {
		m |= 1 << 52
	}
	// x = m * 2^(e-1075) = m * 2^(e-1) units.
	s := e - 1
	k, r := s>>5, s&31
	lo := m << r
	hi := m >> (64 - r) // 0 when r == 0
	c0, c1, c2 := int64(lo&limbMask), int64(lo>>32), int64(hi)
	if b>>63 != 0 {
		c0, c1, c2 = -c0, -c1, -c2
	}
	w := a.w[k : k+3 : k+3]
	w[0] += c0
	w[1] += c1
	w[2] += c2
	a.bump()
}

// addIntTimes adds n·x and, to sq, n·x²; it is how counted values enter.
func addIntTimes(sum, sq *exactSum, x int64, n uint64) {
	u := uint64(x)
	if x < 0 {
		u = -u
	}
	h, l := bits.Mul64(u, n)
	sum.addWide(x < 0, [3]uint64{l, h}, sumShift)
	sh, sl := bits.Mul64(u, u)
	a1, a0 := bits.Mul64(sl, n)
	b1, b0 := bits.Mul64(sh, n)
	mid, carry := bits.Add64(a1, b0, 0)
	sq.addWide(false, [3]uint64{a0, mid, b1 + carry}, sumShift)
}

// addWide adds ±v·2^s units, v being a 192-bit little-endian number.
func (a *exactSum) addWide(neg bool, v [3]uint64, s uint) {
	k, r := s>>5, s&31
	var w [4]uint64
	w[0] = v[0] << r
	w[1] = v[1]<<r | v[0]>>(64-r)
	w[2] = v[2]<<r | v[1]>>(64-r)
	w[3] = v[2] >> (64 - r)
	dst := a.w[k : k+8 : k+8]
	for j := range dst {
		c := int64(w[j>>1] >> (32 * (j & 1)) & limbMask)
		if neg {
			c = -c
		}
		dst[j] += c
	}
	a.bump()
}

func (a *exactSum) bump() {
	a.pending++
	if a.pending >= maxAdds {
		a.normalize()
	}
}

// normalize propagates carries so that every word but the last holds a
// limb in [0, 2^32); the last one holds the sign. The normalized form of a
// value is unique.
func (a *exactSum) normalize() {
	for i := 0; i < sumWords-1; i++ {
		c := a.w[i] >> 32 // arithmetic: floor division by 2^32
		a.w[i] -= c << 32
		a.w[i+1] += c
	}
	a.pending = 0
}

// merge adds o to a.
func (a *exactSum) merge(o *exactSum) {
	a.normalize()
	for i := range a.w {
		a.w[i] += o.w[i] // below 2^62 + 2^32: no overflow
	}
	a.normalize()
}

// units returns the sum as an integer number of 2^-1074 units.
func (a *exactSum) units() *big.Int {
	c := *a
	c.normalize()
	n := big.NewInt(c.w[sumWords-1])
	var limb big.Int
	for i := sumWords - 2; i >= 0; i-- {
		n.Lsh(n, 32)
		n.Add(n, limb.SetInt64(c.w[i]))
	}
	return n
}

// setUnits sets a to n units of 2^-1074.
func (a *exactSum) setUnits(n *big.Int) error {
	*a = exactSum{}
	if n.BitLen() > 32*(sumWords-2) {
		return errors.New("sum out of range")
	}
	buf := make([]byte, 4*sumWords)
	new(big.Int).Abs(n).FillBytes(buf)
	for i := range sumWords {
		j := len(buf) - 4*(i+1)
		limb := int64(buf[j])<<24 | int64(buf[j+1])<<16 | int64(buf[j+2])<<8 | int64(buf[j+3])
		if n.Sign() < 0 {
			limb = -limb
		}
		a.w[i] = limb
	}
	a.normalize()
	return nil
}

// float returns the value as a big.Float, exactly.
func (a *exactSum) float() *big.Float {
	n := a.units()
	f := new(big.Float).SetInt(n)
	return f.SetMantExp(f, -sumShift)
}

// text returns the exact value: a decimal integer when it is whole, else a
// hexadecimal float such as "0x.8p+3" (4). Both parse with big.ParseFloat.
func (a *exactSum) text() string {
	n := a.units()
	if n.Sign() == 0 {
		return "0"
	}
	if n.TrailingZeroBits() >= sumShift {
		neg := n.Sign() < 0
		n.Abs(n).Rsh(n, sumShift)
		if neg {
			n.Neg(n)
		}
		return n.String()
	}
	f := new(big.Float).SetInt(n)
	return f.SetMantExp(f, -sumShift).Text('p', 0)
}

// parseExactSum reads what text writes.
func parseExactSum(s string) (exactSum, error) {
	var a exactSum
	f, _, err := big.ParseFloat(s, 0, 32*sumWords, big.ToNearestEven)
	if err != nil {
		return a, fmt.Errorf("bad sum %q", s)
	}
	f.SetMantExp(f, sumShift)
	n, acc := f.Int(nil)
	if acc != big.Exact || f.IsInf() {
		return a, fmt.Errorf("bad sum %q: not a multiple of 2^-1074", s)
	}
	if err := a.setUnits(n); err != nil {
		return a, fmt.Errorf("bad sum %q: %w", s, err)
	}
	return a, nil
}

// Sketch parameters; part of profile version 1.
const (
	// SketchRelativeAccuracy is the relative accuracy of quantiles.
	SketchRelativeAccuracy = 0.01
	// SketchMaxBins bounds the bins of each sign of a sketch; past it the
	// lowest bins collapse. At 1% accuracy 2048 bins span 17 decades.
	SketchMaxBins = 2048
)

// newMapping returns the cubically interpolated mapping: the same
// accuracy guarantee as the logarithmic one with about 1% more bins, but
// without a math.Log per value, which made the per-event cost of a number
// several times that of a map lookup.
func newMapping() mapping.IndexMapping {
	m, err := mapping.NewCubicallyInterpolatedMapping(SketchRelativeAccuracy)
	if err != nil {
		panic("profile: sketch mapping: " + err.Error()) // constant arguments
	}
	return m
}

func newStore() store.Store { return store.NewCollapsingLowestDenseStore(SketchMaxBins) }

func newSketch() *ddsketch.DDSketch {
	return ddsketch.NewDDSketch(newMapping(), newStore(), newStore())
}

// decodeSketch reads what Encode wrote and checks that it uses this
// package's mapping, so that it merges with sketches built here.
func decodeSketch(b []byte) (*ddsketch.DDSketch, error) {
	var s *ddsketch.DDSketch
	err := decodeSafely(func() (err error) {
		s, err = ddsketch.DecodeDDSketch(b, newStore, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.IndexMapping == nil || !s.IndexMapping.Equals(newMapping()) {
		return nil, errors.New("sketch mapping differs from relative accuracy 0.01")
	}
	return s, nil
}

// decodeSafely runs a sketch library's decoder on bytes read from a file.
// The libraries trust their input and can panic on bytes a damaged file
// holds (sketches-go indexes out of range on a corrupt bin offset): the
// panic becomes an error, so that a damaged history entry or partial is
// refused, not the end of the run. Like the readers' recover, this is a
// boundary with code that is not ours, not error handling by panic.
func decodeSafely(decode func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("corrupt sketch: %v", v)
		}
	}()
	return decode()
}

// numStats holds what a field's numbers need for min, max, mean, standard
// deviation and quantiles. Every part merges exactly.
type numStats struct {
	ints, floats       int64 // values counted
	intMin, intMax     int64
	floatMin, floatMax float64
	nonFinite          int64 // NaN, ±Inf and numbers the sketch cannot hold; not counted
	sqInf              int64 // squares that overflowed float64

	// Σx and Σx² are sum and sumSq plus, for ints added one by one, the
	// plain two's-complement words isum (128 bits) and isq (192 bits),
	// which cost a few instructions per value; exact either way.
	sum, sumSq exactSum
	isum       [2]uint64
	isq        [3]uint64

	sketch *ddsketch.DDSketch
	adder  *sketchAdder // the Builder's fast path into sketch
}

// sketchAdder adds to a sketch's stores directly, with concrete types: the
// same bins as DDSketch.Add without its three dynamic calls per value.
type sketchAdder struct {
	m        *mapping.CubicallyInterpolatedMapping
	pos, neg *store.CollapsingLowestDenseStore
	lo, hi   float64 // indexable magnitudes
}

func newSketchAdder(s *ddsketch.DDSketch) *sketchAdder {
	m, ok1 := s.IndexMapping.(*mapping.CubicallyInterpolatedMapping)
	pos, ok2 := s.GetPositiveValueStore().(*store.CollapsingLowestDenseStore)
	neg, ok3 := s.GetNegativeValueStore().(*store.CollapsingLowestDenseStore)
	if !ok1 || !ok2 || !ok3 {
		return nil
	}
	return &sketchAdder{m: m, pos: pos, neg: neg, lo: m.MinIndexableValue(), hi: m.MaxIndexableValue()}
}

// sketchAdd adds x to the sketch, reporting false if it cannot hold it.
func (n *numStats) sketchAdd(x float64) bool {
	a := n.adder
	if a == nil {
		if n.sketch == nil {
			n.sketch = newSketch()
		}
		a = newSketchAdder(n.sketch)
		n.adder = a
	}
	switch {
	case a == nil:
	case x > a.lo && x <= a.hi:
		a.pos.Add(a.m.Index(x))
		return true
	case x < -a.lo && x >= -a.hi:
		a.neg.Add(a.m.Index(-x))
		return true
	}
	return n.sketch.Add(x) == nil // zeros, the untrackable, and no adder
}

func (n *numStats) count() int64 { return n.ints + n.floats }

func (n *numStats) addFloat(x float64) {
	if x-x != 0 || !n.sketchAdd(x) { // NaN or ±Inf, or out of range
		n.nonFinite++
		return
	}
	x += 0 // -0 → +0: keeps min and max independent of order
	if n.floats == 0 {
		n.floatMin, n.floatMax = x, x
	} else if x < n.floatMin {
		n.floatMin = x
	} else if x > n.floatMax {
		n.floatMax = x
	}
	n.floats++
	n.sum.addFloat(x)
	if sq := x * x; sq <= math.MaxFloat64 {
		n.sumSq.addFloat(sq)
	} else {
		n.sqInf++
	}
}

func (n *numStats) addInt(x int64) {
	// An int other than 0 is within the adder's indexable magnitudes
	// (1 to 2^63 against about 1e-308 to 1e308): only its sign chooses
	// the store, without sketchAdd's call and range tests.
	if a := n.adder; a != nil && x > 0 {
		a.pos.Add(a.m.Index(float64(x)))
	} else if a != nil && x < 0 {
		a.neg.Add(a.m.Index(-float64(x)))
	} else {
		n.sketchAdd(float64(x)) // cannot fail: |x| < 2^63
	}
	if n.ints == 0 {
		n.intMin, n.intMax = x, x
	} else if x < n.intMin {
		n.intMin = x
	} else if x > n.intMax {
		n.intMax = x
	}
	n.ints++
	var c uint64
	n.isum[0], c = bits.Add64(n.isum[0], uint64(x), 0)
	n.isum[1] += uint64(x>>63) + c // x>>63 sign-extends x to 128 bits
	u := uint64(x)
	if x < 0 {
		u = -u
	}
	hi, lo := bits.Mul64(u, u)
	n.isq[0], c = bits.Add64(n.isq[0], lo, 0)
	n.isq[1], c = bits.Add64(n.isq[1], hi, c)
	n.isq[2] += c
}

// addIntCount adds c occurrences of x.
func (n *numStats) addIntCount(x, c int64) {
	if c <= 0 {
		return
	}
	if n.sketch == nil {
		n.sketch = newSketch()
	}
	n.sketch.AddWithCount(float64(x), float64(c))
	if n.ints == 0 {
		n.intMin, n.intMax = x, x
	} else {
		n.intMin, n.intMax = min(n.intMin, x), max(n.intMax, x)
	}
	n.ints += c
	addIntTimes(&n.sum, &n.sumSq, x, uint64(c))
}

// totals returns Σx and Σx².
func (n *numStats) totals() (sum, sumSq exactSum) {
	sum, sumSq = n.sum, n.sumSq
	lo, hi := n.isum[0], n.isum[1]
	neg := int64(hi) < 0
	if neg {
		var b uint64
		lo, b = bits.Sub64(0, lo, 0)
		hi, _ = bits.Sub64(0, hi, b)
	}
	sum.addWide(neg, [3]uint64{lo, hi}, sumShift)
	sumSq.addWide(false, n.isq, sumShift)
	return sum, sumSq
}

func (n *numStats) clone() *numStats {
	c := *n
	c.adder = nil // it points into n's sketch
	if n.sketch != nil {
		c.sketch = n.sketch.Copy()
	}
	return &c
}

func (n *numStats) merge(o *numStats) {
	if o.ints > 0 {
		if n.ints == 0 {
			n.intMin, n.intMax = o.intMin, o.intMax
		} else {
			n.intMin, n.intMax = min(n.intMin, o.intMin), max(n.intMax, o.intMax)
		}
	}
	if o.floats > 0 {
		if n.floats == 0 {
			n.floatMin, n.floatMax = o.floatMin, o.floatMax
		} else {
			n.floatMin, n.floatMax = min(n.floatMin, o.floatMin), max(n.floatMax, o.floatMax)
		}
	}
	n.ints += o.ints
	n.floats += o.floats
	n.nonFinite += o.nonFinite
	n.sqInf += o.sqInf
	n.sum.merge(&o.sum)
	n.sumSq.merge(&o.sumSq)
	var c uint64
	n.isum[0], c = bits.Add64(n.isum[0], o.isum[0], 0)
	n.isum[1], _ = bits.Add64(n.isum[1], o.isum[1], c)
	n.isq[0], c = bits.Add64(n.isq[0], o.isq[0], 0)
	n.isq[1], c = bits.Add64(n.isq[1], o.isq[1], c)
	n.isq[2] += o.isq[2] + c
	switch {
	case o.sketch == nil:
	case n.sketch == nil:
		n.sketch = o.sketch.Copy()
	default:
		// Both use newMapping (checked on decode), so this cannot fail.
		_ = n.sketch.MergeWith(o.sketch)
	}
}

func (n *numStats) min() float64 {
	switch {
	case n.ints > 0 && n.floats > 0:
		return math.Min(float64(n.intMin), n.floatMin)
	case n.ints > 0:
		return float64(n.intMin)
	}
	return n.floatMin
}

func (n *numStats) max() float64 {
	switch {
	case n.ints > 0 && n.floats > 0:
		return math.Max(float64(n.intMax), n.floatMax)
	case n.ints > 0:
		return float64(n.intMax)
	}
	return n.floatMax
}

const statPrec = 512

// mean returns Σx / n, rounded once.
func (n *numStats) mean() float64 {
	sum, _ := n.totals()
	s := sum.float()
	s.SetPrec(statPrec).Quo(s, new(big.Float).SetInt64(n.count()))
	f, _ := s.Float64()
	return f
}

// stdDev returns the population standard deviation
// sqrt((n·Σx² − (Σx)²) / n²), computed in 512-bit precision.
func (n *numStats) stdDev() float64 {
	if n.sqInf > 0 {
		return math.Inf(1)
	}
	sum, sumSq := n.totals()
	c := new(big.Float).SetPrec(statPrec).SetInt64(n.count())
	s := sum.float()
	s.SetPrec(statPrec)
	v := sumSq.float()
	v.SetPrec(statPrec).Mul(v, c)
	v.Sub(v, s.Mul(s, s))
	if v.Sign() <= 0 {
		return 0
	}
	v.Quo(v, c.Mul(c, c))
	f, _ := v.Float64()
	return math.Sqrt(f)
}
