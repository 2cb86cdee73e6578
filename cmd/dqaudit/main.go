// Command dqaudit is the nightly data-quality gate for event logs: it reads
// one day's Avro and Kafka-log archive, checks it against YAML rules, writes
// HTML, Markdown and JSON reports and exits with a code a pipeline acts on.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
