// Package reports renders an audit.Result as JSON, Markdown, HTML or a
// terminal summary. Every renderer reads the same Result and writes
// deterministic output: the same result gives the same bytes.
package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/dqaudit/dqaudit/audit"
)

// Reporter writes one report format. Opening and closing files is the
// caller's job.
type Reporter interface {
	Write(w io.Writer, r *audit.Result) error
}

type format struct {
	name, file string
	make       func() Reporter
}

// formats lists the report formats New accepts, with their file names.
func formats() []format {
	return []format{
		{"html", "report.html", func() Reporter { return &HTML{} }},
		{"json", "report.json", func() Reporter { return &JSON{} }},
		{"markdown", "report.md", func() Reporter { return &Markdown{} }},
	}
}

// Names returns the valid format names, sorted.
func Names() []string {
	var out []string
	for _, f := range formats() {
		out = append(out, f.name)
	}
	return out
}

// New returns the reporter for format and the file name it writes to.
func New(format string) (Reporter, string, error) {
	for _, f := range formats() {
		if f.name == format {
			return f.make(), f.file, nil
		}
	}
	return nil, "", fmt.Errorf("unknown report format %q (valid: %s)", format, strings.Join(Names(), ", "))
}
