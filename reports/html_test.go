package reports

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/dqaudit/dqaudit/audit"
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
		{"banner first, with status in words and exit code", []string{`class="banner s-error"`, "ERROR", `<dd id="exit-code">3</dd>`, "2,204,469", "42.7s", "<dd>4</dd>", `id="checks"`}},
		{"what needs attention: input errors, then failing, then warning rules", []string{`id="attention"`, "watch-03.avro", "kafka-02.log.gz", "minute-not-negative", "rating-in-range", "known-user", "status-ok", `id="checks"`}},
		{"checks sorted fail, warn, pass, then by name", []string{`id="rule-1"`, "minute-not-negative", "rating-in-range", "known-user", "status-ok", "movie-id-format", "recommendations-present", "server-known", "watch-unique", `id="drift"`}},
		{"Avro sample provenance", []string{"watch-01.avro block 112 record 7</span>", "-1"}},
		{"text sample provenance", []string{"kafka-00.log.gz:2210"}},
		{"failing rules open, others closed", []string{`id="rule-1"`, "<details open>", `id="rule-2"`, "<details open>", `id="rule-3"`, "<details>"}},
		{"share with fixed decimals and tolerance", []string{"0.64%", "0.5%"}},
		{"drift is a placeholder", []string{`id="drift"`, "Drift: not configured."}},
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
		{audit.StatusWarn, audit.ExitPass, []string{`banner s-warn`, "▲</span><span class=\"word\">WARN"}},
		{audit.StatusFail, audit.ExitFail, []string{`banner s-fail`, "✖</span><span class=\"word\">FAIL", "The data-quality gate failed."}},
		{audit.StatusError, audit.ExitInput, []string{`banner s-error`, "⊘</span><span class=\"word\">ERROR"}},
		{audit.StatusUnset, audit.ExitPass, []string{`banner s-unset`, "UNSET", "not evaluated"}},
	}
	for _, tc := range tests {
		t.Run(tc.status.String(), func(t *testing.T) {
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
			if svgs != 3 {
				t.Errorf("%d <svg> elements, want the 3 charts", svgs)
			}
			if !strings.Contains(texts.String(), pl.shown) {
				t.Errorf("the page does not show %q as text", pl.shown)
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

// hugeResult is the fixture with 100,000 inputs that could not be read,
// 200 event types with 100 schema versions each, and long texts.
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
	return r
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
		{"drift placeholder", "Drift: not configured."},
	}
	for _, c := range checks {
		if !strings.Contains(dom, c.want) {
			t.Errorf("rendered DOM lacks the %s (%q)", c.name, c.want)
		}
	}
	if n := strings.Count(dom, `<svg class="chart"`); n != 3 {
		t.Errorf("rendered DOM has %d charts, want 3", n)
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
