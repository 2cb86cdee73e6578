package reports

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/internal/testutil"
	"github.com/dqaudit/dqaudit/internal/testutil/fixture"
)

func renderMarkdown(t *testing.T, r *audit.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := (Markdown{}).Write(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestMarkdownGolden(t *testing.T) {
	got := renderMarkdown(t, fixture.Result())
	testutil.Golden(t, "testdata/golden/report.md", []byte(got))
	if again := renderMarkdown(t, fixture.Result()); got != again {
		t.Error("two renders of the same Result differ")
	}
}

func TestMarkdownContent(t *testing.T) {
	md := renderMarkdown(t, fixture.Result())
	tests := []struct {
		name  string
		order []string
	}{
		{"status line first", []string{"# dqaudit report: 2025-03-14", "**⊘ ERROR** · exit code 3 · 2,204,469 events", "2 rules failed · 2 warned · 4 passed · 3 drift checks failed, 5 warned, 6 passed · 2 input errors", "## Checks"}},
		{"failures first", []string{"| ✖ FAIL | `minute-not-negative`", "| ✖ FAIL | `rating-in-range`", "| ▲ WARN | `known-user`", "| ✔ PASS | `movie-id-format`"}},
		{"samples with provenance", []string{"### Failing samples", "`/data/archive/2025-03-14/watch-01.avro block 112 record 7`", "`/data/archive/2025-03-14/kafka-00.log.gz:2210`"}},
		{"drift baseline", []string{"## Drift", "Baseline: `window:14` (7 days: 2025-03-07 … 2025-03-13) · 3 drift checks failed, 5 warned, 6 passed", "## Input errors"}},
		{"drift checks worst first, in the Result's order within a status", []string{"## Drift", "| Status | Check", "| Kind", "Value |", "Warn / Fail |", " Note ",
			"| ✖ FAIL | `minute-p5-change`", "| ✖ FAIL | `rating-distribution`", "| ✖ FAIL | `rating-in-range:anomaly`", "| ▲ WARN | `RecommendationRequest.responseTime:psi`",
			"| ▲ WARN | `MovieWatchEvent:schema`", "| ✔ PASS | `MovieRatingEvent.movieId:linf`", "| ✔ PASS | `known-user:anomaly`", "charts are in report.html", "## Input errors"}},
		{"drift values: ∞, fixed decimals, n/a, levels off", []string{"| distribution |      ∞ |   0.200 / 0.500 |", "|  0.230 |", "|      1 |           1 / — | no events in hour(s) 03",
			"(\\[\"null\",\"boolean\"\\])", "|    n/a | 0.0100 / 0.0500 | no values on one side", "| 0.0003 | 0.0050 / 0.0200 |"}},
		{"input errors with where", []string{"## Input errors", "2 of 7 files", "block 17, byte offset 2,883,584", "line 90,211"}},
		{"malformed by reason, most first", []string{"## Malformed lines", "`unknown_shape` | 1,190", "`too_long`", "First samples:", `77\x00,GET`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rest := md
			for _, want := range tc.order {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("%q not found (in order) in:\n%s", want, md)
				}
				rest = rest[i+len(want):]
			}
		})
	}
}

// cells splits a table line at its pipes as GitHub does: a pipe right
// after a backslash never ends a cell, whatever precedes the backslash
// (cmark-gfm's table_cell scanner takes the longest match).
func cells(line string) []string {
	var out []string
	start := 0
	for i := 0; i < len(line); i++ {
		if line[i] == '|' && (i == 0 || line[i-1] != '\\') {
			out = append(out, line[start:i])
			start = i + 1
		}
	}
	return append(out, line[start:])
}

// Values with pipes, backticks, newlines and HTML never break a table:
// every line of a table has as many cells as its header, and no raw HTML
// or emphasis escapes from a cell.
func TestMarkdownTablesSurviveHostileValues(t *testing.T) {
	payloads := []string{
		"a|b||c",
		"`code` and ``more``",
		"line one\nline two\r\n| fake | row |",
		"<script>alert(1)</script><b>bold</b>",
		"*emph* _under_ [link](javascript:alert(1)) ~~strike~~",
		"\\|escaped pipe\\",
		"\xff\x00\x1b[31mred",
	}
	for _, pl := range payloads {
		t.Run(pl, func(t *testing.T) {
			r := fixture.Result()
			poison(reflect.ValueOf(r).Elem(), pl)
			md := renderMarkdown(t, r)
			if strings.ContainsAny(md, "\x00\x1b\r") {
				t.Error("control characters in the output")
			}
			for _, line := range strings.Split(md, "\n") {
				text := outsideCode(line)
				for i := 0; i < len(text); i++ {
					// Our own markup: **status**, *(empty)*, and "<0.01%" (a
					// "<" before a digit starts no tag in CommonMark).
					if strings.IndexByte("<[*", text[i]) >= 0 && (i == 0 || text[i-1] != '\\') &&
						!strings.HasPrefix(text[i:], "**") && !strings.HasSuffix(text[:i], "*") &&
						!strings.HasPrefix(text[i:], "*(empty)*") && !strings.HasPrefix(text[i:], "<0.01%") {
						t.Errorf("unescaped %q outside code in line:\n%s", text[i], line)
						break
					}
				}
			}
			width := 0
			tables := 0
			for _, line := range strings.Split(md, "\n") {
				if !strings.HasPrefix(line, "|") {
					width = 0
					continue
				}
				n := len(cells(line))
				if width == 0 {
					width = n
					tables++
					continue
				}
				if n != width {
					t.Errorf("table line has %d cells, its header %d:\n%s", n, width, line)
				}
			}
			if tables != 6 {
				t.Errorf("%d tables, want 6 (checks, samples, drift, input errors, reasons, malformed samples)", tables)
			}
		})
	}
}

// outsideCode drops the code spans of a Markdown line, where nothing is
// markup, and keeps the rest.
func outsideCode(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] != '`' {
			b.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		fence := strings.Repeat("`", n)
		end := i + n
		for {
			j := strings.Index(line[end:], fence)
			if j < 0 {
				return b.String() + line[i:] // no closing fence: literal backticks
			}
			end += j
			if end+n == len(line) || line[end+n] != '`' {
				break
			}
			for end < len(line) && line[end] == '`' {
				end++
			}
		}
		i = end + n
	}
	return b.String()
}

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct {
		name, in, code, text string
	}{
		{"plain", "rating-in-range", "`rating-in-range`", "rating-in-range"},
		{"pipe", "a|b", "`a\\|b`", "a\\|b"},
		{"backtick", "a`b", "``a`b``", "a\\`b"},
		{"leading backtick", "`x", "`` `x ``", "\\`x"},
		{"two backticks", "a``b", "```a``b```", "a\\`\\`b"},
		{"spaces both ends", " x ", "`  x  `", " x "},
		{"newline", "a\nb", "`a\\nb`", "a\\\\nb"},
		{"emphasis and html", "*a* <b>", "`*a* <b>`", "\\*a\\* \\<b\\>"},
		{"intra-word underscore", "known_users", "`known_users`", "known_users"},
		{"emphasis underscore", "_x_", "`_x_`", "\\_x\\_"},
		{"link", "[a](b)", "`[a](b)`", "\\[a\\](b)"},
		{"entity", "&amp;", "`&amp;`", "\\&amp;"},
		{"empty", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mdCode(tc.in); got != tc.code {
				t.Errorf("mdCode(%q) = %q, want %q", tc.in, got, tc.code)
			}
			if got := mdText(tc.in); got != tc.text {
				t.Errorf("mdText(%q) = %q, want %q", tc.in, got, tc.text)
			}
		})
	}
}

func TestMarkdownDriftStates(t *testing.T) {
	off := fixture.Result()
	off.DriftEnabled = false
	first := fixture.Result()
	first.Drift = []audit.DriftResult{{Name: "baseline", Kind: audit.DriftBaseline, Status: audit.StatusNoBaseline, Value: math.NaN()}}
	first.BaselineSource, first.BaselineDates = "", nil
	unreadable, damaged := historyTrouble()
	paused, whole := baselineAfterPause()
	many := fixture.Result()
	many.Drift = manyDriftChecks(250, "check")
	tests := []struct {
		name        string
		r           *audit.Result
		want, avoid []string
	}{
		{"not configured", off, []string{"## Drift\n\nDrift: not configured.\n\n## Input errors"}, []string{"drift checks failed", "Warn / Fail"}},
		{"no baseline yet", first, []string{"no drift baseline yet · 2 input errors", "## Drift\n\nNo baseline yet: this run starts the history; drift is checked from the next day on.\n\n## Input errors"}, []string{"Warn / Fail", "`baseline`"}},
		{"history unreadable", unreadable, []string{"no usable drift baseline · 2 input errors", "## Drift\n\nNo usable baseline: the history could not be read (see the history warnings); drift is not checked until it can be.\n", "`history`", "history entry skipped: 2025-03-13.json: unexpected end of JSON input"}, []string{"No baseline yet"}},
		{"damaged entry beside a baseline", damaged, []string{"| ▲ WARN | `history` ", "history entry skipped: 2025-03-10.json"}, []string{"No baseline", "No usable"}},
		{"previous baseline after a pause", paused, []string{"## Drift\n\nBaseline: `previous` (1 day: 2025-01-02) · 3 drift checks failed, 5 warned, 6 passed\n\nBaseline 2025-01-02 is 71 days before 2025-03-14: no history entry for the 70 days between.\n\n| Status"}, []string{"No baseline"}},
		{"window of the days just before", whole, []string{"## Drift\n\nBaseline: `window:7` (7 days: 2025-03-07 … 2025-03-13) · 3 drift checks failed, 5 warned, 6 passed\n\n| Status"}, []string{"history entry before"}},
		{"bounded", many, []string{"| ✖ FAIL | `check` |", "\n150 more drift checks in report.json.\n"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			md := renderMarkdown(t, tc.r)
			for _, want := range tc.want {
				if !strings.Contains(md, want) {
					t.Errorf("report.md lacks %q:\n%s", want, md)
				}
			}
			for _, avoid := range tc.avoid {
				if strings.Contains(md, avoid) {
					t.Errorf("report.md has %q", avoid)
				}
			}
			if tc.r == many {
				if n := strings.Count(md, "| `check` |"); n != mdMaxDrift {
					t.Errorf("%d drift rows, want %d", n, mdMaxDrift)
				}
			}
		})
	}
}

func TestMarkdownEmptyResult(t *testing.T) {
	md := renderMarkdown(t, &audit.Result{})
	for _, want := range []string{"No rules are configured.", "Drift: not configured.", "No input files.", "No malformed lines."} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md of an empty Result lacks %q:\n%s", want, md)
		}
	}
}

// TestReportsPointOnlyToFilesWritten: what a report leaves out, it points
// to in the other reports of the run, and only to those the run writes.
func TestReportsPointOnlyToFilesWritten(t *testing.T) {
	r := fixture.Result()
	many := fixture.Result()
	many.Drift = manyDriftChecks(250, "check")
	for _, tc := range []struct {
		name         string
		r            *audit.Result
		written      []string
		render       func(*testing.T, *audit.Result) string
		want, absent []string
	}{
		{"markdown with all", r, nil, renderMarkdown, []string{"more samples in report.json and report.html.", "The full data is in report.json; the browsable report is report.html."}, nil},
		{"markdown alone", r, []string{"report.md"}, renderMarkdown, []string{"more samples not shown."}, []string{"report.json", "report.html"}},
		{"markdown and json", many, []string{"report.md", "report.json"}, renderMarkdown, []string{"more drift checks in report.json.", "The full data is in report.json.\n"}, []string{"report.html"}},
		{"html alone", many, []string{"report.html"}, func(t *testing.T, r *audit.Result) string { return string(renderHTML(t, r)) }, []string{"UTC.</p>"}, []string{"report.json"}},
		{"html with all", many, nil, func(t *testing.T, r *audit.Result) string { return string(renderHTML(t, r)) }, []string{"report.json in the same directory holds the full data."}, nil},
		{"summary with all", many, nil, func(t *testing.T, r *audit.Result) string { return renderSummary(t, r, false) }, []string{"more drift checks that warned or failed (see report.html)\n"}, nil},
		{"summary alone", many, []string{"report.md"}, func(t *testing.T, r *audit.Result) string { return renderSummary(t, r, false) }, []string{"more drift checks that warned or failed\n"}, []string{"(see report"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := *tc.r
			r.Reports = tc.written
			checkText(t, tc.render(t, &r), tc.want, tc.absent)
		})
	}
}

// checkText fails t for each of want that out lacks and each of avoid
// that it has.
func checkText(t *testing.T, out string, want, avoid []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	for _, a := range avoid {
		if strings.Contains(out, a) {
			t.Errorf("output has %q", a)
		}
	}
}

// TestOneMalformedLineIsSingular: "1 malformed line", not "1 malformed
// lines", in the Markdown status line and the HTML section.
func TestOneMalformedLineIsSingular(t *testing.T) {
	r := fixture.Result()
	r.Malformed.Total = 1
	if md := renderMarkdown(t, r); !strings.Contains(md, " · 1 malformed line") || strings.Contains(md, "1 malformed lines") {
		t.Errorf("report.md:\n%s", md)
	}
	if md := renderMarkdown(t, r); !strings.Contains(md, "\n1 line was not an event.\n") {
		t.Errorf("report.md's malformed section is not singular:\n%s", md)
	}
	if page := string(renderHTML(t, r)); !strings.Contains(page, "1 line was not an event.") {
		t.Error("report.html does not say 1 line was not an event")
	}
}
