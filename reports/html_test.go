package reports

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/profile"
	"github.com/dqaudit/dqaudit/internal/testutil"
	"github.com/dqaudit/dqaudit/internal/testutil/fixture"
)

func renderHTML(t *testing.T, r *audit.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := (HTML{}).Write(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHTMLGolden(t *testing.T) {
	got := renderHTML(t, fixture.Result())
	testutil.Golden(t, "testdata/golden/report.html", got)
	if again := renderHTML(t, fixture.Result()); !bytes.Equal(got, again) {
		t.Error("two renders of the same Result differ")
	}
}

// The page answers the questions in the order people ask them.
func TestHTMLContent(t *testing.T) {
	page := string(renderHTML(t, fixture.Result()))
	tests := []struct {
		name  string
		order []string // must all appear, in this order
	}{
		{"banner first, with status in words and exit code", []string{`class="banner s-error"`, "ERROR", "3 drift checks failed, 5 warned, 6 passed", `<dd id="exit-code">3</dd>`, "2,204,469", "<dt>Drift checks</dt><dd>3 failed · 5 warned · 6 passed</dd>", "42.7s", "<dd>4</dd>", `id="checks"`}},
		{"what needs attention: input errors, then failing rules and drift checks, then warning ones", []string{`id="attention"`, "watch-03.avro", "kafka-02.log.gz",
			"minute-not-negative", "rating-in-range", `href="#drift-1"><span class="nb">minute-p5-change</span>`, "quantile_change(p5) ∞ (warn 0.200, fail 0.500)", `href="#drift-2"><span class="nb">rating-distribution</span>`, "rating-in-range:anomaly",
			"known-user", "status-ok", "RecommendationRequest.responseTime:psi", "MovieWatchEvent:schema", `id="checks"`}},
		{"passing drift checks are not in the attention list", []string{`id="attention"`, "MovieWatchEvent:schema", `id="checks"`, "MovieRatingEvent.movieId:linf"}},
		{"checks sorted fail, warn, pass, then by name", []string{`id="rule-1"`, "minute-not-negative", "rating-in-range", "known-user", "status-ok", "movie-id-format", "recommendations-present", "server-known", "watch-unique", `id="drift"`}},
		{"Avro sample provenance", []string{"watch-01.avro block 112 record 7</span>", "-1"}},
		{"text sample provenance", []string{"kafka-00.log.gz:2210"}},
		{"failing rules open, others closed", []string{`id="rule-1"`, "<details open>", `id="rule-2"`, "<details open>", `id="rule-3"`, "<details>"}},
		{"share with fixed decimals and tolerance", []string{"0.64%", "0.5%"}},
		{"failing rules show their trend", []string{`id="rule-1"`, `id="rule-1-trend"`, "Failed share over the runs in the history", "2025-03-07", "today &lt;0.01%", `id="rule-2-trend"`, "today 0.08%", `id="rule-5"`}},
		{"drift baseline", []string{`id="drift"`, "Compared with the baseline <code>window:14</code> (7 days: 2025-03-07 … 2025-03-13)", "3 failed · 5 warned · 6 passed"}},
		{"drift rows worst first, then in the Result's order", []string{`id="drift-1"`, "minute-p5-change", `id="drift-2"`, "rating-distribution", `id="drift-3"`, "rating-in-range:<wbr>anomaly",
			`id="drift-4"`, "RecommendationRequest.<wbr>responseTime:<wbr>psi", "MovieWatchEvent:<wbr>schema", `class="d-pass"`, "MovieRatingEvent.<wbr>movieId:<wbr>linf", `id="drift-14"`, "known-user:<wbr>anomaly", "</table>"}},
		{"drift values with fixed decimals, n/a and ∞", []string{`id="drift-1"`, `<td class="num bad">∞</td><td class="num">0.200 / 0.500</td>`, `<td class="num bad">0.230</td>`,
			`<td class="num bad">1</td><td class="num">1 / —</td>`, `<td class="num muted">n/a</td><td class="num">0.0100 / 0.0500</td>`, `<td class="num">0.0003</td>`}},
		{"drift rows link to their charts", []string{`id="drift-2"`, `<a class="chartlink" href="#drift-2-dist">distribution</a>`, `id="drift-3"`, `<a class="chartlink" href="#drift-3-trend">trend</a>`}},
		{"distributions: failing and warning open, passing folded", []string{"Distributions: baseline vs today", `id="drift-2-dist"`, `href="#drift-2"`, "baseline", "today", ">5</text>", "21.0% → 44.0%",
			`id="drift-4-dist"`, "&gt; 118", "10.0% → 22.0%", `<details class="folded"><summary>1 distribution of checks that passed</summary>`, `id="drift-9-dist"`, "the&#43;matrix&#43;1999", "Trends over the history"}},
		{"trends: failing and warning open, passing folded", []string{"Trends over the history", `id="drift-3-trend"`, "Failed share per day: rating-in-range", `id="drift-5-trend"`, "Events per day: RecommendationRequest", "today 312,450",
			`<details class="folded"><summary>4 trends of checks that passed</summary>`, "Malformed share per day", `id="events"`}},
		{"three hour charts, gap marked", []string{"<svg", "Events per hour: MovieRatingEvent", "<svg", "<svg", "No events in hour 03."}},
		{"input errors first with where reading stopped", []string{`id="inputs"`, "block 17, byte offset 2,883,584", "line 90,211, byte offset 4,718,592", "watch-00.avro"}},
		{"malformed by reason, most first, with a control byte shown", []string{`id="malformed"`, "unknown_shape", "1,190", "bad_time", "too_long", `<span class="esc">\x00</span>`}},
		{"schema versions with the added field", []string{`id="schemas"`, "9f8e2c41d07a5b36", "first seen", "c27b5a0e91f4d863", "added <code>subtitles</code>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rest := page
			for _, want := range tc.order {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("%q not found (in order) in the page", want)
				}
				rest = rest[i+len(want):]
			}
		})
	}
}

func TestHTMLBanner(t *testing.T) {
	tests := []struct {
		status audit.Status
		code   audit.ExitCode
		want   []string
	}{
		{audit.StatusPass, audit.ExitPass, []string{`banner s-pass`, "✔</span><span class=\"word\">PASS"}},
		{audit.StatusWarn, audit.ExitPass, []string{`banner s-warn`, "▲</span><span class=\"word\">WARN", "The gate passed with warnings. "}},
		// --fail-on warn and --fail-on never: the headline says what the
		// exit code does.
		{audit.StatusWarn, audit.ExitFail, []string{`banner s-warn`, "The gate passed with warnings, which make this run exit 1."}},
		{audit.StatusFail, audit.ExitFail, []string{`banner s-fail`, "✖</span><span class=\"word\">FAIL", "The data-quality gate failed. "}},
		{audit.StatusFail, audit.ExitPass, []string{`banner s-fail`, "The data-quality gate failed; this run exits 0 all the same (--fail-on never)."}},
		{audit.StatusError, audit.ExitInput, []string{`banner s-error`, "⊘</span><span class=\"word\">ERROR"}},
		{audit.StatusUnset, audit.ExitPass, []string{`banner s-unset`, "UNSET", "not evaluated"}},
	}
	for _, tc := range tests {
		t.Run(tc.status.String()+"-exit-"+strconv.Itoa(int(tc.code)), func(t *testing.T) {
			r := fixture.Result()
			r.Status, r.ExitCode = tc.status, tc.code
			page := string(renderHTML(t, r))
			for _, want := range tc.want {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if want := `<dd id="exit-code">` + strconv.Itoa(int(tc.code)) + `</dd>`; !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		})
	}
}

func TestHTMLEmptyResult(t *testing.T) {
	page := string(renderHTML(t, &audit.Result{}))
	for _, want := range []string{"No rules are configured.", "No events were read.", "No malformed lines.", "Drift: not configured.", "UNSET"} {
		if !strings.Contains(page, want) {
			t.Errorf("page of an empty Result lacks %q", want)
		}
	}
}

// Drift off, drift without a baseline, and drift with nothing wrong each
// read differently.
func TestHTMLDriftStates(t *testing.T) {
	off := fixture.Result()
	off.DriftEnabled, off.Drift, off.BaselineSource, off.BaselineDates, off.RuleTrends = false, nil, "", nil, nil
	first := fixture.Result()
	first.Drift = []audit.DriftResult{
		{Name: "baseline", Kind: audit.DriftBaseline, Status: audit.StatusNoBaseline, Value: math.NaN(), Note: "no earlier day in the history"},
		{Name: "rating-distribution", Kind: audit.DriftDistribution, Event: "MovieRatingEvent", Field: "rating", Metric: "linf", Value: math.NaN(), Warn: 0.1, Fail: 0.2, Status: audit.StatusNoBaseline, Note: "no baseline"},
	}
	first.BaselineSource, first.BaselineDates = "", nil
	first.RuleTrends = map[string][]audit.TrendPoint{"rating-in-range": {{Date: "2025-03-14", Value: 0.001}}}
	calm := fixture.Result()
	for i := range calm.Drift {
		calm.Drift[i].Status = audit.StatusPass
	}
	unreadable, damaged := historyTrouble()
	paused, whole := baselineAfterPause()
	tests := []struct {
		name      string
		r         *audit.Result
		want      []string
		avoid     []string
		attention []string // drift checks listed under "What needs attention"
	}{
		{
			name:  "not configured",
			r:     off,
			want:  []string{"Drift: not configured."},
			avoid: []string{"<dt>Drift checks</dt>", "drift checks failed", `class="data drift"`, `class="chart dist"`, `class="chart trend"`},
		},
		{
			name: "no baseline yet",
			r:    first,
			want: []string{"no drift baseline yet", "<dt>Drift checks</dt><dd>no baseline yet</dd>",
				`<span class="st s-nobase"><span class="ic" aria-hidden="true">○</span> NO BASELINE</span> No earlier day in the history.</p>`,
				`<tr id="drift-1" class="d-nobase">`, "rating-distribution", `<td class="num muted">n/a</td>`},
			// The "baseline" entry is said in words, not a row; one point is no trend.
			avoid: []string{`id="drift-2"`, `class="chart trend"`, "Drift: not configured."},
		},
		{
			name: "history unreadable",
			r:    unreadable,
			want: []string{"no usable drift baseline", "<dt>Drift checks</dt><dd>no usable baseline</dd>",
				`NO BASELINE</span> No usable baseline: the history could not be read (see the history warnings); drift is not checked until it can be.</p>`,
				`<tr id="drift-1" class="d-warn">`, "history entry skipped: 2025-03-13.json"},
			avoid:     []string{"no baseline yet", `id="drift-2"`},
			attention: []string{"history"},
		},
		{
			name:      "damaged entry beside a baseline",
			r:         damaged,
			want:      []string{"history entry skipped: 2025-03-10.json", "3 drift checks failed, 6 warned, 6 passed"},
			avoid:     []string{"NO BASELINE", "no usable"},
			attention: []string{"minute-p5-change", "rating-distribution", "rating-in-range:anomaly", "RecommendationRequest.responseTime:psi", "RecommendationRequest:volume", "RecommendationRequest:volume_outlier", "RecommendationRequest:missing_hours", "MovieWatchEvent:schema", "history"},
		},
		{
			name:  "every drift check passed",
			r:     calm,
			want:  []string{"0 drift checks failed, 0 warned, 14 passed", `<details class="folded"><summary>3 distributions of checks that passed</summary>`, `<details class="folded"><summary>6 trends of checks that passed</summary>`},
			avoid: []string{`class="d-fail"`, `class="d-warn"`},
		},
		{
			name: "previous baseline after a pause",
			r:    paused,
			want: []string{`<p class="baseline">Compared with the baseline <code>previous</code> (1 day: 2025-01-02). <strong>3 failed · 5 warned · 6 passed.</strong></p>
<p class="baseline gap">Baseline 2025-01-02 is 71 days before 2025-03-14: no history entry for the 70 days between.</p>`},
			avoid: []string{"NO BASELINE", "no history entry before"},
			// Information, not a finding: the same checks need attention.
			attention: []string{"minute-p5-change", "rating-distribution", "rating-in-range:anomaly", "RecommendationRequest.responseTime:psi", "RecommendationRequest:volume", "RecommendationRequest:volume_outlier", "RecommendationRequest:missing_hours", "MovieWatchEvent:schema"},
		},
		{
			name:      "window of the days just before",
			r:         whole,
			want:      []string{"Compared with the baseline <code>window:7</code> (7 days: 2025-03-07 … 2025-03-13)"},
			avoid:     []string{`class="baseline gap"`},
			attention: []string{"minute-p5-change", "rating-distribution", "rating-in-range:anomaly", "RecommendationRequest.responseTime:psi", "RecommendationRequest:volume", "RecommendationRequest:volume_outlier", "RecommendationRequest:missing_hours", "MovieWatchEvent:schema"},
		},
		{
			name:      "failing and warning drift checks need attention",
			r:         fixture.Result(),
			attention: []string{"minute-p5-change", "rating-distribution", "rating-in-range:anomaly", "RecommendationRequest.responseTime:psi", "RecommendationRequest:volume", "RecommendationRequest:volume_outlier", "RecommendationRequest:missing_hours", "MovieWatchEvent:schema"},
		},
	}
	tags := regexp.MustCompile(`<[^>]*>`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page := string(renderHTML(t, tc.r))
			checkText(t, page, tc.want, tc.avoid)
			attention := page[strings.Index(page, `id="attention"`):strings.Index(page, `id="checks"`)]
			var got []string
			for _, part := range strings.Split(attention, `href="#drift-`)[1:] {
				_, name, _ := strings.Cut(part, ">")
				name, _, _ = strings.Cut(name, "</a>")
				got = append(got, html.UnescapeString(tags.ReplaceAllString(name, "")))
			}
			if !slices.Equal(got, tc.attention) {
				t.Errorf("drift checks in the attention list:\n%q, want\n%q", got, tc.attention)
			}
		})
	}
}

// poison prefixes every string in v, map keys included, with payload.
func poison(v reflect.Value, payload string) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(payload + v.String())
		}
	case reflect.Pointer:
		if !v.IsNil() {
			poison(v.Elem(), payload)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				poison(v.Field(i), payload)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			poison(v.Index(i), payload)
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			k := reflect.New(v.Type().Key()).Elem()
			k.Set(iter.Key())
			poison(k, payload)
			val := reflect.New(v.Type().Elem()).Elem()
			val.Set(iter.Value())
			poison(val, payload)
			m.SetMapIndex(k, val)
		}
		v.Set(m)
	}
}

// Hostile values in every string of the Result come out as inert text.
func TestHTMLEscapesEverything(t *testing.T) {
	payloads := []struct {
		name, s string
		shown   string // what the page must show as text
	}{
		{"script", `<script>alert(1)</script>`, `<script>alert(1)</script>`},
		{"attribute break-out", `"><img src=x onerror=alert(1)>`, `"><img src=x onerror=alert(1)>`},
		{"single-quote break-out", `' onmouseover='alert(1)`, `' onmouseover='alert(1)`},
		{"javascript URL", `javascript:alert(1)`, `javascript:alert(1)`},
		{"svg break-out", `</svg><script>alert(1)</script>`, `</svg><script>alert(1)</script>`},
		{"style and title break-out", `</style></title><script>alert(1)</script>`, `</style></title><script>alert(1)</script>`},
		{"invalid UTF-8 and controls", "\xff\xfe\x00\x1b[2J", `\xff\xfe\x00\x1b[2J`},
		{"comment and CDATA", `<!-- ]]> <![CDATA[`, `<!-- ]]> <![CDATA[`},
	}
	for _, pl := range payloads {
		t.Run(pl.name, func(t *testing.T) {
			r := fixture.Result()
			poison(reflect.ValueOf(r).Elem(), pl.s)
			if r.Rules[0].Name == fixture.Result().Rules[0].Name || len(r.Events) != 3 {
				t.Fatal("poison did not reach the Result")
			}
			out := renderHTML(t, r)
			if !utf8.Valid(out) {
				t.Error("output is not valid UTF-8")
			}
			lower := strings.ToLower(string(out))
			for _, bad := range []string{"<script", "<img", "<iframe", "<object", "<embed", "\x1b"} {
				if strings.Contains(lower, bad) {
					t.Errorf("output contains %q", bad)
				}
			}
			doc, err := html.Parse(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			var texts strings.Builder
			svgs := 0
			for n := range doc.Descendants() {
				switch n.Type {
				case html.TextNode:
					texts.WriteString(n.Data)
					texts.WriteByte('\n')
					continue
				case html.ElementNode:
				default:
					continue
				}
				switch n.Data {
				case "script", "img", "iframe", "object", "embed", "link", "base", "form", "input", "foreignobject", "audio", "video":
					t.Errorf("element <%s> in output", n.Data)
				case "svg":
					svgs++
				}
				if n.Data == "style" && n.Parent != nil && n.Parent.Data != "head" {
					t.Errorf("<style> outside <head>")
				}
				for _, a := range n.Attr {
					key := strings.ToLower(a.Key)
					switch {
					case strings.HasPrefix(key, "on"):
						t.Errorf("event handler attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
					case key == "src" || key == "style" || key == "srcdoc" || key == "formaction" || strings.HasSuffix(key, "href") && !strings.HasPrefix(a.Val, "#"):
						t.Errorf("attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
					}
				}
			}
			// 3 hour charts, 3 distributions, 6 drift trends, 4 rule trends.
			if svgs != 16 {
				t.Errorf("%d <svg> elements, want the 16 charts", svgs)
			}
			// Strings of every kind, drift's included, show as text: check
			// names, notes, bucket labels (in full in their tips), dates of
			// the baseline and of trends.
			for _, s := range []string{
				"rating-in-range", "rating-distribution", "no values on one side", "RecommendationRequest:volume",
				"the+matrix+1999", "> 118", "2025-03-07 … " + pl.shown + "2025-03-13", "2025-03-09: ", "window:14",
			} {
				if want := pl.shown + s; !strings.Contains(texts.String(), want) {
					t.Errorf("the page does not show %q as text", want)
				}
			}
		})
	}
}

// The page stays small whatever the input: it embeds only bounded lists,
// and renders again with smaller limits when escaping blows text up.
// Long strings are shared, not copied, to keep the test's memory small.
func TestHTMLSizeBounded(t *testing.T) {
	const maxSize = 2 << 20
	tests := []struct {
		name string
		long string // every long text of the Result
	}{
		{"long plain text", strings.Repeat("x", 300_000)},
		{"long text that escapes to five bytes a byte", strings.Repeat(`"<&'`, 75_000)},
		{"long text of control bytes", strings.Repeat("\x00\xff", 150_000)},
		{"short texts", "short"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := hugeResult(tc.long)
			var n countWriter
			if err := (HTML{}).Write(&n, r); err != nil {
				t.Fatal(err)
			}
			t.Logf("report.html of %d inputs: %d bytes", len(r.Inputs), n)
			if n > maxSize {
				t.Errorf("report.html is %d bytes, want at most %d", n, maxSize)
			}
			if n < 100_000 {
				t.Errorf("report.html is only %d bytes: limits shrank too far", n)
			}
		})
	}
}

// A day of many drift checks fits the page with the default limits: no
// shrinking, the worst 1,000 rows, and the charts of the worst checks and
// failing rules up to their bounds (the worst thousand all fail).
func TestHTMLManyDriftChecks(t *testing.T) {
	r := fixture.Result()
	r.Drift = manyDriftChecks(5_000, "RecommendationRequest.responseTime:psi")
	page := string(renderHTML(t, r))
	lim := defaultHTMLLimits()
	t.Logf("report.html of %d drift checks: %d bytes", len(r.Drift), len(page))
	if len(page) > htmlMaxBytes {
		t.Errorf("report.html is %d bytes, want at most %d", len(page), htmlMaxBytes)
	}
	counts := []struct {
		what string
		got  int
		want int
	}{
		{"drift rows", strings.Count(page, `<tr id="drift-`), lim.drift},
		{"distribution charts", strings.Count(page, `<svg class="chart dist"`), lim.distCharts},
		{"trend charts", strings.Count(page, `<svg class="chart trend"`), lim.trendCharts},
		{"failing drift charts", strings.Count(page, `<figure class="chartbox" id="drift-`), lim.distCharts + lim.trendCharts - 2},
		{"trends of the failing rules", strings.Count(page, `<figure class="trendbox"`), 2},
		{"folded charts", strings.Count(page, `<details class="folded">`), 0},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	for _, want := range []string{"4000 more drift checks not shown", "more charts not drawn", `<tr id="drift-1000" class="d-fail">`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// hugeResult is the fixture with 100,000 inputs that could not be read,
// 200 event types with 100 schema versions each, 5,000 drift checks with
// 21-bucket distributions and 30-day trends, and long texts.
func hugeResult(long string) *audit.Result {
	medium := strings.Repeat("y", 1_000)
	path := strings.Repeat("/deep", 100) + long
	r := fixture.Result()
	r.Inputs = make([]audit.FileResult, 100_000)
	for i := range r.Inputs {
		r.Inputs[i] = audit.FileResult{
			Input: long, Format: long, Path: path,
			Bytes: int64(i), Events: int64(i), Err: long, ErrOffset: 1, ErrBlock: -1, ErrLine: int64(i),
		}
	}
	fields := make([]audit.SchemaField, 1_000)
	for f := range fields {
		fields[f] = audit.SchemaField{Name: medium + strconv.Itoa(f), Type: long}
	}
	files := make([]string, 5_000)
	for f := range files {
		files[f] = long
	}
	for i := range 200 {
		name := strconv.Itoa(i) + medium
		r.Events[name] = int64(i)
		r.Hours[name] = &[24]int64{1, 2, 3}
		r.Malformed.ByReason[name] = int64(i)
		versions := make([]audit.SchemaSeen, 100)
		for v := range versions {
			versions[v] = audit.SchemaSeen{Fingerprint: long, Fields: fields[v%2:], Files: files}
		}
		r.Schemas[name] = versions
	}
	for i := range 10_000 {
		r.Malformed.Samples = append(r.Malformed.Samples, audit.MalformedSample{Path: long, Line: int64(i), Reason: long, Text: long})
	}
	for i := range r.Rules {
		for range 1_000 {
			r.Rules[i].Samples = append(r.Rules[i].Samples, audit.Sample{Path: long, Line: 1, Value: long})
		}
		r.Rules[i].Description = long
		r.Rules[i].Name = long
		r.Rules[i].Params = long
	}
	r.Drift = manyDriftChecks(5_000, long)
	r.RuleTrends = map[string][]audit.TrendPoint{long: r.Drift[0].Trend}
	r.BaselineDates = r.Drift[0].BaselineDates
	r.BaselineSource = long
	return r
}

// historyTrouble returns the fixture's result after a history whose
// entries could not be read (no usable baseline, and the reason), and
// after one damaged entry beside a usable baseline.
func historyTrouble() (unreadable, damaged *audit.Result) {
	unreadable = fixture.Result()
	unreadable.Drift = []audit.DriftResult{
		{Name: "baseline", Kind: audit.DriftBaseline, Status: audit.StatusNoBaseline, Value: math.NaN(), Note: "no usable baseline: the history could not be read (see the history warnings); drift is not checked until it can be"},
		{Name: "history", Kind: audit.DriftBaseline, Status: audit.StatusWarn, Value: math.NaN(), Note: "history entry skipped: 2025-03-13.json: unexpected end of JSON input"},
	}
	unreadable.BaselineSource, unreadable.BaselineDates = "", nil
	damaged = fixture.Result()
	damaged.Drift = append(damaged.Drift, audit.DriftResult{Name: "history", Kind: audit.DriftBaseline, Status: audit.StatusWarn, Value: math.NaN(), Note: "history entry skipped: 2025-03-10.json: unexpected end of JSON input"})
	return unreadable, damaged
}

// baselineAfterPause returns the fixture compared with a previous
// baseline 71 days back, as Apply notes it, and with a window of the 7
// days just before, which has no note.
func baselineAfterPause() (paused, whole *audit.Result) {
	paused = fixture.Result()
	paused.BaselineSource, paused.BaselineDates = "previous", []string{"2025-01-02"}
	for i := range paused.Drift {
		paused.Drift[i].BaselineDates = []string{"2025-01-02"}
	}
	paused.BaselineNote = "baseline 2025-01-02 is 71 days before 2025-03-14: no history entry for the 70 days between"
	whole = fixture.Result()
	whole.BaselineSource, whole.BaselineNote = "window:7", ""
	return paused, whole
}

// manyDriftChecks returns n drift checks, a third of each status, each
// with a 21-bucket distribution and a 30-day trend, whose strings are all
// text. The slices are shared between checks to keep the test small.
func manyDriftChecks(n int, text string) []audit.DriftResult {
	labels := make([]string, 21)
	shares := make([]float64, 21)
	for i := range labels {
		labels[i] = text + strconv.Itoa(i)
		shares[i] = 1.0 / 21
	}
	var trend []audit.TrendPoint
	dates := make([]string, 30)
	for i := range 30 {
		dates[i] = text + strconv.Itoa(i)
		trend = append(trend, audit.TrendPoint{Date: dates[i], Value: float64(i) / 1000})
	}
	dist := &profile.Distribution{Numeric: true, Labels: labels, Base: shares, Cur: shares}
	statuses := []audit.Status{audit.StatusFail, audit.StatusWarn, audit.StatusPass}
	out := make([]audit.DriftResult, n)
	for i := range out {
		out[i] = audit.DriftResult{
			Name: text, Kind: audit.DriftDistribution, Event: text, Field: text, Metric: text,
			Value: float64(i), Warn: 1, Fail: 2, Status: statuses[i%3], Note: text,
			BaselineDates: dates, Dist: dist, Trend: trend,
		}
	}
	return out
}

func TestHTMLLimitsShrinkToAFloor(t *testing.T) {
	l := defaultHTMLLimits()
	steps := 0
	for l.shrink() {
		steps++
		if steps > 64 {
			t.Fatal("shrink never stops")
		}
	}
	if l.inputs != 1 || l.text != 16 {
		t.Errorf("floor: inputs %d, text %d; want 1 and 16", l.inputs, l.text)
	}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// The report renders in a real browser: the DOM after load has the
// banner, the checks table and the charts. Set DQAUDIT_SCREENSHOT to a
// .png path to save a screenshot of the fixture's report for the docs.
func TestHTMLInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not on PATH; CI must install it")
		}
		t.Skip("chromium is not on PATH")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, renderHTML(t, fixture.Result()), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "file://" + filepath.ToSlash(page)

	dom := runChromium(t, bin, dir, "--dump-dom", url)
	checks := []struct{ name, want string }{
		{"banner", `<header class="banner s-error" id="summary">`},
		{"status word", `<span class="word">ERROR</span>`},
		{"checks table", `<table class="checks">`},
		{"a failing rule row", `<tbody class="rule r-fail" id="rule-1">`},
		{"a sample", "kafka-00.log.gz:2210</span>"},
		{"chart", `<svg class="chart"`},
		{"chart bars", `<rect class="bar"`},
		{"drift baseline", "Compared with the baseline <code>window:14</code>"},
		{"drift table", `<table class="data drift">`},
		{"a failing drift row", `<tr id="drift-1" class="d-fail">`},
		{"a distribution chart", `<svg class="chart dist"`},
		{"its hatched baseline bars", `fill="url(#drift-2-dist-svg-hatch)"`},
		{"a trend chart", `<svg class="chart trend"`},
		{"a trend line", `<path class="tline" d="M`},
		{"a rule's trend", `<figure class="trendbox" id="rule-1-trend">`},
	}
	for _, c := range checks {
		if !strings.Contains(dom, c.want) {
			t.Errorf("rendered DOM lacks the %s (%q)", c.name, c.want)
		}
	}
	for _, c := range []struct {
		class string
		n     int
	}{{`<svg class="chart"`, 3}, {`<svg class="chart dist"`, 3}, {`<svg class="chart trend"`, 10}} {
		if n := strings.Count(dom, c.class); n != c.n {
			t.Errorf("rendered DOM has %d of %s, want %d", n, c.class, c.n)
		}
	}

	if shot := os.Getenv("DQAUDIT_SCREENSHOT"); shot != "" {
		abs, err := filepath.Abs(shot)
		if err != nil {
			t.Fatal(err)
		}
		runChromium(t, bin, dir, "--hide-scrollbars", "--window-size=1280,1600", "--screenshot="+abs, url)
		if st, err := os.Stat(abs); err != nil || st.Size() == 0 {
			t.Fatalf("no screenshot at %s: %v", abs, err)
		}
		t.Logf("screenshot: %s", abs)
	}
}

func runChromium(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	profile, err := os.MkdirTemp(dir, "profile")
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, lastLines(stderr.String(), 20))
	}
	return stdout.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
