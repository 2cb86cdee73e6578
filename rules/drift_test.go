package rules

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseDrift pins down what the full drift example decodes to.
func TestParseDrift(t *testing.T) {
	cfg, err := Load("testdata/valid/drift.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Drift{
		History:       "history/{year}",
		Baseline:      Baseline{Kind: BaselineWindow, Window: 7},
		MinEvents:     500,
		DefaultChecks: false,
		Volume:        Thresholds{Warn: 0.2, Fail: 0.4},
		Outliers:      Thresholds{Warn: 3, Fail: 4.5},
		OutliersGiven: true,
		Malformed:     Thresholds{Off: true},
		Anomalies:     Thresholds{Warn: 3.5, Fail: 8},
		MissingHours:  LevelFail,
		Schema:        LevelOff,
		Checks: []DriftCheck{
			{Name: "rating-distribution", Event: MovieRatingEvent, Field: "rating", Metric: "psi", Warn: 0.1, Fail: 0.25, Pos: Pos{20, 7}},
			{Name: "MovieWatchEvent.minute:quantile_change", Event: MovieWatchEvent, Field: "minute", Metric: "quantile_change",
				Quantile: 0.95, Warn: 0.3, Fail: 0.6, Pos: Pos{24, 7}},
			{Name: "minute-p50", Event: MovieWatchEvent, Field: "minute", Metric: "quantile_change", Quantile: 0.5, Warn: 0.2, Fail: 0.5, Pos: Pos{30, 7}},
			{Name: "RecommendationRequest.recommendations:null_ratio_change", Event: RecommendationRequest, Field: "recommendations",
				Metric: "null_ratio_change", Warn: 0.01, Fail: 0.1, Pos: Pos{35, 7}},
			{Name: "RecommendationRequest.status:linf", Event: RecommendationRequest, Field: "status", Metric: "linf", Warn: 0.1, Fail: 0.2, Pos: Pos{39, 7}},
			{Name: "RecommendationRequest.responseTime:mean_change", Event: RecommendationRequest, Field: "responseTime",
				Metric: "mean_change", Warn: 0.1, Fail: 0.25, Pos: Pos{42, 7}},
			{Name: "MovieWatchEvent.subtitles:js", Event: MovieWatchEvent, Field: "subtitles", Metric: "js", Pos: Pos{45, 7}},
			{Name: "PlaybackError.code.detail:mean_change", Event: "PlaybackError", Field: "code.detail", Metric: "mean_change",
				Warn: 0.1, Fail: 0.25, Pos: Pos{50, 7}},
		},
		Pos: Pos{9, 3},
	}
	if cfg.Drift == nil {
		t.Fatal("drift: nil")
	}
	got := *cfg.Drift
	if len(got.Checks) != len(want.Checks) {
		t.Fatalf("got %d checks, want %d: %+v", len(got.Checks), len(want.Checks), got.Checks)
	}
	for i := range want.Checks {
		if got.Checks[i] != want.Checks[i] {
			t.Errorf("check %d:\ngot  %+v\nwant %+v", i, got.Checks[i], want.Checks[i])
		}
	}
	got.Checks, want.Checks = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("drift:\ngot  %+v\nwant %+v", got, want)
	}
	if cfg.Inputs[0].Paths[0] != "archive/{year}/{month}/{day}/*.avro" || cfg.Report.Out != "reports/{year}-{month}/{day}" {
		t.Errorf("placeholders: paths %q, out %q", cfg.Inputs[0].Paths, cfg.Report.Out)
	}
}

func TestParseDriftDefaults(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       *Drift // nil: no drift
	}{
		{name: "no section", yaml: minimal},
		{name: "empty mapping", yaml: minimal + "drift: {}\n", want: withPos(DefaultDrift(), 6, 8)},
		{name: "no value", yaml: minimal + "drift:\n", want: withPos(DefaultDrift(), 6, 1)},
		{name: "no checks", yaml: minimal + "drift:\n  checks:\n", want: withPos(DefaultDrift(), 7, 3)},
		{
			name: "one threshold of a pair keeps the other's default",
			yaml: minimal + "drift:\n  volume: {fail: 0.9}\n  malformed: {warn: 0.001}\n",
			want: func() *Drift {
				d := withPos(DefaultDrift(), 7, 3)
				d.Volume.Fail, d.Malformed.Warn = 0.9, 0.001
				return d
			}(),
		},
		{
			name: "everything off",
			yaml: minimal + "drift: {volume: off, outliers: off, malformed: off, anomalies: off, missing_hours: off, schema: off, default_checks: false}\n",
			want: func() *Drift {
				d := withPos(DefaultDrift(), 6, 8)
				off := Thresholds{Off: true}
				d.Volume, d.Outliers, d.Malformed, d.Anomalies = off, off, off, off
				d.MissingHours, d.Schema, d.DefaultChecks = LevelOff, LevelOff, false
				return d
			}(),
		},
		{
			name: "baseline file and min_events 0",
			yaml: minimal + "drift: {baseline: \"baselines/{year}-q1.json\", min_events: 0}\n",
			want: func() *Drift {
				d := withPos(DefaultDrift(), 6, 8)
				d.Baseline = Baseline{Kind: BaselineFile, Path: "baselines/{year}-q1.json"}
				d.MinEvents = 0
				return d
			}(),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse(strings.NewReader(tc.yaml), "c.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Drift, tc.want) {
				t.Errorf("got  %+v\nwant %+v", cfg.Drift, tc.want)
			}
		})
	}
}

func withPos(d Drift, line, col int) *Drift {
	d.Pos = Pos{line, col}
	return &d
}

func TestDefaultDrift(t *testing.T) {
	d := DefaultDrift()
	if d.History != ".dqaudit/history" || d.Baseline != (Baseline{Kind: BaselinePrevious}) || d.MinEvents != 1000 || !d.DefaultChecks ||
		d.MissingHours != LevelWarn || d.Schema != LevelWarn || d.Checks != nil {
		t.Errorf("defaults: %+v", d)
	}
	for _, tc := range []struct {
		name       string
		got, want  Thresholds
		warn, fail float64
	}{
		{"volume", d.Volume, Thresholds{Warn: 0.3, Fail: 0.5}, 0.3, 0.5},
		{"outliers", d.Outliers, Thresholds{Warn: 3.5, Fail: 5}, 3.5, 5},
		{"malformed", d.Malformed, Thresholds{Warn: 0.005, Fail: 0.02}, 0.005, 0.02},
		{"anomalies", d.Anomalies, Thresholds{Warn: 3.5, Fail: 6}, 3.5, 6},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, tc.got, tc.want)
		}
	}
}

func TestDefaultThresholds(t *testing.T) {
	for _, tc := range []struct {
		metric     string
		warn, fail float64
	}{
		{"psi", 0.1, 0.25},
		{"linf", 0.1, 0.2},
		{"js", 0.1, 0.2},
		{"quantile_change", 0.2, 0.5},
		{"mean_change", 0.1, 0.25},
		{"null_ratio_change", 0.01, 0.05},
		{"kl", 0, 0},
		{"", 0, 0},
	} {
		t.Run(tc.metric, func(t *testing.T) {
			warn, fail := DefaultThresholds(tc.metric)
			if warn != tc.warn || fail != tc.fail {
				t.Errorf("got %v, %v; want %v, %v", warn, fail, tc.warn, tc.fail)
			}
		})
	}
	// Every metric has defaults that a check would accept.
	for _, m := range DriftMetrics() {
		warn, fail := DefaultThresholds(m)
		if warn <= 0 || warn > fail || metricLimit(m) > 0 && fail > metricLimit(m) {
			t.Errorf("%s: defaults %v, %v", m, warn, fail)
		}
	}
}

func TestParseBaseline(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Baseline
		wantErr string
	}{
		{in: "previous", want: Baseline{Kind: BaselinePrevious}},
		{in: "window:7", want: Baseline{Kind: BaselineWindow, Window: 7}},
		{in: "window:1", want: Baseline{Kind: BaselineWindow, Window: 1}},
		{in: "window:365", want: Baseline{Kind: BaselineWindow, Window: 365}},
		{in: "baseline.json", want: Baseline{Kind: BaselineFile, Path: "baseline.json"}},
		{in: "/var/lib/dqaudit/2024-01-01.json", want: Baseline{Kind: BaselineFile, Path: "/var/lib/dqaudit/2024-01-01.json"}},
		{in: "history/{year}-{month}-01.json", want: Baseline{Kind: BaselineFile, Path: "history/{year}-{month}-01.json"}},
		{in: "profile", want: Baseline{Kind: BaselineFile, Path: "profile"}},
		{in: "./previous", want: Baseline{Kind: BaselineFile, Path: "./previous"}},
		{in: "", wantErr: "baseline is empty; use previous, window:N or the path of a profile JSON file"},
		{in: "  ", wantErr: "baseline is empty; use previous, window:N or the path of a profile JSON file"},
		{in: "window:0", wantErr: "baseline window must be from 1 to 365 days, got 0"},
		{in: "window:366", wantErr: "baseline window must be from 1 to 365 days, got 366"},
		{in: "window:-3", wantErr: "baseline window must be from 1 to 365 days, got -3"},
		{in: "window", wantErr: `baseline "window" is not a window; write window:N with N from 1 to 365 days, such as window:7`},
		{in: "window=7", wantErr: `baseline "window=7" is not a window; write window:N with N from 1 to 365 days, such as window:7`},
		{in: "window:seven", wantErr: `baseline "window:seven" is not a window; write window:N with N from 1 to 365 days, such as window:7`},
		{in: "Window:7", wantErr: `baseline "Window:7" is not a window; write window:N with N from 1 to 365 days, such as window:7`},
		{in: "window:99999999999999999999", wantErr: `baseline "window:99999999999999999999" is not a window; write window:N with N from 1 to 365 days, such as window:7`},
		{in: "previus", wantErr: `baseline must be previous, window:N or the path of a profile JSON file, got "previus" (did you mean "previous"?)`},
		{in: "Previous", wantErr: `baseline must be previous, window:N or the path of a profile JSON file, got "Previous" (did you mean "previous"?)`},
		{in: "h/{week}.json", wantErr: `baseline path "h/{week}.json" has the unknown placeholder {week}; the placeholders are {date} (YYYY-MM-DD), {year}, {month} and {day}`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseBaseline(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("got %+v, %v; want error %s", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
			// String writes what ParseBaseline reads.
			if back, err := ParseBaseline(got.String()); err != nil || back != got {
				t.Errorf("%q does not read back: %+v, %v", got.String(), back, err)
			}
		})
	}
}

func TestDriftEnumStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{LevelUnset.String(), "unset"},
		{LevelOff.String(), "off"},
		{LevelWarn.String(), "warn"},
		{LevelFail.String(), "fail"},
		{Level(9).String(), "level(9)"},
		{BaselineUnset.String(), "unset"},
		{BaselinePrevious.String(), "previous"},
		{BaselineWindow.String(), "window"},
		{BaselineFile.String(), "file"},
		{BaselineKind(9).String(), "baselinekind(9)"},
		{Baseline{Kind: BaselineWindow, Window: 14}.String(), "window:14"},
		{Baseline{Kind: BaselineFile, Path: "b.json"}.String(), "b.json"},
		{Baseline{}.String(), "unset"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestParseDriftMore(t *testing.T) {
	const check = "\n    - {event: MovieRatingEvent, field: rating, metric: psi"
	for _, tc := range []struct {
		name, yaml string
		want       string // one message, without the file; "" for valid
	}{
		{
			name: "every placeholder in a path",
			yaml: "version: 1\ninputs: [{name: e, format: avro, paths: [\"a/{year}/{month}/{day}/{date}.avro\"]}]\n",
		},
		{
			name: "window written as a string",
			yaml: minimal + "drift: {baseline: window:30, outliers: {warn: 2, fail: 3}}\n",
		},
		{
			name: "outliers off needs no window",
			yaml: minimal + "drift: {outliers: off}\n",
		},
		{
			name: "a drift check on time",
			yaml: minimal + "drift:\n  checks:\n    - {event: MovieRatingEvent, field: time, metric: js}\n",
			want: `c.yaml:8:40: drift check "MovieRatingEvent.time:js": time is profiled by hour, not by value, so no metric can compare it; missing_hours checks the hours`,
		},
		{
			name: "outliers with too short a window",
			yaml: minimal + "drift: {baseline: {window: 2}, outliers: {warn: 2, fail: 3}}\n",
			want: `c.yaml:6:32: drift: outliers needs a window of at least 3 days to compare today with, but the baseline is window:2`,
		},
		{
			name: "outliers with a file baseline",
			yaml: minimal + "drift: {baseline: b.json, outliers: {warn: 2, fail: 3}}\n",
			want: `c.yaml:6:27: drift: outliers compares today with each day of a window baseline, but the baseline is the file "b.json"; set baseline: {window: 7} or remove outliers`,
		},
		{
			name: "outliers with a bad baseline reports only the baseline",
			yaml: minimal + "drift: {baseline: {window: 0}, outliers: {warn: 2, fail: 3}}\n",
			want: `c.yaml:6:28: drift: baseline window must be from 1 to 365 days, got 0`,
		},
		{
			name: "window is a whole number",
			yaml: minimal + "drift: {baseline: {window: 7.5}}\n",
			want: `c.yaml:6:28: drift: baseline window must be a whole number, got the number 7.5`,
		},
		{
			name: "baseline mapping without window",
			yaml: minimal + "drift: {baseline: {days: 7}}\n",
			want: "c.yaml:6:19: drift: baseline needs window, such as {window: 7}; or write previous or the path of a profile JSON file\n" +
				"c.yaml:6:20: drift: baseline: unknown key \"days\"; a baseline mapping takes window, such as {window: 7}",
		},
		{
			name: "baseline mapping with window misspelt",
			yaml: minimal + "drift: {baseline: {windw: 7}}\n",
			want: `c.yaml:6:20: drift: baseline: unknown key "windw" (did you mean "window"?)`,
		},
		{
			name: "baseline as a number",
			yaml: minimal + "drift: {baseline: 7}\n",
			want: `c.yaml:6:19: drift: baseline must be previous, {window: N} or the path of a profile JSON file, got the number 7; for a window of 7 days write {window: 7}`,
		},
		{
			name: "unknown drift key without suggestion",
			yaml: minimal + "drift: {period: 7}\n",
			want: `c.yaml:6:9: drift: unknown key "period"; drift takes history, baseline, min_events, default_checks, volume, outliers, missing_hours, malformed, schema, anomalies and checks`,
		},
		{
			name: "threshold pair misspelt off",
			yaml: minimal + "drift: {volume: of}\n",
			want: `c.yaml:6:17: drift: volume must be a mapping such as {warn: 0.3, fail: 0.5}, or off, got the string "of" (did you mean "off"?)`,
		},
		{
			name: "threshold pair false",
			yaml: minimal + "drift: {anomalies: false}\n",
			want: `c.yaml:6:20: drift: anomalies must be a mapping such as {warn: 3.5, fail: 6}, or off, got false; write off to turn it off`,
		},
		{
			name: "level true",
			yaml: minimal + "drift: {schema: true}\n",
			want: `c.yaml:6:17: drift: schema must be warn, fail or off, got true; write warn or fail`,
		},
		{
			name: "history not a string",
			yaml: minimal + "drift: {history: [a]}\n",
			want: `c.yaml:6:18: drift: history must be a string, got a list`,
		},
		{
			name: "checks not a list",
			yaml: minimal + "drift: {checks: {event: MovieRatingEvent}}\n",
			want: `c.yaml:6:17: drift: checks must be a list such as [{event: MovieRatingEvent, field: rating, metric: psi}], got a mapping`,
		},
		{
			name: "check not a mapping",
			yaml: minimal + "drift:\n  checks: [rating]\n",
			want: `c.yaml:7:12: drift check #1: a drift check must be a mapping with event, field and metric, got the string "rating"`,
		},
		{
			name: "unknown check key without suggestion",
			yaml: minimal + "drift:\n  checks:" + check + ", severity: warn}\n",
			want: `c.yaml:8:61: drift check "MovieRatingEvent.rating:psi": unknown key "severity"; a drift check takes name, event, field, metric, quantile, warn and fail`,
		},
		{
			name: "quantile of 1",
			yaml: minimal + "drift:\n  checks:\n    - {event: MovieWatchEvent, field: minute, metric: quantile_change, quantile: 1}\n",
			want: `c.yaml:8:82: drift check "MovieWatchEvent.minute:quantile_change": quantile must be between 0 and 1, exclusive (such as 0.95), got 1`,
		},
		{
			name: "quantile as a percent",
			yaml: minimal + "drift:\n  checks:\n    - {event: MovieWatchEvent, field: minute, metric: quantile_change, quantile: 95%}\n",
			want: `c.yaml:8:82: drift check "MovieWatchEvent.minute:quantile_change": quantile must be a number, got the string "95%"; write the share as a number: 0.95`,
		},
		{
			name: "quantile on a boolean field",
			yaml: minimal + "drift:\n  checks:\n    - {event: MovieWatchEvent, field: subtitles, metric: quantile_change, quantile: 0.5}\n",
			want: `c.yaml:8:58: drift check "MovieWatchEvent.subtitles:quantile_change": quantile_change needs a numeric field, but MovieWatchEvent's subtitles is a boolean`,
		},
		{
			name: "fail alone below the default warn",
			yaml: minimal + "drift:\n  checks:" + check + ", fail: 0.05}\n",
			want: `c.yaml:8:67: drift check "MovieRatingEvent.rating:psi": warn 0.1 (psi's default) is above fail 0.05; a check must warn before it fails`,
		},
		{
			name: "thresholds of an unknown metric are read but not ordered against defaults",
			yaml: minimal + "drift:\n  checks:\n    - {event: MovieRatingEvent, field: rating, metric: kl, warn: 0.5}\n",
			want: `c.yaml:8:56: drift check "MovieRatingEvent.rating:kl": unknown metric "kl"; use psi, js, linf, quantile_change, mean_change or null_ratio_change`,
		},
		{
			name: "null_ratio_change beyond 1",
			yaml: minimal + "drift:\n  checks:" + check[:len(check)-3] + "null_ratio_change, warn: 2}\n",
			want: `c.yaml:8:81: drift check "MovieRatingEvent.rating:null_ratio_change": warn 2 can never be reached; null_ratio_change is at most 1`,
		},
		{
			name: "psi and quantile_change are unbounded",
			yaml: minimal + "drift:\n  checks:" + check + ", warn: 2, fail: 9}\n    - {event: MovieWatchEvent, field: minute, metric: quantile_change, quantile: 0.9, fail: 3}\n",
		},
		{
			name: "a check on a type under events",
			yaml: minimal + "events: [PlaybackError]\ndrift:\n  checks:\n    - {event: PlaybackError, field: anything, metric: psi}\n",
		},
		{
			name: "same field and metric, named apart",
			yaml: minimal + "drift:\n  checks:" + check + "}" + check + ", name: rating-psi-strict, fail: 0.1}\n",
		},
		{
			name: "drift true",
			yaml: minimal + "drift: true\n",
			want: `c.yaml:6:8: drift must be a mapping, got true; remove the section to turn drift checks off`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.yaml), "c.yaml")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
