package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/store"
	"github.com/dqaudit/dqaudit/reports"
)

type reportWriter struct {
	reporter reports.Reporter
	file     string
}

func reportWriters(formats []string) ([]reportWriter, error) {
	if len(formats) == 0 {
		formats = reports.Names()
	}
	var out []reportWriter
	seen := map[string]bool{}
	for _, name := range formats {
		if seen[name] {
			continue
		}
		seen[name] = true
		r, file, err := reports.New(name)
		if err != nil {
			return nil, err
		}
		out = append(out, reportWriter{r, file})
	}
	return out, nil
}

// writeReports renders every report to a temporary file beside its target
// and renames them into place only when all rendered, so a run that fails
// or is killed leaves the previous reports whole. On object storage each
// report is one upload, which replaces its object whole; the set is not
// replaced as one.
func writeReports(ctx context.Context, dir string, ws []reportWriter, res *audit.Result) ([]string, error) {
	if store.IsRemote(dir) {
		var paths []string
		for _, w := range ws {
			path := store.Join(dir, w.file)
			if err := store.WriteAtomic(ctx, path, func(wr io.Writer) error { return w.reporter.Write(wr, res) }); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			paths = append(paths, path)
		}
		return paths, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	audit.RemoveStaleTemps(dir)
	var pending []*renameio.PendingFile
	defer func() {
		for _, p := range pending {
			p.Cleanup() // no-op for files already renamed
		}
	}()
	var paths []string
	for _, w := range ws {
		path := filepath.Join(dir, w.file)
		p, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o644))
		if err != nil {
			return nil, err
		}
		pending = append(pending, p)
		bw := bufio.NewWriterSize(p, 64<<10)
		if err := w.reporter.Write(bw, res); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := bw.Flush(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		paths = append(paths, path)
	}
	for i, p := range pending {
		if err := p.CloseAtomicallyReplace(); err != nil {
			return nil, fmt.Errorf("%s: %w", paths[i], err)
		}
	}
	return paths, nil
}
