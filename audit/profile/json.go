package profile

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/dqaudit/dqaudit/rules"
)

// Version is the profile_version this package writes and reads. Version
// 1 fixes MaxDistinct, MaxKeyBytes, the sketch parameters, HLLPrecision
// and the HyperLogLog key form: profiles that differ in them do not merge.
const Version = 1

// The JSON document. Struct fields are in alphabetical order, and
// encoding/json sorts map keys, so every object has sorted keys and the
// same profile always encodes to the same bytes.
type profileJSON struct {
	Dates          []string              `json:"dates"`
	Events         map[string]*eventJSON `json:"events"`
	ProfileVersion int                   `json:"profile_version"`
}

type eventJSON struct {
	Count    int64                 `json:"count"`
	Fields   map[string]*fieldJSON `json:"fields"`
	Hours    [24]int64             `json:"hours"`
	NoHour   int64                 `json:"no_hour,omitempty"`
	OtherDay int64                 `json:"other_day,omitempty"`
}

type fieldJSON struct {
	Count           int64            `json:"count"`
	DistinctHLL     string           `json:"distinct_hll,omitempty"` // base64 of its binary form
	HighCardinality bool             `json:"high_cardinality,omitempty"`
	Kinds           map[string]int64 `json:"kinds,omitempty"` // non-null values by kind
	Nulls           int64            `json:"nulls"`
	Numeric         *numericJSON     `json:"numeric,omitempty"`
	Trues           int64            `json:"trues,omitempty"`
	ValuesInt       map[string]int64 `json:"values_int,omitempty"`
	ValuesString    map[string]int64 `json:"values_string,omitempty"`
}

type numericJSON struct {
	FloatCount int64    `json:"float_count,omitempty"`
	FloatMax   *float64 `json:"float_max,omitempty"`
	FloatMin   *float64 `json:"float_min,omitempty"`
	IntCount   int64    `json:"int_count,omitempty"`
	IntMax     *int64   `json:"int_max,omitempty"`
	IntMin     *int64   `json:"int_min,omitempty"`
	NonFinite  int64    `json:"non_finite,omitempty"`
	Sketch     string   `json:"sketch"` // base64 of the DDSketch binary encoding
	SqInf      int64    `json:"sq_inf,omitempty"`
	Sum        string   `json:"sum"`    // exact: decimal integer or hex float
	SumSq      string   `json:"sum_sq"` // exact, like sum
}

// MarshalJSON encodes p as a version 1 document with sorted keys.
func (p *Profile) MarshalJSON() ([]byte, error) {
	doc := profileJSON{
		Dates:          p.Dates,
		Events:         make(map[string]*eventJSON, len(p.Events)),
		ProfileVersion: Version,
	}
	if doc.Dates == nil {
		doc.Dates = []string{}
	}
	for name, e := range p.Events {
		ej := &eventJSON{Count: e.Count, Hours: e.Hours, NoHour: e.NoHour, OtherDay: e.OtherDay, Fields: make(map[string]*fieldJSON, len(e.Fields))}
		for fname, f := range e.Fields {
			fj, err := f.toJSON()
			if err != nil {
				return nil, fmt.Errorf("event %q field %q: %w", name, fname, err)
			}
			ej.Fields[fname] = fj
		}
		doc.Events[name] = ej
	}
	return json.Marshal(doc)
}

func (f *FieldProfile) toJSON() (*fieldJSON, error) {
	fj := &fieldJSON{Count: f.Count, Nulls: f.Nulls, Trues: f.trues, HighCardinality: f.high}
	for k := rules.KindBool; int(k) < numKinds; k++ {
		if n := f.kinds[k]; n != 0 {
			if fj.Kinds == nil {
				fj.Kinds = map[string]int64{}
			}
			fj.Kinds[k.String()] = n
		}
	}
	if f.high {
		// Dense sketches encode as their registers: a function of the set
		// of values, so merged and whole profiles encode alike.
		b, err := f.hll.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("encode distinct count: %w", err)
		}
		fj.DistinctHLL = base64.StdEncoding.EncodeToString(b)
	}
	if len(f.strs) > 0 {
		fj.ValuesString = f.strs
	}
	if len(f.ints) > 0 {
		fj.ValuesInt = make(map[string]int64, len(f.ints))
		for i, c := range f.ints {
			fj.ValuesInt[strconv.FormatInt(i, 10)] = c
		}
	}
	if n := f.num; n != nil {
		nj := &numericJSON{
			FloatCount: n.floats,
			IntCount:   n.ints,
			NonFinite:  n.nonFinite,
			SqInf:      n.sqInf,
		}
		sum, sumSq := n.totals()
		nj.Sum, nj.SumSq = sum.text(), sumSq.text()
		if n.ints > 0 {
			nj.IntMin, nj.IntMax = &n.intMin, &n.intMax
		}
		if n.floats > 0 {
			nj.FloatMin, nj.FloatMax = &n.floatMin, &n.floatMax
		}
		if n.sketch == nil {
			n = n.clone()
			n.sketch = newSketch()
		}
		var b []byte
		n.sketch.Encode(&b, false)
		nj.Sketch = base64.StdEncoding.EncodeToString(b)
		fj.Numeric = nj
	}
	return fj, nil
}

// UnmarshalJSON decodes a document MarshalJSON wrote, checking its
// version and its consistency, so that the profile merges and compares
// like the one encoded.
func (p *Profile) UnmarshalJSON(data []byte) error {
	var head struct {
		ProfileVersion *int `json:"profile_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("decode profile: %w", err)
	}
	if head.ProfileVersion == nil {
		return errors.New("decode profile: no profile_version")
	}
	if v := *head.ProfileVersion; v != Version {
		return fmt.Errorf("decode profile: profile_version %d not supported (want %d)", v, Version)
	}
	var doc profileJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("decode profile: %w", err)
	}
	out := Profile{Events: make(map[string]*EventProfile, len(doc.Events))}
	for _, d := range doc.Dates {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return fmt.Errorf("decode profile: date %q is not YYYY-MM-DD", d)
		}
	}
	out.Dates = mergeDates(nil, doc.Dates)
	for name, ej := range doc.Events {
		e, err := ej.decode()
		if err != nil {
			return fmt.Errorf("decode profile: event %q: %w", name, err)
		}
		out.Events[name] = e
	}
	*p = out
	return nil
}

func (ej *eventJSON) decode() (*EventProfile, error) {
	if ej == nil {
		return nil, errors.New("null event")
	}
	e := &EventProfile{Count: ej.Count, Hours: ej.Hours, NoHour: ej.NoHour, OtherDay: ej.OtherDay, Fields: make(map[string]*FieldProfile, len(ej.Fields))}
	sum := e.NoHour
	for _, n := range e.Hours {
		if n < 0 {
			return nil, errors.New("negative hour count")
		}
		sum += n
	}
	if e.Count < 0 || e.NoHour < 0 || sum != e.Count {
		return nil, fmt.Errorf("hours and no_hour add up to %d, not count %d", sum, e.Count)
	}
	if e.OtherDay < 0 || e.OtherDay > e.Count-e.NoHour {
		return nil, fmt.Errorf("other_day %d is not within the %d events with an hour", e.OtherDay, e.Count-e.NoHour)
	}
	for name, fj := range ej.Fields {
		f, err := fj.decode(name == TimeField)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", name, err)
		}
		e.Fields[name] = f
	}
	return e, nil
}

func kindByName(s string) (rules.Kind, bool) {
	for k := rules.KindBool; int(k) < numKinds; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// decode checks fj; time fields count values by kind only.
func (fj *fieldJSON) decode(isTime bool) (*FieldProfile, error) {
	if fj == nil {
		return nil, errors.New("null field")
	}
	f := &FieldProfile{Count: fj.Count, Nulls: fj.Nulls, trues: fj.Trues, high: fj.HighCardinality}
	total := f.Nulls
	for name, n := range fj.Kinds {
		k, ok := kindByName(name)
		if !ok {
			return nil, fmt.Errorf("unknown kind %q", name)
		}
		if n < 0 {
			return nil, fmt.Errorf("negative count of kind %s", name)
		}
		f.kinds[k] = n
		total += n
	}
	if f.Nulls < 0 || total != f.Count {
		return nil, fmt.Errorf("nulls and kinds add up to %d, not count %d", total, f.Count)
	}
	if f.trues < 0 || f.trues > f.kinds[rules.KindBool] {
		return nil, fmt.Errorf("trues %d out of range", f.trues)
	}

	if f.high {
		if fj.DistinctHLL == "" || len(fj.ValuesString)+len(fj.ValuesInt) > 0 {
			return nil, errors.New("high_cardinality needs distinct_hll and no values")
		}
		b, err := base64.StdEncoding.DecodeString(fj.DistinctHLL)
		if err != nil {
			return nil, fmt.Errorf("distinct_hll: %w", err)
		}
		// Merging into a new sketch checks the precision and gives the
		// dense form, whose Estimate does not write: readers may share it.
		f.hll = newHLL()
		err = decodeSafely(func() error {
			h := new(hyperloglog.Sketch)
			if err := h.UnmarshalBinary(b); err != nil {
				return err
			}
			return f.hll.Merge(h)
		})
		if err != nil {
			return nil, fmt.Errorf("distinct_hll: %w", err)
		}
	} else {
		if fj.DistinctHLL != "" {
			return nil, errors.New("distinct_hll without high_cardinality")
		}
		var strs, ints int64
		if len(fj.ValuesString) > 0 {
			f.strs = make(map[string]int64, len(fj.ValuesString))
			for s, c := range fj.ValuesString {
				if c <= 0 {
					return nil, fmt.Errorf("value %q: count %d", s, c)
				}
				f.strs[s] = c
				strs += c
			}
		}
		if len(fj.ValuesInt) > 0 {
			f.ints = make(map[int64]int64, len(fj.ValuesInt))
			for s, c := range fj.ValuesInt {
				i, err := strconv.ParseInt(s, 10, 64)
				if err != nil || strconv.FormatInt(i, 10) != s {
					return nil, fmt.Errorf("int value %q is not an int", s)
				}
				if c <= 0 {
					return nil, fmt.Errorf("value %q: count %d", s, c)
				}
				f.ints[i] = c
				ints += c
			}
		}
		if isTime && strs+ints > 0 {
			return nil, errors.New("values of the time field are not profiled")
		}
		if !isTime && (strs != f.kinds[rules.KindString] || ints != f.kinds[rules.KindInt]) {
			return nil, errors.New("value counts do not add up to the counts of their kinds")
		}
		if tooMany(len(f.strs)+len(f.ints), keyBytes(f.strs)) {
			return nil, errors.New("too many distinct values for a field that is not high_cardinality")
		}
	}

	nj := fj.Numeric
	if nj == nil {
		if !isTime && f.kinds[rules.KindInt]+f.kinds[rules.KindFloat] > 0 {
			return nil, errors.New("numbers without numeric statistics")
		}
		return f, nil
	}
	n, err := nj.decode()
	if err != nil {
		return nil, fmt.Errorf("numeric: %w", err)
	}
	if n.ints != f.kinds[rules.KindInt] || n.floats+n.nonFinite != f.kinds[rules.KindFloat] {
		return nil, errors.New("numeric counts do not match the counts of kinds")
	}
	f.num = n
	return f, nil
}

func (nj *numericJSON) decode() (*numStats, error) {
	n := &numStats{ints: nj.IntCount, floats: nj.FloatCount, nonFinite: nj.NonFinite, sqInf: nj.SqInf}
	if n.ints < 0 || n.floats < 0 || n.nonFinite < 0 || n.sqInf < 0 || n.sqInf > n.floats {
		return nil, errors.New("negative or inconsistent counts")
	}
	if (n.ints > 0) != (nj.IntMin != nil && nj.IntMax != nil) {
		return nil, errors.New("int_min and int_max go with int_count")
	}
	if (n.floats > 0) != (nj.FloatMin != nil && nj.FloatMax != nil) {
		return nil, errors.New("float_min and float_max go with float_count")
	}
	if n.ints > 0 {
		n.intMin, n.intMax = *nj.IntMin, *nj.IntMax
	}
	if n.floats > 0 {
		n.floatMin, n.floatMax = *nj.FloatMin, *nj.FloatMax
	}
	var err error
	if n.sum, err = parseExactSum(nj.Sum); err != nil {
		return nil, err
	}
	if n.sumSq, err = parseExactSum(nj.SumSq); err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(nj.Sketch)
	if err != nil {
		return nil, fmt.Errorf("sketch: %w", err)
	}
	if n.sketch, err = decodeSketch(b); err != nil {
		return nil, fmt.Errorf("sketch: %w", err)
	}
	if got := n.sketch.GetCount(); got != float64(n.count()) {
		return nil, fmt.Errorf("sketch holds %g values, not %d", got, n.count())
	}
	return n, nil
}
