package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/dqaudit/dqaudit/audit/store"
)

// LockOptions are History.Lock's callbacks and timing.
type LockOptions struct {
	// Waiting is called once when another run holds the lock, with a
	// description of that run when the lock records one ("" otherwise).
	Waiting func(holder string)
	// TookOver is called when this run took over a stale lock on object
	// storage, with a description of the run that left it.
	TookOver func(holder string)
	// Warn is called when the lock cannot keep runs apart as it should:
	// an object store that ignores conditional writes or replaces, or
	// that refuses replaces conditional on a version (the lock then falls
	// back to checking its content before it writes).
	Warn func(msg string)
	// Lost is called, from another goroutine and at most once, when a
	// lock on object storage is no longer this run's: another run took
	// it over, or it could not be renewed for half of Stale. The run must
	// then stop without writing.
	Lost func(err error)
	// Stale is how long a waiting run watches a lock on object storage go
	// without renewal before it takes it for one a dead run left and takes
	// it over (default DefaultLockStale). The holder renews every Stale/6,
	// so one slow request never makes a live run's lock look stale; a
	// waiting run tries the lock every Stale/12 or every second, whichever
	// is sooner. Zero or less means the default.
	Stale time.Duration
}

// DefaultLockStale is LockOptions.Stale's default.
const DefaultLockStale = 3 * time.Minute

// timing returns how often a lock on object storage is tried while
// another run holds it (each try is one conditional upload), how often it
// is renewed, and when it is stale.
func (o LockOptions) timing() (poll, renew, stale time.Duration) {
	stale = o.Stale
	if stale <= 0 {
		stale = DefaultLockStale
	}
	return max(min(time.Second, stale/12), time.Millisecond), max(stale/6, time.Millisecond), stale
}

// Lock takes the history's lock, so that two runs on one history never
// interleave their reads and writes. It waits while another run holds it,
// until ctx ends; then it returns a *LockedError that wraps ctx.Err().
//
// A local history is locked with flock(2) on its ".lock" file, which the
// kernel releases when the process dies.
//
// On object storage, which has no such thing, the lock is a lease: the
// object ".lock", created with a conditional write that only one run can
// win, renewed every opts.Stale/6 and deleted by Unlock. It records the
// run's host, pid, start and last renewal, which a waiting run shows. A
// run killed with SIGKILL or a lost machine stops renewing it; a run that
// has watched it for opts.Stale without a renewal takes it over. Its own
// clock measures that time, so clocks that disagree between machines do
// not matter. Takeovers and renewals replace the lock object only if it is
// still the version read just before (store.ReplaceIf), so that of two
// runs taking over one stale lock only one wins, and a renewal never
// overwrites a lock another run took over in between. A run whose lock is
// taken over or cannot be renewed hears of it through opts.Lost, and
// Verify tells it before it writes.
func (h *History) Lock(ctx context.Context, opts LockOptions) (*HeldLock, error) {
	if store.IsRemote(h.dir) {
		return h.lockObject(ctx, opts)
	}
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	l := flock.New(filepath.Join(h.dir, ".lock"))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("history lock: %w", err)
	}
	if !ok {
		if opts.Waiting != nil {
			opts.Waiting("")
		}
		ok, err = l.TryLockContext(ctx, 250*time.Millisecond)
		if !ok {
			if ctx.Err() != nil {
				return nil, &LockedError{Dir: h.dir, Err: ctx.Err()}
			}
			return nil, fmt.Errorf("history lock: %w", cmpErr(err))
		}
	}
	return &HeldLock{unlock: l.Unlock}, nil
}

// HeldLock is a history lock that Lock took.
type HeldLock struct {
	unlock func() error
	verify func(ctx context.Context) error // nil for a local lock
}

// Unlock releases the lock. On object storage it deletes the lock object
// if it is still this run's, and works after the run's context has ended
// (SIGTERM).
func (l *HeldLock) Unlock() error { return l.unlock() }

// Verify returns a *LockLostError if the lock is no longer this run's,
// or the error that kept it from finding out. A run calls it just before
// it writes the history. A local lock is held as long as the process
// lives: Verify returns nil.
func (l *HeldLock) Verify(ctx context.Context) error {
	if l == nil || l.verify == nil {
		return nil
	}
	err := l.verify(ctx)
	if err != nil && !errors.As(err, new(*LockLostError)) {
		return fmt.Errorf("verify history lock: %w", err)
	}
	return err
}

// LockedError is the error of a Lock that gave up waiting.
type LockedError struct {
	Dir    string // the history
	Holder string // the run holding the lock, as its lock object records it
	Object string // the lock object on object storage, "" for a local history
	Err    error  // why waiting stopped: the context's error
}

func (e *LockedError) Error() string {
	s := "history " + e.Dir + " is locked by another dqaudit run"
	if e.Holder != "" {
		s += " (" + e.Holder + ")"
	}
	if e.Object != "" {
		s += "; if no run is using it, delete " + e.Object
	}
	return s
}

func (e *LockedError) Unwrap() error { return e.Err }

// LockLostError says a run no longer holds its lock on object storage.
type LockLostError struct {
	Object string // the lock object
	Holder string // the run that holds it now, "" if none or unknown
	Err    error  // why the lock could not be renewed, if that is the cause
}

func (e *LockLostError) Error() string {
	switch {
	case e.Err != nil:
		return fmt.Sprintf("lost the history lock %s: could not renew it: %v", e.Object, e.Err)
	case e.Holder != "":
		return fmt.Sprintf("lost the history lock %s: another run took it over (%s)", e.Object, e.Holder)
	}
	return fmt.Sprintf("lost the history lock %s: it was deleted", e.Object)
}

func (e *LockLostError) Unwrap() error { return e.Err }

func cmpErr(err error) error {
	if err != nil {
		return err
	}
	return errors.New("lock not acquired")
}
