package reports

import (
	"math"
	"slices"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
)

func TestFormatMeasure(t *testing.T) {
	tests := []struct {
		v      float64
		metric string
		want   string
	}{
		{0.2301, "linf", "0.230"},
		{-0.3421, "relative_change", "-0.342"},
		{41.6, "robust_z", "41.600"},
		{-0.0001, "psi", "0.000"}, // never "-0.000"
		{math.Copysign(0, -1), "psi", "0.000"},
		{math.NaN(), "psi", "n/a"},
		{math.Inf(1), "quantile_change(p5)", "∞"},
		{math.Inf(-1), "mean_change", "−∞"},
		{2, "changes", "2"},
		{3, "missing_hours", "3"},
		{0.000273, "share_change", "0.0003"},
		{0.01, "null_ratio_change", "0.0100"},
		{1.5e12, "robust_z", "1.50e+12"},
	}
	for _, tc := range tests {
		if got := formatMeasure(tc.v, tc.metric); got != tc.want {
			t.Errorf("formatMeasure(%v, %q) = %q, want %q", tc.v, tc.metric, got, tc.want)
		}
	}
	if got := formatThreshold(0, "changes"); got != "—" {
		t.Errorf("a threshold of 0 (level off) reads %q, want —", got)
	}
	if got := formatThreshold(0.25, "psi"); got != "0.250" {
		t.Errorf("formatThreshold(0.25) = %q, want 0.250", got)
	}
}

func TestFormatRatio(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0.00%"}, {0.000757, "0.08%"}, {0.00004, "<0.01%"}, {0.99999, ">99.99%"}, {1, "100.00%"}, {math.NaN(), "n/a"}, {math.Inf(1), "n/a"},
	}
	for _, tc := range tests {
		if got := formatRatio(tc.v); got != tc.want {
			t.Errorf("formatRatio(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestSortedDrift(t *testing.T) {
	in := []audit.DriftResult{
		{Name: "baseline", Kind: audit.DriftBaseline, Status: audit.StatusNoBaseline},
		{Name: "a", Status: audit.StatusPass},
		{Name: "b", Status: audit.StatusFail},
		{Name: "c", Status: audit.StatusNoBaseline},
		{Name: "d", Status: audit.StatusWarn},
		{Name: "e", Status: audit.StatusFail},
		{Name: "f", Status: audit.StatusPass},
	}
	var got []string
	for _, d := range sortedDrift(in) {
		got = append(got, d.Name)
	}
	if want := []string{"b", "e", "d", "a", "f", "c"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v (worst first, then as given; no baseline entry)", got, want)
	}
	if in[1].Name != "a" {
		t.Error("sortedDrift changed its argument")
	}
	if c := countDrift(in); c != (driftCounts{Fail: 2, Warn: 1, Pass: 2, NoBaseline: 1}) {
		t.Errorf("countDrift = %+v", c)
	}
}

func TestNoBaseline(t *testing.T) {
	entry := audit.DriftResult{Name: "baseline", Kind: audit.DriftBaseline, Status: audit.StatusNoBaseline}
	waiting := audit.DriftResult{Name: "x", Kind: audit.DriftDistribution, Status: audit.StatusNoBaseline}
	checked := audit.DriftResult{Name: "x", Kind: audit.DriftDistribution, Status: audit.StatusPass}
	tests := []struct {
		name string
		r    audit.Result
		want bool
	}{
		{"drift off", audit.Result{Drift: []audit.DriftResult{entry}}, false},
		{"the no-baseline entry", audit.Result{DriftEnabled: true, Drift: []audit.DriftResult{entry, waiting}}, true},
		{"nothing checked, no source", audit.Result{DriftEnabled: true}, true},
		{"a baseline", audit.Result{DriftEnabled: true, BaselineSource: "previous", Drift: []audit.DriftResult{checked}}, false},
		{"checks without a named source", audit.Result{DriftEnabled: true, Drift: []audit.DriftResult{checked}}, false},
	}
	for _, tc := range tests {
		if got := noBaseline(&tc.r); got != tc.want {
			t.Errorf("%s: noBaseline = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDateSpan(t *testing.T) {
	tests := []struct {
		dates []string
		want  string
	}{
		{nil, ""},
		{[]string{"2025-03-13"}, "2025-03-13"},
		{[]string{"2025-03-12", "2025-03-13"}, "2025-03-12, 2025-03-13"},
		{[]string{"2025-03-07", "2025-03-08", "2025-03-09", "2025-03-13"}, "2025-03-07 … 2025-03-13"},
		{[]string{"a\x1bb"}, `a\x1bb`},
	}
	for _, tc := range tests {
		if got := dateSpan(tc.dates, 20); got != tc.want {
			t.Errorf("dateSpan(%q) = %q, want %q", tc.dates, got, tc.want)
		}
	}
}
