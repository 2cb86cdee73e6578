// Command dqaudit is the nightly data-quality gate for event logs: it reads
// one day's Avro and Kafka-log archive, checks it against YAML rules, writes
// HTML, Markdown and JSON reports and exits with a code a pipeline acts on.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	tuneGC()
	// A closed stdout or stderr (dqaudit scan | head, a log shipper that
	// went away) must not kill the run with SIGPIPE before its reports
	// are written: writes fail with EPIPE instead, and the exit code is
	// the documented one.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// tuneGC trades memory for speed in a batch run: the live heap of a scan
// is small (bounded buffers, sketches), so collecting at 5x instead of 2x
// it measured 20-30% faster on Avro, with a soft limit that brings the
// collector back before a large reference set could double. GOGC and
// GOMEMLIMIT, when set, win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}
