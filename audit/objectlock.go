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
	"sync"
	"sync/atomic"
	"time"

	"github.com/dqaudit/dqaudit/audit/store"
)

// The history lock on object storage: a lease (see History.Lock).

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
	// StaleMS is the holder's --lock-stale in milliseconds: a waiting run
	// takes the lock for stale only after the longer of its own and this,
	// so that a run started with a shorter one cannot take the lock from
	// a holder that renews on its own, slower, schedule.
	StaleMS int64 `json:"stale_ms,omitempty"`
}

func (r lockRecord) String() string {
	s := fmt.Sprintf("host %s, pid %d, since %s", r.Host, r.PID, r.Started.UTC().Format(time.RFC3339))
	if !r.Renewed.IsZero() {
		s += ", renewed " + r.Renewed.UTC().Format(time.RFC3339)
	}
	return s
}

// maxLockFailures is how many tries in a row to take a lock on object
// storage may fail with an error before Lock gives up.
const maxLockFailures = 3

// objectLock is one run's lease on the lock object of a history on object
// storage, from its first try to take it until it is released.
type objectLock struct {
	dir, p             string // the history, and its lock object
	opts               LockOptions
	poll, renew, stale time.Duration
	me                 lockRecord // Renewed is set by each try; fixed once won
	// mu is held by a renewal while it reads and writes the object, and by
	// every other check of it, so that the run never reads its own lock
	// mid-write.
	mu sync.Mutex
	// noVersions is set when the store gives versions but writes
	// conditional on them cannot be relied on (see probe): renewals then
	// write as on a store without versions.
	noVersions atomic.Bool
	w          lockWatch
	tried      string // the stale lock a takeover of which ended in an error
}

func (h *History) lockObject(ctx context.Context, opts LockOptions) (*HeldLock, error) {
	poll, renew, stale := opts.timing()
	host, _ := os.Hostname()
	l := &objectLock{
		dir: h.dir, p: store.Join(h.dir, ".lock"), opts: opts,
		poll: poll, renew: renew, stale: stale,
		me: lockRecord{Host: host, PID: os.Getpid(), Started: time.Now().UTC().Truncate(time.Second), Token: rand.Text(), StaleMS: stale.Milliseconds()},
		w:  lockWatch{stale: stale},
	}
	for failures := 0; ; {
		// The record says when this try began: a run that waited long
		// must not look as if it had held the lock all along.
		began := time.Now()
		l.me.Renewed = began.UTC().Truncate(time.Millisecond)
		b, err := json.Marshal(l.me)
		if err != nil {
			return nil, fmt.Errorf("history lock: %w", err)
		}
		cctx, cancel := l.timed(ctx)
		ok, err := store.CreateNew(cctx, l.p, b)
		cancel()
		contended := false // the lock object is there: another run holds it
		switch {
		case err != nil:
			// The upload may have landed before the error (a timeout, a
			// cancel): do not leave this run's lock behind.
			l.release(ctx)
			if ctx.Err() != nil {
				return nil, l.gaveUp(ctx)
			}
			// A store that fails a few tries in a row is down or refuses
			// this run (permissions): say so rather than wait.
			if failures++; failures == maxLockFailures {
				return nil, fmt.Errorf("history lock: %w", err)
			}
		case ok:
			return l.won(ctx, b, began), nil
		default:
			failures = 0
			contended = true
			switch l.contend(ctx, b) {
			case lockTaken:
				return l.won(ctx, b, began), nil
			case lockRemoved:
				continue
			}
		}
		// A failed request is not another run's lock: say "waiting" only
		// when the lock object was found taken.
		if contended && !l.w.waited && opts.Waiting != nil {
			opts.Waiting(l.w.holder())
		}
		l.w.waited = l.w.waited || contended
		select {
		case <-ctx.Done():
			// A write of this run's that was answered as lost may have
			// landed: do not leave it for others to wait out.
			l.release(ctx)
			return nil, l.gaveUp(ctx)
		case <-time.After(l.poll):
		}
	}
}

// timed gives one request on the lock at most one renewal period, so that
// a request that hangs cannot keep a run from finding out in time that it
// lost the lock.
func (l *objectLock) timed(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, l.renew)
}

// gaveUp is the error of a run that stopped waiting when ctx ended.
func (l *objectLock) gaveUp(ctx context.Context) error {
	return &LockedError{Dir: l.dir, Holder: l.w.holder(), Object: l.p, Err: ctx.Err()}
}

// contention is what a run that found the lock object taken did about it.
type contention int

const (
	keepWaiting contention = iota
	lockRemoved            // a stale lock was removed: create this run's at once
	lockTaken              // the lock object holds b, this run's record
)

// contend reads the lock object after a create of this run's found it
// there, and takes it over with b if it is another run's and stale, or
// renews it with b if it is this run's own (see below). A read, removal or
// replace that fails is tried again at the next poll.
func (l *objectLock) contend(ctx context.Context, b []byte) contention {
	rctx, cancel := l.timed(ctx)
	defer cancel()
	r, version, ok, err := readLock(rctx, l.p)
	if err != nil && rctx.Err() == nil {
		// Some stores fail a read that meets the holder's renewal.
		r, version, ok, err = readLock(rctx, l.p)
	}
	if err == nil && ok && r.Token == l.me.Token {
		// A create or replace of this run's was answered as lost but
		// landed: a client that retried it after losing the first answer
		// got the failed condition of its own write. The lock is this
		// run's, but its record is from an earlier try, which a waiting
		// run may have watched for a while: it is renewed with this try's
		// time before the run takes it, so that renewals count from a
		// write of this try.
		if renewed, _ := rewrite(rctx, l.p, b, version); renewed {
			if l.w.tookOver == "" {
				l.w.tookOver = l.tried
			}
			return lockTaken
		}
		return keepWaiting
	}
	l.w.tookOver = "" // another waiting run won the lock this run freed
	switch {
	case err != nil || !ok || !l.w.see(r, time.Now()):
	case version == "":
		// A store that gives no versions: remove the stale lock and
		// create this run's at once (see takeOver).
		if takeOver(rctx, l.p, r) == nil {
			l.w.tookOver = r.String()
			return lockRemoved
		}
	default:
		// One replace, conditional on the version of the stale lock: of
		// two runs that take it for stale at once, the first replaces it
		// and the second's condition fails.
		took, err := store.ReplaceIf(rctx, l.p, b, version)
		switch {
		case took:
			l.w.tookOver = r.String()
			return lockTaken
		case store.ConditionRefused(err):
			// A store that refuses the condition itself (an S3 clone
			// without If-Match): remove the stale lock as on one without
			// versions, with a request period of its own.
			tctx, cancel := l.timed(ctx)
			defer cancel()
			if takeOver(tctx, l.p, r) == nil {
				l.w.tookOver = r.String()
				return lockRemoved
			}
		case err != nil:
			// The replace may have landed (a timeout): if it did, the
			// next read finds this run's token.
			l.tried = r.String()
		}
	}
	return keepWaiting
}

// won starts renewing the lock that this run wrote as b in the try that
// began then, and checks that the store keeps to the conditions the lock
// relies on.
func (l *objectLock) won(ctx context.Context, b []byte, began time.Time) *HeldLock {
	if l.w.tookOver != "" && l.opts.TookOver != nil {
		l.opts.TookOver(l.w.tookOver)
	}
	stop := l.renewEvery(ctx, began)
	pctx, cancel := l.timed(ctx)
	l.mu.Lock()
	if l.probe(pctx, b) != "" {
		l.noVersions.Store(true)
	}
	l.mu.Unlock()
	cancel()
	return &HeldLock{
		unlock: func() error { stop(); return l.release(ctx) },
		verify: func(ctx context.Context) error { _, err := l.check(ctx); return err },
	}
}

// read reads the lock object and returns a *LockLostError unless it holds
// this run's token, else the version it read ("" when the store gives none
// or writes conditional on it cannot be relied on). The caller holds mu.
func (l *objectLock) read(ctx context.Context) (version string, err error) {
	ctx, cancel := l.timed(ctx)
	defer cancel()
	r, version, ok, err := readLock(ctx, l.p)
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "", &LockLostError{Object: l.p}
	case r.Token != l.me.Token:
		return "", &LockLostError{Object: l.p, Holder: r.String()}
	case l.noVersions.Load():
		return "", nil
	}
	return version, nil
}

// check is read for callers that do not hold mu: Verify and release.
func (l *objectLock) check(ctx context.Context) (version string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.read(ctx)
}

// release deletes the lock object if it is still this run's, within 30
// seconds, also after ctx has ended (SIGTERM). It deletes only the version
// it checked, so that a run that took the lock over in between keeps it; a
// late renewal of this run's that landed in between is checked again.
func (l *objectLock) release(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for range 3 {
		var gone *LockLostError
		version, err := l.check(ctx)
		for try := 1; try < 3 && err != nil && !errors.As(err, &gone) && ctx.Err() == nil; try++ {
			// A renewal that timed out on this side may still be landing
			// on the store, and some stores (versitygw's posix backend)
			// fail a read that meets a write with a checksum error: one
			// failed read must not leave the lock for others to wait out.
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(try) * 100 * time.Millisecond):
			}
			version, err = l.check(ctx)
		}
		switch {
		case errors.As(err, &gone) && gone.Holder == "":
			return nil // already gone
		case gone != nil:
			return fmt.Errorf("release history lock: %s was replaced by another run's lock; left as it is", l.p)
		case err != nil:
			return fmt.Errorf("release history lock: %w", err)
		}
		if version != "" {
			removed, err := store.RemoveIf(ctx, l.p, version)
			switch {
			case removed:
				return nil
			case err == nil:
				continue // changed since the check
			case !store.ConditionRefused(err):
				return fmt.Errorf("release history lock: %w", err)
			}
			// A store that refuses conditional deletes: as on one without
			// versions.
		}
		if err := store.Remove(ctx, l.p); err != nil {
			return fmt.Errorf("release history lock: %w", err)
		}
		return nil
	}
	return fmt.Errorf("release history lock: %s kept changing while it was released; left as it is", l.p)
}

// probe checks, once the run has taken the lock by writing b, that the
// store keeps to the conditions the lock relies on, and warns through
// opts.Warn (if not nil) when it does not. The caller holds mu. It returns
// a non-empty reason when writes conditional on a version cannot be relied
// on, and renewals must write as on a store without versions.
func (l *objectLock) probe(ctx context.Context, b []byte) (noVersions string) {
	say := func(msg string) {
		if l.opts.Warn != nil {
			l.opts.Warn(msg)
		}
	}
	name := store.Name(l.p)
	// A second conditional create must lose; if it wins, the store
	// ignores the condition and the lock keeps no one out.
	if again, err := store.CreateNew(ctx, l.p, b); err == nil && again {
		say(fmt.Sprintf("%s ignores conditional writes: the history lock does not keep concurrent runs apart", name))
	}
	version, err := l.read(ctx)
	if err != nil || version == "" {
		return ""
	}
	// A replace against the version just read must win. One refused
	// outright (an S3 clone without If-Match) or one that fails although
	// the lock is still this run's (a proxy that turns ETags weak) would
	// fail every renewal.
	ok, err := store.ReplaceIf(ctx, l.p, b, version)
	switch {
	case store.ConditionRefused(err):
		noVersions = "refuses conditional replaces (If-Match)"
	case err == nil && !ok:
		if _, err := l.read(ctx); err == nil {
			noVersions = "fails replaces against the version just read (If-Match)"
		}
	case err == nil:
		// And one against a version the object does not have must lose:
		// a store that ignores If-Match lets two runs take over one stale
		// lock, and a renewal overwrite a lock taken over.
		ignored, err := store.IgnoresReplaceIf(ctx, l.p, b)
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

// renewEvery renews the lock every renewal period until stop is called;
// since is when the try that created it began. Each renewal must be done
// within stale/2 of the start of the last one that succeeded, which no
// waiting run can have taken for stale; a renewal that is not, or that
// finds the lock another run's, calls opts.Lost (if not nil) once and
// stops.
func (l *objectLock) renewEvery(ctx context.Context, since time.Time) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(l.renew)
		defer tick.Stop()
		renewed := since
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			began := time.Now()
			deadline := renewed.Add(l.stale / 2)
			err := context.DeadlineExceeded
			if began.Before(deadline) {
				err = l.renewOnce(ctx, began, earliest(began.Add(l.renew), deadline))
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
				gone = &LockLostError{Object: l.p, Err: err}
			}
			if l.opts.Lost != nil {
				l.opts.Lost(gone)
			}
			return
		}
	}()
	return func() { cancel(); <-done }
}

// renewOnce checks that the lock object still holds this run's token and
// writes it again with the renewal time began, by deadline, replacing only
// the version it checked.
func (l *objectLock) renewOnce(ctx context.Context, began, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	version, err := l.read(ctx)
	if err != nil {
		return err
	}
	me := l.me
	me.Renewed = began.UTC().Truncate(time.Millisecond)
	b, err := json.Marshal(me)
	if err != nil {
		return err
	}
	// On a store that gives no versions, a run that takes the lock over
	// between the check and this write loses it again, and finds out at
	// its own next renewal.
	replaced, err := rewrite(ctx, l.p, b, version)
	if err != nil || replaced {
		return err
	}
	// The lock changed since the check: another run took it over or
	// deleted it, which read names, or an earlier renewal that timed out
	// landed late and the lock is still this run's, to renew next time.
	if _, err := l.read(ctx); err != nil {
		return err
	}
	return errors.New("lock changed during its renewal")
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

// lockWatch follows another run's lock while a run waits for it.
type lockWatch struct {
	stale    time.Duration
	last     lockRecord // the record read last
	since    time.Time  // when last was first read, by this run's clock
	waited   bool
	tookOver string // the stale lock this run removed or replaced, until it wins or reads another run's lock
}

// see notes the record r read at now, and reports whether the lock is
// stale: it has had this renewal and token for w.stale, or for the
// holder's own stale period when that is longer.
func (w *lockWatch) see(r lockRecord, now time.Time) bool {
	if r.Token != w.last.Token || !r.Renewed.Equal(w.last.Renewed) || w.since.IsZero() {
		w.last, w.since = r, now
		return false
	}
	stale := max(w.stale, time.Duration(r.StaleMS)*time.Millisecond)
	return !r.Renewed.IsZero() && now.Sub(w.since) >= stale
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
// time between a read and a delete. A run that loses it finds out when it
// renews or verifies its lock.
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

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
