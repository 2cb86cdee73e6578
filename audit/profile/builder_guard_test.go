package profile

import (
	"testing"

	"github.com/dqaudit/dqaudit/rules"
)

// TestObserveValuesTooFew: ObserveValues reads the values at their
// offsets without bounds checks, so it must refuse a slice shorter than
// the shape. The time field is last, where an unchecked read would go
// past the slice's length; the slice has the capacity for it, so that a
// missing check reads a value instead of crashing the test.
func TestObserveValuesTooFew(t *testing.T) {
	s := rules.NewShape("E", fields("userId", "movieId", "time"))
	full := []rules.Value{rules.Int(1), rules.Str("m"), rules.Str("2024-03-19T10:00:00")}
	for _, tc := range []struct {
		name string
		n    int
	}{
		{name: "one short", n: len(full) - 1},
		{name: "empty", n: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuilder()
			defer func() {
				if recover() == nil {
					t.Fatalf("ObserveValues took %d values for 3 fields without a panic", tc.n)
				}
			}()
			b.ObserveValues(s, full[:tc.n])
		})
	}
}

// TestSetDayResetsTimeCache: the Builder caches whether the last text
// time fell on another date than the audited day; after SetDay changes
// the day, the same time must be read afresh, in both directions.
func TestSetDayResetsTimeCache(t *testing.T) {
	const tm = "2024-03-19T10:00:00"
	for _, tc := range []struct {
		name        string
		first, then string
		want        []int64 // OtherDay after each of the two events
	}{
		{name: "the day, then another", first: "2024-03-19", then: "2024-03-20", want: []int64{0, 1}},
		{name: "another day, then the day", first: "2024-03-20", then: "2024-03-19", want: []int64{1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rules.NewShape("E", fields("time"))
			b := NewBuilder()
			for i, day := range []string{tc.first, tc.then} {
				if err := b.SetDay(day); err != nil {
					t.Fatal(err)
				}
				b.ObserveValues(s, []rules.Value{rules.Str(tm)})
				e := b.Profile().Events["E"]
				if e.OtherDay != tc.want[i] || e.Hours[10] != int64(i+1) {
					t.Fatalf("after %s with day %s: other_day %d, hour 10 %d; want %d, %d",
						tm, day, e.OtherDay, e.Hours[10], tc.want[i], i+1)
				}
			}
		})
	}
}
