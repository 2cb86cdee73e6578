package audit

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
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

// lockRecord is the content of a lock object.
type lockRecord struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	// Renewed is when the holder last renewed the lock, by its clock. A
	// waiting run only compares it with what it read before; a record
	// without it comes from a version that did not renew, and is never
	// taken for stale.
	Renewed time.Time `json:"renewed,omitzero"`
	Token   string    `json:"token"` // tells this run's lock from a later one
}

func (r lockRecord) String() string {
	s := fmt.Sprintf("host %s, pid %d, since %s", r.Host, r.PID, r.Started.UTC().Format(time.RFC3339))
	if !r.Renewed.IsZero() {
		s += ", renewed " + r.Renewed.UTC().Format(time.RFC3339)
	}
	return s
}

// readLock reads the lock object p, and the version of the object it read
// for store.ReplaceIf ("" if the store gives none). It returns ok false
// when p does not exist or holds no record.
func readLock(ctx context.Context, p string) (r lockRecord, version string, ok bool, err error) {
	b, version, err := store.ReadVersioned(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return r, "", false, nil
	}
	if err != nil {
		return r, "", false, err
	}
	if json.Unmarshal(b, &r) != nil || r.Host == "" && r.PID == 0 && r.Token == "" {
		return lockRecord{}, "", false, nil
	}
	return r, version, true, nil
}

func (h *History) lockObject(ctx context.Context, opts LockOptions) (*HeldLock, error) {
	poll, renew, stale := opts.timing()
	p := store.Join(h.dir, ".lock")
	host, _ := os.Hostname()
	me := lockRecord{Host: host, PID: os.Getpid(), Started: time.Now().UTC().Truncate(time.Second), Token: rand.Text()}
	// noVersions is set when the store gives versions but writes
	// conditional on them cannot be relied on (see probe): renewals then
	// write as on a store without versions.
	var noVersions atomic.Bool
	// held reads the lock object and returns a *LockLostError unless it
	// holds this run's token, else the version it read. Every request on
	// the lock gets at most one renewal period, so that a request that
	// hangs cannot keep a run from finding out in time that it lost the
	// lock.
	held := func(ctx context.Context) (version string, err error) {
		ctx, cancel := context.WithTimeout(ctx, renew)
		defer cancel()
		r, version, ok, err := readLock(ctx, p)
		switch {
		case err != nil:
			return "", err
		case !ok:
			return "", &LockLostError{Object: p}
		case r.Token != me.Token:
			return "", &LockLostError{Object: p, Holder: r.String()}
		case noVersions.Load():
			return "", nil
		}
		return version, nil
	}
	// mine is held for callers other than the renewals, which hold mu
	// while they read and write the object, so that this run never reads
	// its own lock mid-write.
	var mu sync.Mutex
	mine := func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		return held(ctx)
	}
	verify := func(ctx context.Context) error { _, err := mine(ctx); return err }
	release := func() error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		// The lock is deleted only at the version checked, so that a run
		// that took it over in between keeps it; a late renewal of this
		// run's that landed in between is checked again.
		for range 3 {
			var gone *LockLostError
			version, err := mine(ctx)
			switch {
			case errors.As(err, &gone) && gone.Holder == "":
				return nil // already gone
			case gone != nil:
				return fmt.Errorf("release history lock: %s was replaced by another run's lock; left as it is", p)
			case err != nil:
				return fmt.Errorf("release history lock: %w", err)
			}
			if version != "" {
				removed, err := store.RemoveIf(ctx, p, version)
				switch {
				case removed:
					return nil
				case err == nil:
					continue // changed since the check
				case !store.ConditionRefused(err):
					return fmt.Errorf("release history lock: %w", err)
				}
				// A store that refuses conditional deletes: as on one
				// without versions.
			}
			if err := store.Remove(ctx, p); err != nil {
				return fmt.Errorf("release history lock: %w", err)
			}
			return nil
		}
		return fmt.Errorf("release history lock: %s kept changing while it was released; left as it is", p)
	}
	w := lockWatch{stale: stale}
	// timed gives one request on the lock at most one renewal period.
	timed := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, renew) }
	// won starts renewing the lock that this run wrote as b, in the try
	// that began then, and checks that the store keeps to the conditions
	// the lock relies on.
	won := func(b []byte, began time.Time) *HeldLock {
		if w.tookOver != "" && opts.TookOver != nil {
			opts.TookOver(w.tookOver)
		}
		stop := renewLock(ctx, p, me, began, renew, stale, &mu, held, opts.Lost)
		cctx, cancel := timed()
		mu.Lock()
		if probe(cctx, p, b, held, opts.Warn) != "" {
			noVersions.Store(true)
		}
		mu.Unlock()
		cancel()
		return &HeldLock{
			unlock: func() error { stop(); return release() },
			verify: verify,
		}
	}
	var began time.Time
	tried := "" // the stale lock a takeover of which ended in an error
	for failures := 0; ; {
		// The record says when this try began: a run that waited long
		// must not look as if it had held the lock all along.
		began = time.Now()
		me.Renewed = began.UTC().Truncate(time.Millisecond)
		b, err := json.Marshal(me)
		if err != nil {
			return nil, fmt.Errorf("history lock: %w", err)
		}
		cctx, cancel := timed()
		ok, err := store.CreateNew(cctx, p, b)
		cancel()
		switch {
		case err != nil:
			// The upload may have landed before the error (a timeout, a
			// cancel): do not leave this run's lock behind.
			release()
			if ctx.Err() != nil {
				return nil, &LockedError{Dir: h.dir, Holder: w.holder(), Object: p, Err: ctx.Err()}
			}
			// A store that fails a few tries in a row is down or refuses
			// this run (permissions): say so rather than wait.
			if failures++; failures == maxLockFailures {
				return nil, fmt.Errorf("history lock: %w", err)
			}
		case ok:
			return won(b, began), nil
		default:
			failures = 0
			w.tookOver = "" // another waiting run won the lock this run freed
			// A read, removal or replace that fails is tried again at the
			// next poll; a stale lock removed is tried for at once.
			rctx, cancel := timed()
			r, version, ok, err := readLock(rctx, p)
			if err != nil && rctx.Err() == nil {
				// Some stores fail a read that meets the holder's renewal.
				r, version, ok, err = readLock(rctx, p)
			}
			switch {
			case err == nil && ok && r.Token == me.Token:
				// A create or replace of this run's was answered as lost
				// but landed: a client that retried it after losing the
				// first answer got the failed condition of its own write.
				// The lock is this run's, but its record is from an
				// earlier try, which a waiting run may have watched for a
				// while: it is renewed with this try's time before the
				// run takes it, so that renewals count from a write of
				// this try.
				if renewed, _ := rewrite(rctx, p, b, version); renewed {
					if w.tookOver == "" {
						w.tookOver = tried
					}
					cancel()
					return won(b, began), nil
				}
			case err != nil || !ok || !w.see(r, time.Now()):
			case version == "":
				// A store that gives no versions: remove the stale lock
				// and create this run's at once (see takeOver).
				if takeOver(rctx, p, r) == nil {
					w.tookOver = r.String()
					cancel()
					continue
				}
			default:
				// One replace, conditional on the version of the stale
				// lock: of two runs that take it for stale at once, the
				// first replaces it and the second's condition fails.
				took, err := store.ReplaceIf(rctx, p, b, version)
				switch {
				case took:
					w.tookOver = r.String()
					cancel()
					return won(b, began), nil
				case store.ConditionRefused(err):
					// A store that refuses the condition itself (an S3
					// clone without If-Match): remove the stale lock as
					// on one without versions.
					cancel()
					rctx, cancel = timed()
					if takeOver(rctx, p, r) == nil {
						w.tookOver = r.String()
						cancel()
						continue
					}
				case err != nil:
					// The replace may have landed (a timeout): if it did,
					// the next read finds this run's token.
					tried = r.String()
				}
			}
			cancel()
		}
		if !w.waited && opts.Waiting != nil {
			opts.Waiting(w.holder())
		}
		w.waited = true
		select {
		case <-ctx.Done():
			// A write of this run's that was answered as lost may have
			// landed: do not leave it for others to wait out.
			release()
			return nil, &LockedError{Dir: h.dir, Holder: w.holder(), Object: p, Err: ctx.Err()}
		case <-time.After(poll):
		}
	}
}

// probe checks, once a run has taken the lock object p by writing b,
// that the store keeps to the conditions the lock relies on, and warns
// through warn (if not nil) when it does not. The caller holds the lock's
// mutex; held reads p and returns its version while it is this run's. It
// returns a non-empty reason when writes conditional on a version cannot
// be relied on, and renewals must write as on a store without versions.
func probe(ctx context.Context, p string, b []byte, held func(context.Context) (string, error), warn func(string)) (noVersions string) {
	say := func(msg string) {
		if warn != nil {
			warn(msg)
		}
	}
	name := store.Name(p)
	// A second conditional create must lose; if it wins, the store
	// ignores the condition and the lock keeps no one out.
	if again, err := store.CreateNew(ctx, p, b); err == nil && again {
		say(fmt.Sprintf("%s ignores conditional writes: the history lock does not keep concurrent runs apart", name))
	}
	version, err := held(ctx)
	if err != nil || version == "" {
		return ""
	}
	// A replace against the version just read must win. One refused
	// outright (an S3 clone without If-Match) or one that fails although
	// the lock is still this run's (a proxy that turns ETags weak) would
	// fail every renewal.
	ok, err := store.ReplaceIf(ctx, p, b, version)
	switch {
	case store.ConditionRefused(err):
		noVersions = "refuses conditional replaces (If-Match)"
	case err == nil && !ok:
		if _, err := held(ctx); err == nil {
			noVersions = "fails replaces against the version just read (If-Match)"
		}
	case err == nil:
		// And one against a version the object does not have must lose:
		// a store that ignores If-Match lets two runs take over one stale
		// lock, and a renewal overwrite a lock taken over.
		ignored, err := store.IgnoresReplaceIf(ctx, p, b)
		switch {
		case err == nil && ignored:
			say(fmt.Sprintf("%s ignores conditional replaces (If-Match): two runs can take over one stale history lock at once", name))
		case store.ConditionRefused(err):
			noVersions = "refuses conditional replaces (If-Match)"
		}
	}
	if noVersions != "" {
		say(fmt.Sprintf("%s %s: renewals overwrite the history lock unconditionally", name, noVersions))
	}
	return noVersions
}

// rewrite writes b, a record of this run's, to the lock object p, which
// holds this run's token at version (as read just before): only if it is
// still at that version when the store gives versions.
func rewrite(ctx context.Context, p string, b []byte, version string) (bool, error) {
	if version == "" {
		if err := store.WriteAtomic(ctx, p, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			return false, err
		}
		return true, nil
	}
	return store.ReplaceIf(ctx, p, b, version)
}

// maxLockFailures is how many tries in a row to take a lock on object
// storage may fail with an error before Lock gives up.
const maxLockFailures = 3

// lockWatch follows another run's lock while a run waits for it.
type lockWatch struct {
	stale    time.Duration
	last     lockRecord // the record read last
	since    time.Time  // when last was first read, by this run's clock
	waited   bool
	tookOver string // the stale lock this run removed or replaced, until it wins
}

// see notes the record r read at now, and reports whether the lock is
// stale: it has had this renewal and token for w.stale.
func (w *lockWatch) see(r lockRecord, now time.Time) bool {
	if r.Token != w.last.Token || !r.Renewed.Equal(w.last.Renewed) || w.since.IsZero() {
		w.last, w.since = r, now
		return false
	}
	return !r.Renewed.IsZero() && now.Sub(w.since) >= w.stale
}

func (w *lockWatch) holder() string {
	if w.last.Host == "" && w.last.PID == 0 {
		return ""
	}
	return w.last.String()
}

// takeOver removes the stale lock object p, which held r, unless it has
// changed since, on a store that gives no versions to replace it against
// (or refuses writes conditional on them): no delete can be conditional on
// content, so the check narrows the race with another waiting run to the
// time between a read and a delete. A run that loses it finds out when it renews or verifies
// its lock.
func takeOver(ctx context.Context, p string, r lockRecord) error {
	cur, _, ok, err := readLock(ctx, p)
	switch {
	case err != nil:
		return err
	case !ok || cur.Token != r.Token || !cur.Renewed.Equal(r.Renewed):
		return errors.New("lock changed") // gone or renewed: try to take it again
	}
	return store.Remove(ctx, p)
}

// renewLock renews the lock object p, which holds me, every renew until
// stop is called, holding mu while it reads (with held) and writes p.
// since is when the try that created p began. Each renewal must be done
// within stale/2 of the start of the last one that succeeded, which no
// waiting run can have taken for stale; a renewal that is not, or that
// finds the lock another run's, calls lost (if not nil) once and stops.
func renewLock(ctx context.Context, p string, me lockRecord, since time.Time, renew, stale time.Duration, mu *sync.Mutex, held func(context.Context) (string, error), lost func(error)) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(renew)
		defer tick.Stop()
		renewed := since
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			began := time.Now()
			deadline := renewed.Add(stale / 2)
			err := context.DeadlineExceeded
			if began.Before(deadline) {
				err = renewOnce(ctx, p, me, began, earliest(began.Add(renew), deadline), mu, held)
			}
			var gone *LockLostError
			switch {
			case ctx.Err() != nil:
				return
			case err == nil:
				renewed = began
				continue
			case errors.As(err, &gone):
			case time.Now().Before(deadline):
				continue // try again at the next tick
			default:
				gone = &LockLostError{Object: p, Err: err}
			}
			if lost != nil {
				lost(gone)
			}
			return
		}
	}()
	return func() { cancel(); <-done }
}

// renewOnce checks that p still holds this run's token and writes it
// again with the renewal time began, by deadline, replacing only the
// version it checked.
func renewOnce(ctx context.Context, p string, me lockRecord, began, deadline time.Time, mu *sync.Mutex, held func(context.Context) (string, error)) error {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	mu.Lock()
	defer mu.Unlock()
	version, err := held(ctx)
	if err != nil {
		return err
	}
	me.Renewed = began.UTC().Truncate(time.Millisecond)
	b, err := json.Marshal(me)
	if err != nil {
		return err
	}
	// On a store that gives no versions, a run that takes the lock over
	// between the check and this write loses it again, and finds out at
	// its own next renewal.
	replaced, err := rewrite(ctx, p, b, version)
	if err != nil || replaced {
		return err
	}
	// The lock changed since the check: another run took it over or
	// deleted it, which held names, or an earlier renewal that timed out
	// landed late and the lock is still this run's, to renew next time.
	if _, err := held(ctx); err != nil {
		return err
	}
	return errors.New("lock changed during its renewal")
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func cmpErr(err error) error {
	if err != nil {
		return err
	}
	return errors.New("lock not acquired")
}
