package reports

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/dqaudit/dqaudit/internal/testutil"
	"github.com/dqaudit/dqaudit/internal/testutil/fixture"
)

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := (JSON{}).Write(&b, fixture.Result()); err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "testdata/golden/report.json", b.Bytes())

	var doc struct {
		SchemaVersion int    `json:"schema_version"`
		Status        string `json:"status"`
		ExitCode      int    `json:"exit_code"`
		Rules         []struct {
			Name string `json:"name"`
		} `json:"rules"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("report.json is not JSON: %v", err)
	}
	if doc.SchemaVersion != SchemaVersion || doc.Status != "error" || doc.ExitCode != 3 || len(doc.Rules) != 8 {
		t.Errorf("report.json: schema %d, status %q, exit %d, %d rules; want %d, error, 3, 8",
			doc.SchemaVersion, doc.Status, doc.ExitCode, len(doc.Rules), SchemaVersion)
	}

	var again bytes.Buffer
	if err := (JSON{}).Write(&again, fixture.Result()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), again.Bytes()) {
		t.Error("two renders of the same Result differ")
	}
}
