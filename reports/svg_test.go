package reports

import (
	"strconv"
	"testing"
)

func TestTickStep(t *testing.T) {
	tests := []struct{ max, step int64 }{
		{0, 1}, {1, 1}, {4, 1}, {5, 2}, {8, 2}, {9, 3}, {12, 3}, {13, 4}, {17, 5}, {21, 6}, {25, 8}, {33, 10},
		{41, 15}, {120_000, 30_000}, {123_456, 40_000}, {1_000_000_000, 250_000_000},
	}
	for _, tc := range tests {
		step := tickStep(tc.max)
		if step != tc.step {
			t.Errorf("tickStep(%d) = %d, want %d", tc.max, step, tc.step)
		}
		if 4*step < tc.max {
			t.Errorf("tickStep(%d) = %d: four steps do not reach the maximum", tc.max, step)
		}
	}
}

func TestHourChart(t *testing.T) {
	var hours [24]int64
	for h := range hours {
		hours[h] = int64(h) * 1000
	}
	hours[0], hours[5], hours[23] = 100, 0, 23_000 // 0 is empty; 5 is an outage
	c := newHourChart("chart-1", "MovieWatchEvent", hours)

	if len(c.Bars) != 24 || len(c.XTicks) != 8 || len(c.YTicks) != 5 {
		t.Fatalf("%d bars, %d x ticks, %d y ticks; want 24, 8, 5", len(c.Bars), len(c.XTicks), len(c.YTicks))
	}
	if got := c.YTicks[4].Label; got != "24k" {
		t.Errorf("top tick %q, want 24k (4 × 6,000 ≥ 23,000)", got)
	}
	if len(c.Empty) != 1 || c.Empty[0] != 5 || !c.Bars[5].Zero || c.Bars[4].Zero || c.EmptyNote != "No events in hour 05" {
		t.Errorf("empty hours %v, want [5]", c.Empty)
	}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	plotH := num(c.PlotH)
	base := num(c.BaseY)
	// A bar's height is its share of the top tick; its top is base-height.
	for _, h := range []int{1, 12, 23} {
		b := c.Bars[h]
		want := float64(hours[h]) / 24_000 * plotH
		if got := num(b.H); got < want-0.1 || got > want+0.1 {
			t.Errorf("hour %d: height %v, want %.1f", h, got, want)
		}
		if got := num(b.Y) + num(b.H); got < base-0.1 || got > base+0.1 {
			t.Errorf("hour %d: bar ends at %v, not on the base line %v", h, got, base)
		}
	}
	if num(c.Bars[0].H) < 1 {
		t.Error("a small hour (100 events) has no visible bar")
	}
	if c.Total != 271_100 {
		t.Errorf("total %d, want 271,100", c.Total)
	}
	if want := "271,100 events of MovieWatchEvent by hour of the day; busiest hour 23 with 23,000 events; no events in hour 05"; c.Desc != want {
		t.Errorf("desc\n%q, want\n%q", c.Desc, want)
	}
}

func TestHourChartNoEvents(t *testing.T) {
	c := newHourChart("c", "X", [24]int64{})
	if c.HasData || len(c.Empty) != 0 {
		t.Errorf("an empty day: HasData %v, empty hours %v; want false, none", c.HasData, c.Empty)
	}
}
