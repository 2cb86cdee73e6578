package audit

import (
	"testing"
	"time"
)

// TestLockWatchTakesTheLongerStale: a waiting run with a short
// --lock-stale must not take the lock of a holder that renews on its own,
// longer, schedule; a record without stale_ms (an older version) is
// judged by the waiter's own.
func TestLockWatchTakesTheLongerStale(t *testing.T) {
	t0 := time.Date(2024, 3, 19, 2, 15, 0, 0, time.UTC)
	w := lockWatch{stale: 2 * time.Second}
	held := lockRecord{Token: "a", Renewed: t0, StaleMS: (3 * time.Minute).Milliseconds()}
	if w.see(held, t0) {
		t.Fatal("stale at first sight")
	}
	if w.see(held, t0.Add(3*time.Second)) {
		t.Error("stale after 3s, although the holder renews within its 3m")
	}
	if !w.see(held, t0.Add(3*time.Minute)) {
		t.Error("not stale after the holder's 3m without a renewal")
	}
	w = lockWatch{stale: 2 * time.Second}
	old := lockRecord{Token: "b", Renewed: t0}
	w.see(old, t0)
	if !w.see(old, t0.Add(2*time.Second)) {
		t.Error("a record without stale_ms is not stale after the waiter's 2s")
	}
}
