package audit

import (
	"strings"
	"testing"

	"github.com/dqaudit/dqaudit/rules"
)

// TestSampleTextTellsTypesApart: a string that spells a number, a boolean
// or null is quoted in the samples of checks that tell types apart, so
// that "42" failing in: [42] does not read as the number 42.
func TestSampleTextTellsTypesApart(t *testing.T) {
	for _, tc := range []struct {
		v    rules.Value
		kind rules.RuleKind
		want string
	}{
		{rules.Str("42"), rules.RuleIn, `"42"`},
		{rules.Int(42), rules.RuleIn, `42`},
		{rules.Str("abc"), rules.RuleIn, `abc`},
		{rules.Str("true"), rules.RuleNotIn, `"true"`},
		{rules.Str("null"), rules.RuleBetween, `"null"`},
		{rules.Str("1e999"), rules.RuleMax, `"1e999"`},
		{rules.Str("-3.5"), rules.RuleExpr, `"-3.5"`},
		{rules.Str("42"), rules.RuleInReference, `42`}, // matched as text either way
		{rules.Str("42"), rules.RulePattern, `42`},
		{rules.Null(), rules.RuleNotNull, `null`},
	} {
		if got := sampleText(tc.v, tc.kind); got != tc.want {
			t.Errorf("sampleText(%v %q, %v) = %s, want %s", tc.v.Kind, tc.v.String(), tc.kind, got, tc.want)
		}
	}
}

// TestSchemasSeenTellsLogicalTypesApart: the fingerprint is of the
// canonical form, which drops logical types, so two files whose schemas
// differ only in a decimal's scale share it; they are still listed apart.
func TestSchemasSeenTellsLogicalTypesApart(t *testing.T) {
	schema := func(priceType string) FileInfo {
		return FileInfo{Schemas: []WriterSchema{{Event: "Order", Fingerprint: "0123456789abcdef",
			Fields: []rules.Field{{Name: "id", Type: "long"}, {Name: "price", Type: priceType}}}}}
	}
	cents := `{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}`
	plan := &Plan{Files: []PlannedFile{{Path: "a.avro"}, {Path: "b.avro"}, {Path: "c.avro"}}}
	seen := schemasSeen(plan, []FileInfo{schema(cents), schema(`{"type":"bytes","logicalType":"decimal","precision":12,"scale":4}`), schema(cents)})["Order"]
	if len(seen) != 2 || len(seen[0].Files) != 2 || len(seen[1].Files) != 1 || seen[1].Files[0] != "b.avro" {
		t.Errorf("schemas seen: %+v; want a.avro and c.avro under one, b.avro under another", seen)
	}
}

// TestCutTextMarksTheCut: a value longer than MaxSampleText keeps its
// first MaxSampleText bytes, never half a rune, and says it was cut, so
// that a 5000-byte value failing pattern: '.{1,200}' does not show as a
// value that would pass.
func TestCutTextMarksTheCut(t *testing.T) {
	long := strings.Repeat("m", 5000)
	for _, tc := range []struct{ name, in, want string }{
		{"at the bound", long[:MaxSampleText], long[:MaxSampleText]},
		{"one over", long[:MaxSampleText+1], long[:MaxSampleText] + "…"},
		{"far over", long, long[:MaxSampleText] + "…"},
		{"never half a rune", long[:MaxSampleText-1] + "é", long[:MaxSampleText-1] + "…"}, // é is 2 bytes: cut before it
		{"invalid UTF-8", "bad\xff", "bad\uFFFD"},
		// A run of stray continuation bytes is no rune: cut at the bound.
		{"invalid run at the bound", "ab" + strings.Repeat("\x80", MaxSampleText), "ab\uFFFD…"}, // one U+FFFD a run
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cutText([]byte(tc.in)); got != tc.want {
				t.Errorf("cutText(%d bytes) = %q (%d bytes), want %q", len(tc.in), got, len(got), tc.want)
			}
		})
	}
}
