package audit_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/dqaudit/dqaudit/audit"
	"github.com/dqaudit/dqaudit/audit/avro"
	"github.com/dqaudit/dqaudit/audit/kafkalog"
)

// FuzzDecodePart feeds DecodePart mutations of real partial files, the
// shards of a small generated day with two unique rules: partials come
// from other machines and object storage, and a damaged one must be
// refused with an error, never panic or be merged into counts. What it
// accepts must turn into a result.
func FuzzDecodePart(f *testing.F) {
	// Spills go to $TMPDIR and are unlinked at once.
	plan, book := uniqueDay(f, tinyDay(f))
	opts := audit.Options{
		RuleSamples:  3,
		UniqueMemory: 64 * 56, // buffers of a few keys: decoding spills
		Readers:      map[string]audit.Reader{"avro": avro.New(), "kafka-log": kafkalog.New(kafkalog.Options{})},
	}
	ctx := context.Background()
	const shards = 2
	for i := range shards {
		part, err := audit.ScanPart(ctx, plan, book, opts, plan.Shard(i, shards))
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := part.Encode(ctx, &buf, audit.PartialMeta{Date: plan.Date, Shard: i, Shards: shards}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		part, _, err := audit.DecodePart(bytes.NewReader(data), plan, book, opts, nil)
		if err != nil {
			return
		}
		if _, err := part.Result(context.Background(), plan, book); err != nil {
			t.Fatalf("a partial DecodePart accepted gives no result: %v", err)
		}
	})
}
