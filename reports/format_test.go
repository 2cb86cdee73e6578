package reports

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
)

func TestVisible(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"tab\there", `tab\there`},
		{"a\r\nb", `a\r\nb`},
		{"nul\x00esc\x1b[2Jdel\x7f", `nul\x00esc\x1b[2Jdel\x7f`},
		{"bad\xff\xfeutf8", `bad\xff\xfeutf8`},
		{"Amélie ✔", "Amélie ✔"},
		{"rtl\u202eoverride\u2028sep\u0085c1", `rtl\u202eoverride\u2028sep\u0085c1`},
		// Invisible format characters, which make an id look like another.
		{"42\u200b 4\u200d3 \u200e42 42\u00ad 42\u2060 \u061c \U000e0041", `42\u200b 4\u200d3 \u200e42 42\u00ad 42\u2060 \u061c \U000e0041`},
		// Other characters that show as nothing or as a space.
		{"4\u034f2 42\ufe0f \u3164 \u115f \u2800 42\u00a0 \u3000", `4\u034f2 42\ufe0f \u3164 \u115f \u2800 42\u00a0 \u3000`},
		// A backslash is doubled only where the text has an escape, so
		// that a real ESC and the characters \x1b read differently.
		{`C:\data\x1b`, `C:\data\x1b`},
		{"esc\x1b and \\x1b", `esc\x1b and \\x1b`},
		{"", ""},
	}
	for _, tc := range tests {
		if got := visible(tc.in); got != tc.want {
			t.Errorf("visible(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSegments(t *testing.T) {
	got := segments("a\x00b\xffc")
	want := []segment{{"a", false}, {`\x00`, true}, {"b", false}, {`\xff`, true}, {"c", false}}
	if !slices.Equal(got, want) {
		t.Errorf("segments = %+v, want %+v", got, want)
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in         string
		n          int
		clip, left string
	}{
		{"short", 10, "short", "short"},
		{"abcdefgh", 4, "abcd…", "…efgh"},
		{"ééé", 3, "é…", "…é"}, // never cuts inside a rune
	}
	for _, tc := range tests {
		if got := clip(tc.in, tc.n); got != tc.clip {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.clip)
		}
		if got := clipLeft(tc.in, tc.n); got != tc.left {
			t.Errorf("clipLeft(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.left)
		}
	}
	if got := show(strings.Repeat("\x00", 100), 8); len(got) > 8+len("…") {
		t.Errorf("show grew past its bound: %q", got)
	}
}

func TestBreakable(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"/data/archive/2025-03-14/kafka-00.log.gz:118", []string{"/data/archive/", "2025-03-14/", "kafka-00.log.gz:118"}},
		{"name", []string{"name"}},
		{"/a/b/c/d/e/f", []string{"/a/b/c/d/", "e/f"}},
		{strings.Repeat("x", 100), []string{strings.Repeat("x", 48), strings.Repeat("x", 48), "xxxx"}},
	}
	for _, tc := range tests {
		got := breakable(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("breakable(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Join(got, "") != tc.in {
			t.Errorf("breakable(%q) lost text", tc.in)
		}
	}
}

func TestNameBreaks(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"RecommendationRequest.responseTime:psi", []string{"RecommendationRequest.", "responseTime:", "psi"}},
		{"malformed_share", []string{"malformed_", "share"}},
		{"quantile_change(p5)", []string{"quantile_", "change(", "p5)"}},
		{"plain", []string{"plain"}},
		{"trailing.", []string{"trailing."}},
		{"", []string{""}},
	}
	for _, tc := range tests {
		if got := nameBreaks(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("nameBreaks(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFormatNumbers(t *testing.T) {
	tests := []struct{ got, want string }{
		{formatInt(0), "0"},
		{formatInt(999), "999"},
		{formatInt(1000), "1,000"},
		{formatInt(-1234567), "-1,234,567"},
		{formatShare(0, 0), "0.00%"},
		{formatShare(37, 48_869), "0.08%"},
		{formatShare(1, 1_000_000), "<0.01%"},
		{formatShare(999_999, 1_000_000), ">99.99%"},
		{formatShare(5, 5), "100.00%"},
		{formatShare(1, 3), "33.33%"},
		{formatBytes(512), "512 B"},
		{formatBytes(1536), "1.5 KiB"},
		{formatBytes(96_468_992), "92.0 MiB"},
		{formatCompact(950), "950"},
		{formatCompact(12_000), "12k"},
		{formatCompact(1_500_000), "1.5M"},
		{formatDuration(850 * time.Millisecond), "850ms"},
		{formatDuration(42718 * time.Millisecond), "42.7s"},
		{formatDuration(185 * time.Second), "3m05s"},
		{formatDuration(3*time.Hour + 61*time.Second), "3h01m01s"},
		{formatTime(time.Time{}), "unknown"},
		{formatTime(time.Date(2025, 3, 15, 4, 0, 4, 0, time.FixedZone("CET", 3600))), "2025-03-15 03:00:04 UTC"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("case %d: got %q, want %q", i, tc.got, tc.want)
		}
	}
}

func TestSortedRules(t *testing.T) {
	in := []audit.RuleResult{
		{Name: "b", Status: audit.StatusPass},
		{Name: "a", Status: audit.StatusPass},
		{Name: "z", Status: audit.StatusWarn},
		{Name: "y", Status: audit.StatusFail},
		{Name: "x", Status: audit.StatusUnset},
		{Name: "c", Status: audit.StatusFail},
	}
	var got []string
	for _, r := range sortedRules(in) {
		got = append(got, r.Name)
	}
	if want := []string{"c", "y", "z", "a", "b", "x"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	if in[0].Name != "b" {
		t.Error("sortedRules changed its argument")
	}
}

func TestInputWhere(t *testing.T) {
	tests := []struct {
		f    audit.FileResult
		want string
	}{
		{audit.FileResult{Err: "x", ErrOffset: 2_883_584, ErrBlock: 17}, "block 17, byte offset 2,883,584"},
		{audit.FileResult{Err: "x", ErrOffset: 10, ErrBlock: -1, ErrLine: 90_211}, "line 90,211, byte offset 10"},
		{audit.FileResult{Err: "no file matches", ErrOffset: -1, ErrBlock: -1}, ""},
		{audit.FileResult{ErrOffset: 5, ErrBlock: 3}, ""},
	}
	for _, tc := range tests {
		if got := inputWhere(tc.f); got != tc.want {
			t.Errorf("inputWhere(%+v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestKindText(t *testing.T) {
	tests := []struct{ kind, params, want string }{
		{"between", "between [1, 5]", "between [1, 5]"},
		{"not_null", "not_null where status == 200", "not_null where status == 200"},
		{"not_null", "not_null", "not_null"},
		{"min", "", "min"},
		{"min", "0", "min 0"},
		{"", "expr x > 1", "expr x > 1"},
		{"in", "in_reference x", "in in_reference x"}, // a prefix is not the kind
	}
	for _, tc := range tests {
		if got := kindText(audit.RuleResult{Kind: tc.kind, Params: tc.params}); got != tc.want {
			t.Errorf("kindText(%q, %q) = %q, want %q", tc.kind, tc.params, got, tc.want)
		}
	}
}
