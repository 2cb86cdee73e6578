package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/store"
)

// runMerge merges the partial results of a sharded scan, then runs drift,
// the gate and the reports as scan does.
func runMerge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f scanFlags
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addReportFlags(fs, &f)
	// merge has no default day: the shards' day must be named.
	fs.Lookup("date").Usage = "day the shards scanned, YYYY-MM-DD (required)"
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dqaudit merge --config FILE --date YYYY-MM-DD [flags] [--] PARTIAL...\n\nPARTIAL are files or globs written by dqaudit scan --shard i/n --partial;\nafter --, one may start with -.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s\n", audit.ExitCodeTable)
	}
	if ok, code := parseFlags(fs, args, true, stderr); !ok {
		return code
	}
	f.partials = fs.Args()
	for _, p := range f.partials {
		if strings.HasPrefix(p, "-") && !flagsEnded(fs, args) {
			// The flag package stops at the first PARTIAL: a flag after
			// one would otherwise read as a partial file, or as missing.
			fmt.Fprintf(stderr, "dqaudit merge: %s comes after a PARTIAL file; flags go before them\n", p)
			return int(audit.ExitUsage)
		}
	}
	code, err := merge(ctx, f, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "dqaudit merge: %v\n", err)
	}
	return int(code)
}

// flagsEnded reports whether fs, having parsed args, stopped at "--",
// the conventional end of flags, after which every argument is an
// operand, one that starts with - too. It walks the parsed flags as the
// flag package does, so that a "--" taken as a flag's value (--config --)
// is not mistaken for the end.
func flagsEnded(fs *flag.FlagSet, args []string) bool {
	parsed := args[:len(args)-fs.NArg()]
	for i := 0; i < len(parsed); i++ {
		if parsed[i] == "--" {
			return true
		}
		name := strings.TrimLeft(parsed[i], "-")
		if strings.Contains(name, "=") {
			continue
		}
		if fl := fs.Lookup(name); fl != nil {
			if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				i++ // the next argument is its value
			}
		}
	}
	return false
}

func merge(ctx context.Context, f scanFlags, stdout, stderr io.Writer) (audit.ExitCode, error) {
	started := time.Now()
	if f.date == "" {
		// A merge of yesterday's shards after midnight would pick the
		// wrong day: the date must be said.
		return audit.ExitUsage, errors.New("--date is required")
	}
	paths, err := partialPaths(ctx, f.partials)
	if err != nil {
		return audit.ExitUsage, err
	}
	j, code, err := prepare(ctx, f)
	if err != nil {
		return code, err
	}
	part, err := j.mergeParts(ctx, paths)
	if err != nil {
		if ctx.Err() != nil {
			return audit.ExitInterrupted, errInterrupted
		}
		return audit.ExitUsage, err
	}
	defer part.Close() // Result consumes it; this covers a run that stops before
	ctx, unlock, code, err := j.lockHistory(ctx, stderr)
	if err != nil {
		return code, err
	}
	defer unlock()
	res, err := part.Result(ctx, j.plan, j.book)
	if err != nil {
		if ctx.Err() != nil {
			return stopped(ctx, "")
		}
		return scanFailed(err)
	}
	// The reports' run is the merge's own: the shards ran before it.
	res.StartedAt, res.Duration = started, time.Since(started)
	return j.finish(ctx, res, stdout, stderr)
}

// checkPart refuses the partial at path unless it belongs to this merge:
// the same config, date and archive, as many shards as the others (shards,
// or -1 for the first), and a shard not seen before.
func (j *job) checkPart(path string, meta audit.PartialMeta, shards int, seen map[int]string) error {
	want := j.meta(meta.Shard, meta.Shards)
	switch {
	case meta.ConfigHash != want.ConfigHash:
		return fmt.Errorf("%s: written with another config than %s", path, j.f.config)
	case meta.Date != want.Date:
		return fmt.Errorf("%s: is for %s, not %s", path, meta.Date, want.Date)
	case meta.PlanHash != want.PlanHash:
		return fmt.Errorf("%s: its shard saw other files for %s than this merge does", path, meta.Date)
	case shards >= 0 && meta.Shards != shards:
		return fmt.Errorf("%s: is shard %d of %d, the others are of %d", path, meta.Shard, meta.Shards, shards)
	}
	if first, dup := seen[meta.Shard]; dup {
		return fmt.Errorf("%s: shard %d/%d is also in %s", path, meta.Shard, meta.Shards, first)
	}
	return nil
}

// partialPaths expands the arguments' globs, in order, without repeats.
func partialPaths(ctx context.Context, args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, errors.New("no partial files given")
	}
	var paths []string
	for _, a := range args {
		matches, err := globPartials(ctx, a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("%s: no such partial file", a)
		}
		for _, m := range matches {
			if !slices.Contains(paths, m) {
				paths = append(paths, m)
			}
		}
	}
	return paths, nil
}

// globPartials expands one PARTIAL argument: a local glob as
// path/filepath.Glob reads it, or an object-storage pattern.
func globPartials(ctx context.Context, pattern string) ([]string, error) {
	if !store.IsRemote(pattern) {
		return filepath.Glob(pattern)
	}
	files, err := store.Glob(ctx, pattern)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	return paths, nil
}

// mergeParts reads the partials, checks that they are exactly the shards
// 0..n-1 of this config, date and archive, and merges them.
func (j *job) mergeParts(ctx context.Context, paths []string) (_ *audit.Part, err error) {
	var total *audit.Part
	defer func() {
		if err != nil && total != nil {
			total.Close() // its keys of unique rules may be in temporary files
		}
	}()
	seen := map[int]string{}
	shards := -1
	for _, path := range paths {
		file, _, err := store.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		var refused error // the partial is another run's: said as such
		part, meta, err := audit.DecodePart(file, j.plan, j.book, j.options(nil), func(meta audit.PartialMeta) error {
			refused = j.checkPart(path, meta, shards, seen)
			return refused
		})
		file.Close()
		switch {
		case refused != nil:
			return nil, refused
		case err != nil:
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		shards = meta.Shards
		seen[meta.Shard] = path
		if total == nil {
			total = part
		} else if err := total.Merge(part); err != nil {
			part.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	var missing []string
	for i := range shards {
		if _, ok := seen[i]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", i, shards))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing shard(s) %s", strings.Join(missing, ", "))
	}
	return total, nil
}
