package profile

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dqaudit/dqaudit/rules"
)

// Metric is a drift metric comparing a field's profile with a baseline's.
// The zero Metric is unset.
type Metric uint8

// The drift metrics. See Compare for their formulas.
const (
	MetricPSI Metric = iota + 1
	MetricJS
	MetricLInf
	MetricQuantileChange
	MetricMeanChange
	MetricNullRatioChange
)

var metricNames = [...]string{
	MetricPSI:             "psi",
	MetricJS:              "js",
	MetricLInf:            "linf",
	MetricQuantileChange:  "quantile_change",
	MetricMeanChange:      "mean_change",
	MetricNullRatioChange: "null_ratio_change",
}

// String returns the metric's name as configurations spell it.
func (m Metric) String() string {
	if m == 0 {
		return "unset"
	}
	if int(m) < len(metricNames) {
		return metricNames[m]
	}
	return "metric(" + strconv.Itoa(int(m)) + ")"
}

// ParseMetric returns the metric named s.
func ParseMetric(s string) (Metric, error) {
	for m := MetricPSI; int(m) < len(metricNames); m++ {
		if metricNames[m] == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown drift metric %q (want psi, js, linf, quantile_change, mean_change or null_ratio_change)", s)
}

// Errors of Compare and Distributions.
var (
	// ErrNoData means a side has no values to compare.
	ErrNoData = errors.New("no data to compare")
	// ErrHighCardinality means a categorical comparison met a field whose
	// value frequencies were dropped.
	ErrHighCardinality = errors.New("high-cardinality field has no value frequencies")
)

const (
	// PSIEpsilon is the share added to every bucket of both sides before
	// PSI is computed, so that empty buckets do not make it infinite.
	PSIEpsilon = 1e-4
	// PSIBins is the number of quantile bins of numeric distributions.
	PSIBins = 10
	// OtherLabel names the bucket of the values outside the top-K.
	OtherLabel = "__other__"
	// madScale makes a MAD-based z-score comparable with a standard one
	// for normal data: Φ⁻¹(0.75) ≈ 0.6745 (Iglewicz and Hoaglin).
	madScale = 0.6745
)

// Compare measures the drift of cur from base with metric m; q is the
// quantile of MetricQuantileChange and is ignored otherwise.
//
//   - psi: Σᵢ (cᵢ − bᵢ)·ln(cᵢ/bᵢ) over the buckets of Distributions, with
//     shares smoothed as in PSI. Above 0.1 is a moderate shift, above
//     0.25 a major one.
//   - js: Jensen–Shannon distance in base 2, see JSDistance; 0 to 1.
//   - linf: maxᵢ |cᵢ − bᵢ| over the quantile bins of a numeric field
//     (see LInf), and over every value of a categorical one, not its
//     top-K buckets; 0 to 1.
//   - quantile_change: (Q_cur(q) − Q_base(q)) / |Q_base(q)|.
//   - mean_change: (mean_cur − mean_base) / |mean_base|.
//   - null_ratio_change: nulls_cur/count_cur − nulls_base/count_base.
//
// Relative changes from a baseline of 0 are 0 when the current value is 0
// too and ±Inf otherwise. A nil profile or one without the needed values
// gives ErrNoData.
func Compare(m Metric, base, cur *FieldProfile, q float64) (float64, error) {
	if base == nil || cur == nil {
		return 0, ErrNoData
	}
	switch m {
	case MetricPSI, MetricJS, MetricLInf:
		d, err := Distributions(base, cur)
		if err != nil {
			return 0, err
		}
		switch m {
		case MetricPSI:
			return PSI(d.Base, d.Cur), nil
		case MetricJS:
			return JSDistance(d.Base, d.Cur), nil
		}
		if !d.Numeric {
			// Over every value, not the top-K buckets: the other bucket
			// of a many-valued field holds different values on each side,
			// and comparing its mass measures whose top values are more
			// concentrated (a pooled window baseline, one day) instead.
			return linfValues(base, cur), nil
		}
		return LInf(d.Base, d.Cur), nil
	case MetricQuantileChange:
		return QuantileChange(base, cur, q)
	case MetricMeanChange:
		return MeanChange(base, cur)
	case MetricNullRatioChange:
		return NullRatioChange(base, cur)
	}
	return 0, fmt.Errorf("compare: drift metric %s not known", m)
}

// Distribution is a pair of aligned distributions over the same buckets.
type Distribution struct {
	// Numeric tells quantile bins from categories.
	Numeric bool
	// Labels names the buckets: values, OtherLabel, or bins such as
	// "(3, 4.5]".
	Labels []string
	// Base and Cur are the shares of the buckets; each sums to 1.
	Base, Cur []float64
}

// Distributions returns the buckets PSI and JS compare, and LInf for a
// numeric field (a categorical one's L∞ is over every value, not these
// buckets, which reports chart).
//
// A field whose baseline values are mostly numbers is binned: the
// baseline's deciles (from its sketch) cut the line into at most PSIBins
// bins (−∞, d₁], (d₁, d₂], …, (d₉, +∞) (equal deciles merge bins), and
// each side's sketch gives its mass per bin. Other fields, and ints with
// at most DefaultTopK distinct values on both sides (ratings, status
// codes), are categorical: the union of each side's DefaultTopK most
// frequent values, plus OtherLabel for the rest of either side.
func Distributions(base, cur *FieldProfile) (Distribution, error) {
	if base == nil || cur == nil {
		return Distribution{}, ErrNoData
	}
	if base.mostlyNumeric() && !(smallInts(base) && smallInts(cur)) {
		if base.NumericCount() == 0 || cur.NumericCount() == 0 {
			return Distribution{}, ErrNoData
		}
		return binned(base, cur), nil
	}
	if base.high || cur.high {
		return Distribution{}, ErrHighCardinality
	}
	return categorical(base, cur, DefaultTopK)
}

// Binned reports whether Distributions compares base and cur by quantile
// bins (PSI is their default metric) rather than by value (L∞).
func Binned(base, cur *FieldProfile) bool {
	return base != nil && cur != nil && base.mostlyNumeric() && !(smallInts(base) && smallInts(cur))
}

// retypedShare is the largest share of the baseline's values that today's
// main kind may have held for the field to count as retyped: a field that
// mixes kinds every day does not flip between them.
const retypedShare = 0.1

// outgrownFactor is how many times the baseline's distinct values a field
// must hold today, too many to count exactly, for Outgrown to say so: a
// field that always had nearly MaxDistinct values may cross it on a busy
// day.
const outgrownFactor = 10

// Retyped describes a change in the kind of a field's values, such as
// "retyped: int in the baseline, string today": the kind that holds most
// of today's values (numbers, strings or booleans) is not the baseline's
// and held less than a tenth of its values. It returns "" when either
// side has no values, and on a field whose values keep their kind.
func Retyped(base, cur *FieldProfile) string {
	if base == nil || cur == nil {
		return ""
	}
	bg, bn := base.mainGroup()
	cg, cn := cur.mainGroup()
	if bn == 0 || cn == 0 || bg == cg {
		return ""
	}
	if float64(base.groupCount(cg)) >= retypedShare*float64(base.nonNull()) {
		return ""
	}
	return fmt.Sprintf("retyped: %s in the baseline, %s today", base.groupKinds(bg), cur.groupKinds(cg))
}

// Outgrown describes a field whose values the baseline counted exactly
// and that today holds so many distinct values (at least ten times as
// many) that their frequencies were dropped, so that no frequency can be
// compared: "too many distinct values to compare frequencies: 3 in the
// baseline, about 5,000 today". It returns "" otherwise, and for a field
// that is high-cardinality on both sides, as ids are every day.
func Outgrown(base, cur *FieldProfile) string {
	if base == nil || cur == nil || base.high || !cur.high {
		return ""
	}
	b, _ := base.Distinct()
	c, _ := cur.Distinct()
	if c < outgrownFactor*max(b, 1) {
		return ""
	}
	return fmt.Sprintf("too many distinct values to compare frequencies: %d in the baseline, about %s today", b, groupDigits(c))
}

// groupDigits writes n with commas between thousands.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// kindGroup is what Retyped compares: numbers (ints and floats),
// strings and booleans.
type kindGroup uint8

const (
	groupBool kindGroup = iota
	groupNumber
	groupString
)

func groupOf(k rules.Kind) kindGroup {
	switch k {
	case rules.KindBool:
		return groupBool
	case rules.KindString:
		return groupString
	}
	return groupNumber
}

func (f *FieldProfile) nonNull() int64 {
	var n int64
	for _, k := range f.Kinds() {
		n += f.kinds[k]
	}
	return n
}

func (f *FieldProfile) groupCount(g kindGroup) int64 {
	var n int64
	for _, k := range f.Kinds() {
		if groupOf(k) == g {
			n += f.kinds[k]
		}
	}
	return n
}

// mainGroup returns the group of most of f's non-null values and how
// many values f has; ties go to the group listed first.
func (f *FieldProfile) mainGroup() (kindGroup, int64) {
	best, bestN := groupBool, int64(-1)
	for _, g := range []kindGroup{groupBool, groupNumber, groupString} {
		if n := f.groupCount(g); n > bestN {
			best, bestN = g, n
		}
	}
	return best, f.nonNull()
}

// groupKinds names the kinds of f's values in group g: "int", "string",
// "int and float".
func (f *FieldProfile) groupKinds(g kindGroup) string {
	var names []string
	for _, k := range f.Kinds() {
		if groupOf(k) == g {
			names = append(names, k.String())
		}
	}
	return strings.Join(names, " and ")
}

func (f *FieldProfile) mostlyNumeric() bool {
	n := f.NumericCount()
	return n > 0 && n >= f.kinds[rules.KindString]+f.kinds[rules.KindBool]
}

// smallInts reports whether f's numbers are ints counted exactly, with at
// most DefaultTopK distinct values.
func smallInts(f *FieldProfile) bool {
	return !f.high && (f.num == nil || f.num.floats == 0) && len(f.ints) <= DefaultTopK
}

func binned(base, cur *FieldProfile) Distribution {
	var edges []float64
	for j := 1; j < PSIBins; j++ {
		e, err := base.num.sketch.GetValueAtQuantile(float64(j) / PSIBins)
		if err == nil && (len(edges) == 0 || e > edges[len(edges)-1]) {
			edges = append(edges, e)
		}
	}
	d := Distribution{Numeric: true, Base: binMass(base, edges), Cur: binMass(cur, edges)}
	for i := range d.Base {
		switch {
		case len(edges) == 0:
			d.Labels = append(d.Labels, "all")
		case i == 0:
			d.Labels = append(d.Labels, "≤ "+formatEdge(edges[0]))
		case i == len(edges):
			d.Labels = append(d.Labels, "> "+formatEdge(edges[i-1]))
		default:
			d.Labels = append(d.Labels, "("+formatEdge(edges[i-1])+", "+formatEdge(edges[i])+"]")
		}
	}
	return d
}

func formatEdge(x float64) string { return strconv.FormatFloat(x, 'g', 4, 64) }

// binMass returns the shares of f's sketch in the bins cut by edges. The
// edges are values of sketch bins under the same mapping, so every sketch
// bin falls wholly in one of them.
func binMass(f *FieldProfile, edges []float64) []float64 {
	mass := make([]float64, len(edges)+1)
	var total float64
	f.num.sketch.ForEach(func(v, c float64) bool {
		mass[sort.SearchFloat64s(edges, v)] += c
		total += c
		return false
	})
	for i := range mass {
		mass[i] /= total
	}
	return mass
}

func categorical(base, cur *FieldProfile, k int) (Distribution, error) {
	bv, cv := base.values(), cur.values()
	bt, ct := sumCounts(bv), sumCounts(cv)
	if bt == 0 || ct == 0 {
		return Distribution{}, ErrNoData
	}
	slices.SortFunc(bv, byCountDesc)
	slices.SortFunc(cv, byCountDesc)
	type bucket struct {
		v    rules.Value
		b, c int64
	}
	var buckets []bucket
	index := map[rules.Value]int{}
	for _, vs := range [][]ValueCount{bv, cv} {
		for _, vc := range vs[:min(k, len(vs))] {
			if _, ok := index[vc.Value]; !ok {
				index[vc.Value] = len(buckets)
				buckets = append(buckets, bucket{v: vc.Value})
			}
		}
	}
	for _, vc := range bv {
		if j, ok := index[vc.Value]; ok {
			buckets[j].b = vc.Count
		}
	}
	for _, vc := range cv {
		if j, ok := index[vc.Value]; ok {
			buckets[j].c = vc.Count
		}
	}
	slices.SortFunc(buckets, func(x, y bucket) int {
		if c := cmp.Compare(y.b, x.b); c != 0 {
			return c
		}
		if c := cmp.Compare(y.c, x.c); c != 0 {
			return c
		}
		return compareValues(x.v, y.v)
	})
	var d Distribution
	var bIn, cIn int64
	for _, bk := range buckets {
		d.Labels = append(d.Labels, label(bk.v))
		d.Base = append(d.Base, float64(bk.b)/float64(bt))
		d.Cur = append(d.Cur, float64(bk.c)/float64(ct))
		bIn += bk.b
		cIn += bk.c
	}
	if bIn < bt || cIn < ct {
		d.Labels = append(d.Labels, OtherLabel)
		d.Base = append(d.Base, float64(bt-bIn)/float64(bt))
		d.Cur = append(d.Cur, float64(ct-cIn)/float64(ct))
	}
	return d, nil
}

func sumCounts(vs []ValueCount) int64 {
	var n int64
	for _, vc := range vs {
		n += vc.Count
	}
	return n
}

// normalize returns p scaled to sum 1, or nil if it cannot be.
func normalize(p []float64) []float64 {
	var s float64
	for _, x := range p {
		if x < 0 || math.IsNaN(x) {
			return nil
		}
		s += x
	}
	if s == 0 || math.IsInf(s, 0) {
		return nil
	}
	out := make([]float64, len(p))
	for i, x := range p {
		out[i] = x / s
	}
	return out
}

// PSI returns the population stability index of cur against base, two
// aligned lists of bucket counts or shares (each is normalized to sum 1):
//
//	PSI = Σᵢ (cᵢ − bᵢ) · ln(cᵢ / bᵢ)
//
// where every share is first smoothed as sᵢ' = (sᵢ + ε) / (1 + n·ε), with
// ε = PSIEpsilon and n buckets, so that an empty bucket counts as a tiny
// one. It is NaN when the lists differ in length, are empty, or have no
// mass.
func PSI(base, cur []float64) float64 {
	b, c := normalize(base), normalize(cur)
	if b == nil || c == nil || len(b) != len(c) {
		return math.NaN()
	}
	den := 1 + float64(len(b))*PSIEpsilon
	var psi float64
	for i := range b {
		bi, ci := (b[i]+PSIEpsilon)/den, (c[i]+PSIEpsilon)/den
		psi += (ci - bi) * math.Log(ci/bi)
	}
	return psi
}

// JSDistance returns the Jensen–Shannon distance between two aligned
// lists of bucket counts or shares (each normalized to sum 1), the square
// root of the Jensen–Shannon divergence in base 2:
//
//	JS = sqrt(½ Σᵢ bᵢ·log₂(bᵢ/mᵢ) + ½ Σᵢ cᵢ·log₂(cᵢ/mᵢ)),  mᵢ = (bᵢ + cᵢ)/2
//
// with 0·log 0 = 0. It is 0 for equal distributions and 1 for disjoint
// ones; NaN as for PSI.
func JSDistance(base, cur []float64) float64 {
	b, c := normalize(base), normalize(cur)
	if b == nil || c == nil || len(b) != len(c) {
		return math.NaN()
	}
	var js float64
	for i := range b {
		m := (b[i] + c[i]) / 2
		if b[i] > 0 {
			js += b[i] * math.Log2(b[i]/m) / 2
		}
		if c[i] > 0 {
			js += c[i] * math.Log2(c[i]/m) / 2
		}
	}
	return math.Sqrt(min(max(js, 0), 1))
}

// linfValues is maxᵥ |cur(v) − base(v)| over all values of two fields
// whose value frequencies are kept.
func linfValues(base, cur *FieldProfile) float64 {
	bv, cv := base.values(), cur.values()
	bt, ct := float64(sumCounts(bv)), float64(sumCounts(cv))
	diff := make(map[rules.Value]float64, len(bv)+len(cv))
	for _, vc := range bv {
		diff[vc.Value] -= float64(vc.Count) / bt
	}
	for _, vc := range cv {
		diff[vc.Value] += float64(vc.Count) / ct
	}
	var d float64
	for _, x := range diff {
		d = max(d, math.Abs(x))
	}
	return d
}

// LInf returns the L-infinity distance maxᵢ |cᵢ − bᵢ| between two aligned
// lists of bucket counts or shares (each normalized to sum 1), the metric
// TFDV uses for categorical fields. NaN as for PSI.
func LInf(base, cur []float64) float64 {
	b, c := normalize(base), normalize(cur)
	if b == nil || c == nil || len(b) != len(c) {
		return math.NaN()
	}
	var d float64
	for i := range b {
		d = max(d, math.Abs(c[i]-b[i]))
	}
	return d
}

// RelativeChange returns (cur − base) / |base|: 0 when both are 0, ±Inf
// when only base is.
func RelativeChange(base, cur float64) float64 {
	if base == 0 {
		switch {
		case cur > 0:
			return math.Inf(1)
		case cur < 0:
			return math.Inf(-1)
		}
		return 0
	}
	return (cur - base) / math.Abs(base)
}

// QuantileChange returns the relative change of the q-quantile (see
// FieldProfile.Quantile): (Q_cur(q) − Q_base(q)) / |Q_base(q)|.
func QuantileChange(base, cur *FieldProfile, q float64) (float64, error) {
	if !(q >= 0 && q <= 1) {
		return 0, fmt.Errorf("quantile %v not in [0, 1]", q)
	}
	if base == nil || cur == nil {
		return 0, ErrNoData
	}
	b, ok1 := base.Quantile(q)
	c, ok2 := cur.Quantile(q)
	if !ok1 || !ok2 {
		return 0, ErrNoData
	}
	return RelativeChange(b, c), nil
}

// MeanChange returns the relative change of the mean:
// (mean_cur − mean_base) / |mean_base|.
func MeanChange(base, cur *FieldProfile) (float64, error) {
	if base == nil || cur == nil {
		return 0, ErrNoData
	}
	b, ok1 := base.Mean()
	c, ok2 := cur.Mean()
	if !ok1 || !ok2 {
		return 0, ErrNoData
	}
	return RelativeChange(b, c), nil
}

// NullRatioChange returns the absolute change of the share of nulls:
// nulls_cur/count_cur − nulls_base/count_base, in [−1, 1].
func NullRatioChange(base, cur *FieldProfile) (float64, error) {
	if base == nil || cur == nil || base.Count == 0 || cur.Count == 0 {
		return 0, ErrNoData
	}
	return float64(cur.Nulls)/float64(cur.Count) - float64(base.Nulls)/float64(base.Count), nil
}

// MedianMAD returns the median of xs and their median absolute deviation
// median(|xᵢ − median|), unscaled. Both are NaN for no xs. The median of
// an even count is the mean of the middle two.
func MedianMAD(xs []float64) (median, mad float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	median = middle(s)
	for i, x := range s {
		s[i] = math.Abs(x - median)
	}
	slices.Sort(s)
	return median, middle(s)
}

func middle(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// RobustZ returns the modified z-score of x, 0.6745·(x − median) / mad
// (Iglewicz and Hoaglin; |z| > 3.5 is the usual outlier bound). With a MAD
// of 0 it is 0 for x == median and ±Inf otherwise.
func RobustZ(x, median, mad float64) float64 {
	if mad == 0 {
		return RelativeChange(0, x-median)
	}
	return madScale * (x - median) / mad
}
