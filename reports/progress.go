package reports

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dqaudit/dqaudit/audit"
)

// StartProgress redraws one status line on w while a scan runs: files
// done of total, bytes read of total, events per second and the time
// left. It redraws at most every interval (200ms when interval is not
// positive) with a carriage return, so w should be a terminal; the
// caller decides that. The returned stop clears the line and waits for
// the drawing goroutine to end; calling it again does nothing.
func StartProgress(w io.Writer, p *audit.Progress, interval time.Duration) (stop func()) {
	return startProgress(w, p, interval, time.Now)
}

func startProgress(w io.Writer, p *audit.Progress, interval time.Duration, now func() time.Time) (stop func()) {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := now()
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		width := 0 // of the line on screen, to blank it out
		for {
			select {
			case <-done:
				if width > 0 {
					fmt.Fprintf(w, "\r%s\r", strings.Repeat(" ", width))
				}
				return
			case <-t.C:
				line := progressLine(p, now().Sub(start))
				n := utf8.RuneCountInString(line)
				pad := ""
				if n < width {
					pad = strings.Repeat(" ", width-n)
				}
				fmt.Fprintf(w, "\r%s%s", line, pad)
				width = max(width, n)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}

// progressLine is the status line, at most about 80 columns:
//
//	scanning 12/40 files · 1.2 GiB/3.4 GiB 35% · 1.2M events/s · ETA 1m05s
func progressLine(p *audit.Progress, elapsed time.Duration) string {
	files, total := p.FilesDone.Load(), int64(p.FilesTotal)
	read, size := p.BytesRead.Load(), p.BytesTotal
	events := p.Events.Load()

	var b strings.Builder
	fmt.Fprintf(&b, "scanning %d/%d files · %s/%s", files, total, formatBytes(read), formatBytes(size))
	if size > 0 {
		fmt.Fprintf(&b, " %d%%", min(100, read*100/size))
	}
	secs := elapsed.Seconds()
	if secs > 0 {
		b.WriteString(" · " + formatCompact(int64(float64(events)/secs)) + " events/s")
	}
	b.WriteString(" · ETA ")
	if read > 0 && size > read && secs > 0 {
		left := time.Duration(float64(size-read) / (float64(read) / secs) * float64(time.Second))
		b.WriteString(formatETA(left))
	} else if size > 0 && read >= size {
		b.WriteString("0s")
	} else {
		b.WriteString("–")
	}
	return b.String()
}

// formatETA writes a time left in whole seconds: 45s, 3m05s, 2h10m.
func formatETA(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s/60%60)
}
