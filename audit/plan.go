package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/dqaudit/dqaudit/rules"
)

// DateLayout is the layout of --date and of {date} in paths.
const DateLayout = "2006-01-02"

// Plan is the list of files one scan reads, in the fixed order that
// positions and sample order refer to: by input, then by path.
type Plan struct {
	Date   string
	Files  []PlannedFile
	Errors []InputError // inputs whose patterns matched nothing
}

// PlannedFile is one file to read.
type PlannedFile struct {
	Input  string // the input's name in the config
	Format string // avro | kafka-log
	Path   string
	Size   int64
}

// InputError is an input-level problem that is not tied to reading one
// file, such as a pattern that matched no file.
type InputError struct {
	Input   string `json:"input"`
	Pattern string `json:"pattern"`
	Message string `json:"message"`
}

// ExpandDate replaces {date}, {year}, {month} and {day} in s.
func ExpandDate(s string, day time.Time) string {
	return strings.NewReplacer(
		"{date}", day.Format(DateLayout),
		"{year}", day.Format("2006"),
		"{month}", day.Format("01"),
		"{day}", day.Format("02"),
	).Replace(s)
}

// ParseDate reads a --date value.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--date %q: want YYYY-MM-DD", s)
	}
	return t, nil
}

// NewPlan expands the inputs' patterns for day. Relative patterns are taken
// relative to base (the config file's directory). A pattern that matches
// no file is an InputError in the plan, not a failure of NewPlan; NewPlan
// fails only on a malformed pattern or an unreadable directory.
func NewPlan(cfg *rules.Config, day time.Time, base string) (*Plan, error) {
	p := &Plan{Date: day.Format(DateLayout)}
	for _, in := range cfg.Inputs {
		seen := map[string]bool{}
		var paths []string
		for _, pat := range in.Paths {
			expanded := ExpandDate(pat, day)
			full := expanded
			if !filepath.IsAbs(full) {
				full = filepath.Join(base, full)
			}
			matches, err := doublestar.FilepathGlob(full, doublestar.WithFilesOnly(), doublestar.WithFailOnIOErrors())
			if err != nil {
				return nil, fmt.Errorf("input %q: pattern %q: %w", in.Name, expanded, err)
			}
			if len(matches) == 0 {
				p.Errors = append(p.Errors, InputError{Input: in.Name, Pattern: expanded, Message: "matched no file"})
			}
			for _, m := range matches {
				if !seen[m] {
					seen[m] = true
					paths = append(paths, m)
				}
			}
		}
		slices.Sort(paths)
		for _, path := range paths {
			st, err := os.Stat(path)
			if err != nil {
				return nil, fmt.Errorf("input %q: %w", in.Name, err)
			}
			p.Files = append(p.Files, PlannedFile{Input: in.Name, Format: in.Format, Path: path, Size: st.Size()})
		}
	}
	return p, nil
}

// Bytes returns the total size of the planned files.
func (p *Plan) Bytes() int64 {
	var n int64
	for _, f := range p.Files {
		n += f.Size
	}
	return n
}
