package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dqaudit/dqaudit/audit"
)

// The charts are inline SVG: Go computes the geometry below and
// html.tmpl draws it, so every label goes through html/template's
// escaping like the rest of the page. Coordinates are strings with one
// fixed decimal, so output is byte-for-byte stable.

// hourChart is a bar chart of one event type's events per hour of the day.
type hourChart struct {
	ID        string // unique within the page, for aria-labelledby
	Title     string
	Desc      string
	Width     int
	Height    int
	PlotX     string // left edge of the plot area
	PlotX2    string // right edge
	BaseY     string // y of the zero line
	PlotY     string // top of the plot area
	PlotH     string // height of the plot area
	Bars      []chartBar
	YTicks    []chartTick
	XTicks    []chartTick
	AxisX     string // x of the x-axis title
	AxisY     string // y of the x-axis title
	Empty     []int  // hours without events while the day has some
	EmptyNote string // says which, or ""
	Total     int64
	HasData   bool
}

type chartBar struct {
	X, Y, W, H string
	SlotX      string // the hour's full slot, for marking empty hours
	SlotW      string
	Zero       bool
	Tip        string
}

type chartTick struct {
	X, Y, X2 string
	Label    string
}

// Chart geometry in SVG user units.
const (
	chartWidth  = 480
	chartHeight = 210
	chartLeft   = 48 // room for y labels
	chartRight  = 10
	chartTop    = 12
	chartBottom = 44 // room for hour labels and the axis title
)

func px(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// newHourChart lays out 24 bars of hours. id must be unique in the page.
func newHourChart(id, event string, hours [24]int64) hourChart {
	c := hourChart{
		ID:     id,
		Title:  "Events per hour: " + event,
		Width:  chartWidth,
		Height: chartHeight,
	}
	var maxV int64
	for _, v := range hours {
		c.Total += v
		maxV = max(maxV, v)
	}
	c.HasData = c.Total > 0
	step := tickStep(maxV)
	top := 4 * step
	plotW := float64(chartWidth - chartLeft - chartRight)
	plotH := float64(chartHeight - chartTop - chartBottom)
	base := float64(chartHeight - chartBottom)
	c.PlotX, c.PlotX2, c.BaseY = px(chartLeft), px(chartLeft+plotW), px(base)
	c.PlotY, c.PlotH = px(chartTop), px(plotH)
	c.AxisX, c.AxisY = px(chartLeft+plotW/2), px(chartHeight-6)

	slot := plotW / 24
	barW := slot * 0.78
	for h, v := range hours {
		x := chartLeft + float64(h)*slot
		bh := 0.0
		if top > 0 {
			bh = float64(v) / float64(top) * plotH
		}
		if v > 0 && bh < 1 {
			bh = 1 // a few events still show
		}
		zero := v == 0 && c.HasData
		if zero {
			c.Empty = append(c.Empty, h)
		}
		c.Bars = append(c.Bars, chartBar{
			X: px(x + (slot-barW)/2), Y: px(base - bh), W: px(barW), H: px(bh),
			SlotX: px(x), SlotW: px(slot),
			Zero: zero,
			Tip:  fmt.Sprintf("%02d:00–%02d:59: %s events", h, h, formatInt(v)),
		})
		if h%3 == 0 {
			c.XTicks = append(c.XTicks, chartTick{X: px(x + slot/2), Y: px(base + 14), Label: fmt.Sprintf("%02d", h)})
		}
	}
	for i := 0; i <= 4; i++ {
		v := step * int64(i)
		y := base - float64(i)/4*plotH
		c.YTicks = append(c.YTicks, chartTick{X: px(chartLeft - 6), X2: px(chartLeft + plotW), Y: px(y), Label: formatCompact(v)})
	}
	var peak int
	for h, v := range hours {
		if v > hours[peak] {
			peak = h
		}
	}
	c.Desc = fmt.Sprintf("%s events of %s by hour of the day; busiest hour %02d with %s events", formatInt(c.Total), event, peak, formatInt(hours[peak]))
	if len(c.Empty) > 0 {
		c.EmptyNote = "No events in " + hourList(c.Empty)
		c.Desc += "; n" + c.EmptyNote[1:]
	}
	return c
}

// tickStep picks the step of four y-axis ticks that reach at least v:
// 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten, whole numbers only.
func tickStep(v int64) int64 {
	need := (v + 3) / 4
	if need <= 1 {
		return 1
	}
	for p := int64(1); p <= math.MaxInt64/100; p *= 10 {
		for _, m := range []int64{10, 15, 20, 25, 30, 40, 50, 60, 80} {
			if step := m * p; step%10 == 0 && step/10 >= need {
				return step / 10
			}
		}
	}
	return need
}

// hourList writes hours as "hour 03" or "hours 03, 04, 17".
func hourList(hours []int) string {
	parts := make([]string, len(hours))
	for i, h := range hours {
		parts[i] = fmt.Sprintf("%02d", h)
	}
	if len(parts) == 1 {
		return "hour " + parts[0]
	}
	return "hours " + strings.Join(parts, ", ")
}

// distChart compares a drift check's distribution with its baseline: per
// bucket a hatched bar (baseline) above a solid bar (today), with both
// shares written beside them, so it reads without colour. Bars run
// across, so long bucket labels (values, bins) stay readable.
type distChart struct {
	ID     string
	Title  string
	Desc   string
	Width  int
	Height int
	PlotX  string // left edge of the bars
	PlotX2 string // right edge of the scale
	PlotY  string // top of the first bucket
	BaseY  string // bottom of the last bucket
	LabelX string // right edge of the bucket labels
	BarH   string
	MoreY  string
	Legend distLegend
	Rows   []distRow
	Ticks  []chartTick // grid lines at 0, half and the top of the scale
	More   int         // buckets not drawn
}

type distLegend struct {
	Y, TextY, BaseX, BaseTextX, CurX, CurTextX string
}

type distRow struct {
	Label     string // the bucket, cut to fit
	Tip       string // the bucket in full, with both shares
	Y         string // middle of the row, for its texts
	BaseY     string
	CurY      string
	BaseW     string
	CurW      string
	ValueX    string
	Value     string // "21.0% → 44.0%"
	Peak      bool   // the bucket that changed most
	BaseEmpty bool   // no share: the bar is left out
	CurEmpty  bool
}

// Geometry of distribution charts, in SVG user units.
const (
	distWidth  = 480
	distLabelW = 132 // room for bucket labels
	distValueW = 112 // room for "21.0% → 44.0%"
	distTop    = 28  // room for the legend
	distRowH   = 22
	distBarH   = 8
	distBottom = 24 // room for the scale's labels; a line more for "N more"
	distLabel  = 16 // bytes of a bucket label drawn
)

// newDistChart lays out labels with their baseline and current shares.
// It draws at most maxBuckets buckets; tipLen bounds the label in tips.
func newDistChart(id, title, what string, labels []string, base, cur []float64, maxBuckets, tipLen int) distChart {
	n := min(len(labels), len(base), len(cur))
	c := distChart{ID: id, Title: title, Width: distWidth}
	if n > maxBuckets {
		c.More = n - maxBuckets
		n = maxBuckets
	}
	share := func(v float64) float64 {
		if math.IsNaN(v) || v < 0 {
			return 0
		}
		return min(v, 1)
	}
	var top float64
	peak := -1
	for i := range n {
		top = max(top, share(base[i]), share(cur[i]))
		if peak < 0 || math.Abs(share(cur[i])-share(base[i])) > math.Abs(share(cur[peak])-share(base[peak])) {
			peak = i
		}
	}
	top = min(niceCeil(max(top, 0.01)), 1)
	plotX, plotX2 := float64(distLabelW), float64(distWidth-distValueW)
	plotW := plotX2 - plotX
	c.Height = distTop + n*distRowH + distBottom
	if c.More > 0 {
		c.Height += 16
	}
	baseY := float64(distTop + n*distRowH)
	c.PlotX, c.PlotX2, c.PlotY, c.BaseY = px(plotX), px(plotX2), px(distTop), px(baseY)
	c.LabelX, c.BarH, c.MoreY = px(plotX-6), px(distBarH), px(baseY+distBottom+8)
	c.Legend = distLegend{Y: px(6), TextY: px(11), BaseX: px(plotX), BaseTextX: px(plotX + 18), CurX: px(plotX + 96), CurTextX: px(plotX + 114)}
	width := func(v float64) (string, bool) {
		w := share(v) / top * plotW
		if v > 0 && w < 1 {
			w = 1 // a small share still shows
		}
		return px(w), w == 0
	}
	for i := range n {
		y := float64(distTop + i*distRowH)
		row := distRow{
			Label:  show(labels[i], distLabel),
			Tip:    fmt.Sprintf("%s: baseline %s, today %s", show(labels[i], tipLen), formatBarShare(base[i]), formatBarShare(cur[i])),
			Y:      px(y + distRowH/2),
			BaseY:  px(y + distRowH/2 - distBarH - 0.5),
			CurY:   px(y + distRowH/2 + 0.5),
			ValueX: px(plotX2 + 8),
			Value:  formatBarShare(base[i]) + " → " + formatBarShare(cur[i]),
			Peak:   i == peak && share(cur[i]) != share(base[i]),
		}
		row.BaseW, row.BaseEmpty = width(base[i])
		row.CurW, row.CurEmpty = width(cur[i])
		c.Rows = append(c.Rows, row)
	}
	for i := 0; i <= 2; i++ {
		v := top * float64(i) / 2
		c.Ticks = append(c.Ticks, chartTick{X: px(plotX + plotW*float64(i)/2), Y: px(baseY + 15), Label: formatPctTick(v)})
	}
	c.Desc = fmt.Sprintf("Share of %s in each of %d buckets, baseline (hatched) and today (solid)", what, n)
	if peak >= 0 && c.Rows[peak].Peak {
		c.Desc += fmt.Sprintf("; largest change in %s, from %s to %s", show(labels[peak], tipLen), formatBarShare(base[peak]), formatBarShare(cur[peak]))
	}
	if c.More > 0 {
		c.Desc += fmt.Sprintf("; %d more buckets not drawn", c.More)
	}
	return c
}

// formatBarShare writes a bucket's share with one decimal; a share that
// is not zero never reads as 0.0%.
func formatBarShare(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v > 0 && v < 0.0005:
		return "<0.1%"
	}
	return formatPct(v, 1)
}

// formatPctTick writes a scale's share briefly: 0%, 12.5%, 0.05%.
func formatPctTick(v float64) string {
	return trimDecimals(strconv.FormatFloat(v*100, 'f', 4, 64)) + "%"
}

// niceCeil rounds v > 0 up to 1, 2, 2.5 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*p >= v*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// trendUnit says how a trend's values read.
type trendUnit int

const (
	unitValue trendUnit = iota // a measure, three decimals
	unitShare                  // a share, as a percent
	unitCount                  // a count of events
)

func (u trendUnit) format(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return formatMeasure(v, "")
	case u == unitShare:
		return formatRatio(v)
	case u == unitCount:
		return formatInt(int64(math.Round(v)))
	}
	return formatMeasure(v, "")
}

func (u trendUnit) tick(v float64) string {
	switch u {
	case unitShare:
		return formatPctTick(v)
	case unitCount:
		return compactTick(v)
	}
	return trimDecimals(strconv.FormatFloat(v, 'f', 3, 64))
}

// compactTick writes a count on a scale briefly but exactly enough for
// the halves of niceCeil's steps: 950, 12.5k, 1.25M.
func compactTick(v float64) string {
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if math.Abs(v) >= u.div {
			return trimDecimals(strconv.FormatFloat(v/u.div, 'f', 2, 64)) + u.suffix
		}
	}
	return trimDecimals(strconv.FormatFloat(v, 'f', 2, 64))
}

// trendChart is a line of one series over the days of the history, today
// last and marked. Days whose value is not a number break the line.
type trendChart struct {
	ID      string
	Title   string
	Desc    string
	Width   int
	Height  int
	PlotX   string
	PlotX2  string
	PlotY   string
	BaseY   string
	Paths   []string // the line's pieces, as SVG path data
	Dots    []trendDot
	YTicks  []chartTick
	XTicks  []trendTick
	More    int // earlier days not drawn
	HasData bool
	Today   *trendLabel // today's value, written by its dot
	MidX    string
	MidY    string
}

type trendDot struct {
	X, Y  string
	Tip   string
	Today bool
	NA    bool // not a number: drawn hollow on the base line
}

type trendLabel struct {
	X, Y, Label string
}

type trendTick struct {
	X, Y, Label, Anchor string
}

// Geometry of trend charts, in SVG user units.
const (
	trendWidth  = 480
	trendHeight = 150
	trendLeft   = 56
	trendRight  = 16
	trendTop    = 10
	trendBottom = 28
)

// newTrendChart lays out points (today last) as a line. It draws at most
// maxPoints of the latest points; dateLen bounds a date in tips.
func newTrendChart(id, title, what string, points []audit.TrendPoint, unit trendUnit, maxPoints, dateLen int) trendChart {
	c := trendChart{ID: id, Title: title, Width: trendWidth, Height: trendHeight}
	if len(points) > maxPoints {
		c.More = len(points) - maxPoints
		points = points[c.More:]
	}
	lo, hi := 0.0, 0.0
	for _, p := range points {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			continue
		}
		c.HasData = true
		lo, hi = min(lo, p.Value), max(hi, p.Value)
	}
	switch {
	case hi > 0:
		hi = niceCeil(hi)
	case unit == unitShare:
		hi = 0.01
	default:
		hi = 1
	}
	if lo < 0 {
		lo = -niceCeil(-lo)
	}
	plotW := float64(trendWidth - trendLeft - trendRight)
	plotH := float64(trendHeight - trendTop - trendBottom)
	base := float64(trendHeight - trendBottom)
	c.PlotX, c.PlotX2, c.PlotY, c.BaseY = px(trendLeft), px(trendLeft+plotW), px(trendTop), px(base)
	c.MidX, c.MidY = px(trendLeft+plotW/2), px(trendTop+plotH/2)
	xOf := func(i int) float64 {
		if len(points) == 1 {
			return trendLeft + plotW/2
		}
		return trendLeft + plotW*float64(i)/float64(len(points)-1)
	}
	var path strings.Builder
	for i, p := range points {
		date := show(p.Date, dateLen)
		dot := trendDot{X: px(xOf(i)), Tip: date + ": " + unit.format(p.Value), Today: i == len(points)-1}
		if dot.Today {
			dot.Tip += " (today)"
		}
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			if path.Len() > 0 {
				c.Paths = append(c.Paths, path.String())
				path.Reset()
			}
			c.Dots = append(c.Dots, trendDot{X: dot.X, Y: px(base), Tip: dot.Tip, Today: dot.Today, NA: true})
			continue
		}
		y := base - (p.Value-lo)/(hi-lo)*plotH
		dot.Y = px(y)
		if dot.Today {
			// Above the dot, or below it when the dot is near the top.
			ly := y - 9
			if ly < trendTop+10 {
				ly = y + 17
			}
			c.Today = &trendLabel{X: px(xOf(i) - 6), Y: px(ly), Label: "today " + unit.format(p.Value)}
		}
		if path.Len() == 0 {
			path.WriteString("M" + dot.X + "," + dot.Y)
		} else {
			path.WriteString("L" + dot.X + "," + dot.Y)
		}
		c.Dots = append(c.Dots, dot)
	}
	if path.Len() > 0 {
		c.Paths = append(c.Paths, path.String())
	}
	for i := 0; i <= 2; i++ {
		v := lo + (hi-lo)*float64(i)/2
		y := base - float64(i)/2*plotH
		c.YTicks = append(c.YTicks, chartTick{X: px(trendLeft - 6), X2: px(trendLeft + plotW), Y: px(y), Label: unit.tick(v)})
	}
	// Dates under at most five points, the first and the last always,
	// spaced so that labels (about 62 units wide) never overlap.
	n := len(points)
	step := 1
	if n > 1 {
		spacing := plotW / float64(n-1)
		step = max(int(math.Ceil(75/spacing)), (n-1+3)/4)
		for i := 0; i < n-1; i += step {
			if i > 0 && float64(n-1-i)*spacing < 95 {
				break
			}
			c.XTicks = append(c.XTicks, trendTick{X: px(xOf(i)), Y: px(base + 16), Label: show(points[i].Date, 10), Anchor: "middle"})
		}
	} else if n == 1 {
		c.XTicks = append(c.XTicks, trendTick{X: px(xOf(0)), Y: px(base + 16), Label: show(points[0].Date, 10), Anchor: "middle"})
	}
	if n > 1 {
		c.XTicks = append(c.XTicks, trendTick{X: px(xOf(n - 1)), Y: px(base + 16), Label: show(points[n-1].Date, 10), Anchor: "end"})
	}
	if len(c.XTicks) > 0 && n > 1 {
		c.XTicks[0].Anchor = "start"
	}
	c.Desc = fmt.Sprintf("%s over %s", what, plural(n, "day", "days"))
	if n > 0 {
		last := points[n-1]
		c.Desc += fmt.Sprintf(", from %s to %s; today %s", show(points[0].Date, dateLen), show(last.Date, dateLen), unit.format(last.Value))
	}
	if c.More > 0 {
		c.Desc += fmt.Sprintf("; %d earlier days not drawn", c.More)
	}
	return c
}
