package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/dqaudit/dqaudit/audit"
)

// TestAliasNamesAConfiguredEventType: a producer renamed its record and
// kept the old name as an alias. The old name is an event type of the
// config's events:, so its rules go on checking the records, and the
// scan reads the config's types, not only the built-in ones.
func TestAliasNamesAConfiguredEventType(t *testing.T) {
	dir := t.TempDir()
	const schema = `{"type":"record","name":"PlaybackFault","namespace":"com.x","aliases":["PlaybackError"],
		"fields":[{"name":"time","type":"string"},{"name":"code","type":"int"}]}`
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, err := goavro.NewOCFWriter(goavro.OCFConfig{W: &b, Codec: codec})
	if err != nil {
		t.Fatal(err)
	}
	var recs []any
	for _, code := range []int32{3, -1, 7} {
		recs = append(recs, map[string]any{"time": sampleDate + "T10:00:00", "code": code})
	}
	if err := w.Append(recs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "faults.avro"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`version: 1
events: [PlaybackError]
inputs:
  - {name: faults, format: avro, paths: ["faults.avro"]}
rules:
  - {name: code-not-negative, event: PlaybackError, field: code, min: 0}
report:
  formats: [json]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI(t, "scan", "--config", cfg, "--date", sampleDate, "--out", out)
	if code != int(audit.ExitFail) {
		t.Fatalf("exit %d, want %d: %s%s", code, audit.ExitFail, stdout, stderr)
	}
	rep, _ := readReport(t, out)
	if len(rep.Rules) != 1 || rep.Rules[0].Checked != 3 || rep.Rules[0].Failed != 1 {
		t.Errorf("rules %+v; want code-not-negative to check 3 records and fail 1", rep.Rules)
	}
}
