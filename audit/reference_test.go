package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/avro"
	"github.com/dqaudit/dqaudit/rules"
)

func TestLoadReferencesFromCSVAndAvroField(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "users.csv"), []byte("user_id,name\n7,a\n8,b\n"), 0o644)
	var buf strings.Builder
	w, err := avro.NewWriter(&buf, `{"type":"record","name":"User","fields":[{"name":"id","type":"string"},{"name":"note","type":["null","string"]}]}`, "deflate", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"u1", "u2", "u3"} {
		if err := w.Append(map[string]any{"id": id, "note": nil}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	os.WriteFile(filepath.Join(dir, "users.avro"), []byte(buf.String()), 0o644)

	cfg := &rules.Config{References: []rules.Reference{
		{Name: "csv", Path: "users.csv", Column: "user_id"},
		{Name: "avro", Path: "users.avro", Field: "id"},
	}}
	sets, err := audit.LoadReferences(context.Background(), cfg, dir, time.Time{}, map[string]audit.Reader{"avro": avro.New()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		set  string
		v    rules.Value
		want bool
	}{
		{"csv", rules.Str("7"), true},
		{"csv", rules.Int(8), true},
		{"csv", rules.Str("9"), false},
		{"avro", rules.Str("u2"), true},
		{"avro", rules.Str("u4"), false},
	}
	for _, tc := range tests {
		if got := sets[tc.set].Has(tc.v); got != tc.want {
			t.Errorf("%s.Has(%v) = %v, want %v", tc.set, tc.v, got, tc.want)
		}
	}
	if n := sets["avro"].Len(); n != 3 {
		t.Errorf("avro set has %d ids, want 3", n)
	}

	cfg.References = []rules.Reference{{Name: "bad", Path: "users.avro", Field: "userId"}}
	if _, err := audit.LoadReferences(context.Background(), cfg, dir, time.Time{}, map[string]audit.Reader{"avro": avro.New()}); err == nil || !strings.Contains(err.Error(), `no record has field "userId"`) {
		t.Errorf("missing field: %v; want an error naming it", err)
	}
}

// TestAvroReferenceWithoutRecords: a header-only .avro export is named as
// having no records, not as lacking the field its schema has.
func TestAvroReferenceWithoutRecords(t *testing.T) {
	dir := t.TempDir()
	var buf strings.Builder
	w, err := avro.NewWriter(&buf, `{"type":"record","name":"User","fields":[{"name":"id","type":"string"}]}`, "deflate", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "users-empty.avro")
	if err := os.WriteFile(path, []byte(buf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"id", "userId"} {
		cfg := &rules.Config{File: "config.yaml", References: []rules.Reference{
			{Name: "users", Path: "users-empty.avro", Field: field, Pos: rules.Pos{Line: 4, Column: 5}},
		}}
		_, err := audit.LoadReferences(context.Background(), cfg, dir, time.Time{}, map[string]audit.Reader{"avro": avro.New()})
		want := `config.yaml:4:5: reference "users": ` + path + `: the file has no records`
		if err == nil || err.Error() != want {
			t.Errorf("field %s: got %v, want %s", field, err, want)
		}
	}
}
