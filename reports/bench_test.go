package reports

import (
	"io"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/internal/testutil/fixture"
)

// BenchmarkWrite renders the golden fixture's reports: what a run spends
// after the scan, per format.
func BenchmarkWrite(b *testing.B) {
	r := fixture.Result()
	for _, f := range []struct {
		name string
		rep  interface {
			Write(io.Writer, *audit.Result) error
		}
	}{{"html", HTML{}}, {"markdown", Markdown{}}, {"json", JSON{}}} {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := f.rep.Write(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
