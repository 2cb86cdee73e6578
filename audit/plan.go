package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dqaudit/dqaudit/audit/store"
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
	// Patterns are each input's patterns as expanded for the day, by
	// input name, for messages about the input as a whole.
	Patterns map[string][]string
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
	Input   string
	Format  string
	Pattern string
	Message string
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
	var pe *time.ParseError
	switch {
	case errors.As(err, &pe) && pe.Message != "":
		return time.Time{}, fmt.Errorf("--date %q: not a date (%s)", s, strings.TrimPrefix(pe.Message, ": "))
	case err != nil:
		return time.Time{}, fmt.Errorf("--date %q: want YYYY-MM-DD", s)
	}
	return t, nil
}

// NewPlan expands the inputs' patterns for day. Relative patterns are taken
// relative to base (the config file's directory); URL patterns list their
// bucket (see package store). A pattern that matches no file, or a
// directory, file or bucket that cannot be listed, is an InputError in the
// plan (exit 3, reports still written). A file that two inputs or two
// paths match (a link and its target) is read once, by the first.
// NewPlan fails only on a malformed pattern.
func NewPlan(ctx context.Context, cfg *rules.Config, day time.Time, base string) (*Plan, error) {
	p := &Plan{Date: day.Format(DateLayout), Patterns: map[string][]string{}}
	seen := map[string]bool{} // paths
	seenID := map[any]bool{}  // local files, whatever path reached them
	for _, in := range cfg.Inputs {
		var files []store.File
		for _, pat := range in.Paths {
			expanded := ExpandDate(pat, day)
			p.Patterns[in.Name] = append(p.Patterns[in.Name], expanded)
			full := store.ResolvePattern(base, expanded)
			if !store.ValidPattern(full) {
				return nil, fmt.Errorf("input %q: bad pattern %q", in.Name, expanded)
			}
			matches, err := store.Glob(ctx, full)
			switch {
			case err != nil:
				p.Errors = append(p.Errors, InputError{Input: in.Name, Format: in.Format, Pattern: expanded, Message: err.Error()})
				continue
			case len(matches) == 0:
				p.Errors = append(p.Errors, InputError{Input: in.Name, Format: in.Format, Pattern: expanded, Message: "matched no file"})
			}
			for _, m := range matches {
				if seen[m.Path] || m.ID != nil && seenID[m.ID] {
					continue
				}
				seen[m.Path] = true
				if m.ID != nil {
					seenID[m.ID] = true
				}
				files = append(files, m)
			}
		}
		slices.SortFunc(files, func(a, b store.File) int { return strings.Compare(a.Path, b.Path) })
		for _, f := range files {
			if f.Err != nil {
				p.Errors = append(p.Errors, InputError{Input: in.Name, Format: in.Format, Pattern: f.Path, Message: f.Err.Error()})
				continue
			}
			p.Files = append(p.Files, PlannedFile{Input: in.Name, Format: in.Format, Path: f.Path, Size: f.Size})
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
