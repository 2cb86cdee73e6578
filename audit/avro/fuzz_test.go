package avro

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/dqaudit/dqaudit/audit"
)

// heapPeak samples the bytes of live and dead heap objects while f runs
// and returns the highest rise seen, a cheap way to catch one huge
// allocation.
func heapPeak(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	var peak uint64
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		for {
			if v := read(); v > base && v-base > peak {
				peak = v - base
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	return peak
}

// FuzzAvroFile reads arbitrary bytes as a file. Whatever the input, Read
// must return (no hang), not panic (nor recover a panic into its error),
// keep its heap small, and report errors as *audit.ReadError.
func FuzzAvroFile(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.avro"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, codec := range allCodecs {
		f.Add(writeFile(f, watchSchema, codec, 3, watchRecords(7)))
		f.Add(writeFile(f, everythingSchema, codec, 1, everythingRecords()))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &Reader{Workers: 2, MaxBlockBytes: 1 << 20}
		var err error
		finished := make(chan struct{})
		peak := heapPeak(func() {
			go func() {
				defer close(finished)
				_, err = r.Read(context.Background(), bytes.NewReader(data), 0, func() audit.Sink {
					return funcSink{func(e *audit.Event) {
						if len(e.Values) != len(e.Shape().Fields()) {
							panic("values do not match the shape")
						}
					}}
				})
			}()
			select {
			case <-finished:
			case <-time.After(20 * time.Second):
				t.Fatal("Read did not return within 20s")
			}
		})
		if err != nil {
			var re *audit.ReadError
			if !errors.As(err, &re) {
				t.Fatalf("error %T is not a *audit.ReadError: %v", err, err)
			}
			if errors.As(err, new(recovered)) {
				t.Fatalf("recovered a panic: %v", err)
			}
		}
		if peak > 256<<20 {
			t.Fatalf("heap rose by %d MiB", peak>>20)
		}
	})
}
