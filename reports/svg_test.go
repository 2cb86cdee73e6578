package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
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

func TestNiceCeil(t *testing.T) {
	tests := []struct{ v, want float64 }{
		{0.44, 0.5}, {0.34, 0.5}, {0.22, 0.25}, {0.1, 0.1}, {0.00076, 0.001}, {0.0011, 0.002}, {474_889, 500_000}, {3, 5}, {0, 1}, {math.NaN(), 1}, {math.Inf(1), 1},
	}
	for _, tc := range tests {
		if got := niceCeil(tc.v); math.Abs(got-tc.want) > tc.want*1e-9 {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestDistChart(t *testing.T) {
	labels := []string{"4", "3", "5", "a-very-long-bucket-label-indeed", "0"}
	base := []float64{0.34, 0.26, 0.21, 0.19, 0}
	cur := []float64{0.22, 0.18, 0.44, 0.1599, 0.0001}
	c := newDistChart("d", "title", "ratings", labels, base, cur, 40, 200)
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if len(c.Rows) != 5 || c.More != 0 {
		t.Fatalf("%d rows, %d more; want 5, 0", len(c.Rows), c.More)
	}
	// The scale tops at 50% (0.44 rounded up); a bar's width is its share of it.
	if c.Ticks[2].Label != "50%" || c.Ticks[1].Label != "25%" || c.Ticks[0].Label != "0%" {
		t.Errorf("scale %q %q %q, want 0%%, 25%%, 50%%", c.Ticks[0].Label, c.Ticks[1].Label, c.Ticks[2].Label)
	}
	plotW := num(c.PlotX2) - num(c.PlotX)
	if got, want := num(c.Rows[2].CurW), 0.44/0.5*plotW; math.Abs(got-want) > 0.1 {
		t.Errorf("width of today's 44%%: %v, want %.1f", got, want)
	}
	if !c.Rows[2].Peak || c.Rows[0].Peak {
		t.Error("the bucket that changed most (5: 21% → 44%) is not the marked one")
	}
	if !c.Rows[4].BaseEmpty || c.Rows[4].CurEmpty || num(c.Rows[4].CurW) < 1 {
		t.Errorf("bucket 0: an empty baseline draws no bar, a tiny share still shows (%+v)", c.Rows[4])
	}
	if c.Rows[4].Value != "0.0% → <0.1%" || c.Rows[2].Value != "21.0% → 44.0%" {
		t.Errorf("values %q, %q", c.Rows[4].Value, c.Rows[2].Value)
	}
	if c.Rows[3].Label != "a-very-long-buck…" || !strings.HasPrefix(c.Rows[3].Tip, "a-very-long-bucket-label-indeed: baseline 19.0%, today 16.0%") {
		t.Errorf("a long label is cut (%q) and whole in its tip (%q)", c.Rows[3].Label, c.Rows[3].Tip)
	}
	// Rows follow each other without overlap, and the chart holds them.
	for i := 1; i < len(c.Rows); i++ {
		if num(c.Rows[i].BaseY) < num(c.Rows[i-1].CurY)+num(c.BarH) {
			t.Errorf("row %d overlaps row %d", i, i-1)
		}
	}
	if last := c.Rows[len(c.Rows)-1]; num(last.CurY)+num(c.BarH) > num(c.BaseY) || num(c.BaseY) >= float64(c.Height) {
		t.Error("rows run past the plot or the chart")
	}
	if !strings.Contains(c.Desc, "largest change in 5, from 21.0% to 44.0%") {
		t.Errorf("desc %q", c.Desc)
	}

	few := newDistChart("d", "t", "x", labels, base, cur, 2, 200)
	if len(few.Rows) != 2 || few.More != 3 || few.Height <= 28+2*22+24 {
		t.Errorf("bounded to 2 buckets: %d rows, %d more, height %d", len(few.Rows), few.More, few.Height)
	}
}

func TestTrendChart(t *testing.T) {
	var points []audit.TrendPoint
	for i := range 31 {
		points = append(points, audit.TrendPoint{Date: fmt.Sprintf("2025-03-%02d", i+1), Value: 0.001})
	}
	points[10].Value = math.NaN()
	points[30].Value = 0.004
	c := newTrendChart("t", "title", "failed share", points, unitShare, 60, 200)
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if len(c.Dots) != 31 || len(c.Paths) != 2 || !c.HasData {
		t.Fatalf("%d dots, %d line pieces; want 31 and 2 (a NaN breaks the line)", len(c.Dots), len(c.Paths))
	}
	if !c.Dots[10].NA || c.Dots[10].Tip != "2025-03-11: n/a" {
		t.Errorf("the NaN day: %+v", c.Dots[10])
	}
	today := c.Dots[30]
	if !today.Today || today.Tip != "2025-03-31: 0.40% (today)" || c.Today == nil || c.Today.Label != "today 0.40%" {
		t.Errorf("today: %+v, label %+v", today, c.Today)
	}
	// The scale starts at zero and tops at 0.5%; today is at 4/5 of it.
	if c.YTicks[0].Label != "0%" || c.YTicks[2].Label != "0.5%" {
		t.Errorf("y ticks %q, %q; want 0%%, 0.5%%", c.YTicks[0].Label, c.YTicks[2].Label)
	}
	if got, want := num(c.BaseY)-num(today.Y), 0.8*(num(c.BaseY)-num(c.PlotY)); math.Abs(got-want) > 0.1 {
		t.Errorf("today's height %v, want %.1f", got, want)
	}
	// Date labels: first and last, at most five, never closer than a label's width.
	if n := len(c.XTicks); n < 2 || n > 5 {
		t.Fatalf("%d date labels, want 2 to 5", n)
	}
	if c.XTicks[0].Label != "2025-03-01" || c.XTicks[0].Anchor != "start" || c.XTicks[len(c.XTicks)-1].Label != "2025-03-31" || c.XTicks[len(c.XTicks)-1].Anchor != "end" {
		t.Errorf("date labels %+v", c.XTicks)
	}
	for i := 1; i < len(c.XTicks); i++ {
		// Labels are centred but the last ends at its day, so it needs more room.
		need := 75.0
		if i == len(c.XTicks)-1 {
			need = 95
		}
		if gap := num(c.XTicks[i].X) - num(c.XTicks[i-1].X); gap < need {
			t.Errorf("date labels %d and %d are %.1f apart, want at least %v", i-1, i, gap, need)
		}
	}

	short := newTrendChart("t", "title", "events", points, unitCount, 8, 200)
	if len(short.Dots) != 8 || short.More != 23 || short.Dots[0].Tip != "2025-03-24: 0" {
		t.Errorf("bounded to the last 8 days: %d dots, %d more, first %q", len(short.Dots), short.More, short.Dots[0].Tip)
	}
	counts := newTrendChart("t", "title", "events", []audit.TrendPoint{{Date: "a", Value: 2_100_000}, {Date: "b", Value: 1_843_112}}, unitCount, 8, 200)
	if got := []string{counts.YTicks[1].Label, counts.YTicks[2].Label}; got[0] != "1.25M" || got[1] != "2.5M" {
		t.Errorf("count ticks %q, want 1.25M and 2.5M", got)
	}
	none := newTrendChart("t", "title", "x", []audit.TrendPoint{{Date: "d", Value: math.NaN()}}, unitValue, 8, 200)
	if none.HasData || len(none.Paths) != 0 {
		t.Errorf("a trend of NaN only: HasData %v, %d paths", none.HasData, len(none.Paths))
	}
}
