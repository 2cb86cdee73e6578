package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
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
