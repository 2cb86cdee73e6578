package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/google/renameio/v2"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/store"
	"github.com/dqaudit/dqaudit/reports"
)

type reportWriter struct {
	reporter reports.Reporter
	file     string
	last     bool // report.json, which pipelines read: put in place last
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
		out = append(out, reportWriter{r, file, name == "json"})
	}
	return out, nil
}

// writeReports renders every report to a temporary file beside its target
// and renames them into place only when all rendered, so a run that fails
// or is killed leaves the previous reports whole. On object storage, where
// a set of objects cannot be replaced as one, every report is rendered in
// memory first and each is one upload, which replaces its object whole.
// Either way report.json, which pipelines read, is put in place last: once
// it is new, so are the others.
func writeReports(ctx context.Context, dir string, ws []reportWriter, res *audit.Result) ([]string, error) {
	ws = slices.Clone(ws)
	slices.SortStableFunc(ws, func(a, b reportWriter) int {
		switch {
		case a.last == b.last:
			return 0
		case a.last:
			return 1
		}
		return -1
	})
	if store.IsRemote(dir) {
		bufs := make([]bytes.Buffer, len(ws))
		for i, w := range ws {
			if err := w.reporter.Write(&bufs[i], res); err != nil {
				return nil, fmt.Errorf("%s: %w", store.Join(dir, w.file), err)
			}
		}
		var paths []string
		for i, w := range ws {
			path := store.Join(dir, w.file)
			if err := store.WriteAtomic(ctx, path, func(wr io.Writer) error { _, err := bufs[i].WriteTo(wr); return err }); err != nil {
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
		// Beside the target, never in $TMPDIR (renameio's choice when it is
		// on the same file system): a killed run's temp file must be where
		// the next run's RemoveStaleTemps looks.
		p, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o644), renameio.WithTempDir(dir))
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
