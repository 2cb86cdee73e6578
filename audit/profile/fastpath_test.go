package profile

import (
	"testing"
	"unsafe"

	"github.com/dqaudit/dqaudit/rules"
)

// plainEvent hides testEvent's ValueSlice, so that Observe reads it
// through Value.
type plainEvent struct{ e *testEvent }

func (p plainEvent) Shape() *rules.Shape     { return p.e.shape }
func (p plainEvent) Value(i int) rules.Value { return p.e.vals[i] }

// TestValueSlicePathsAgree checks that events read through ValueSlice and
// through Value give byte-identical profiles, with sources reusing their
// string buffers between events.
func TestValueSlicePathsAgree(t *testing.T) {
	var _ ValueSlicer = (*testEvent)(nil)
	for _, users := range []int{300, 50000} {
		fast, slow := NewBuilder(), NewBuilder()
		g1, g2 := newGen(11), newGen(11)
		g1.users, g2.users = users, users
		e1, e2 := &testEvent{}, &testEvent{}
		a1, a2 := &arena{mk: aliased}, &arena{mk: aliased}
		const n = 20000
		for i := range n {
			g1.fill(e1, i, n, a1)
			fast.Observe(e1)
			g2.fill(e2, i, n, a2)
			slow.Observe(plainEvent{e2})
		}
		if a, b := mustJSON(t, fast.Profile()), mustJSON(t, slow.Profile()); a != b {
			t.Errorf("users=%d: profiles differ at %s", users, firstDiff(a, b))
		}
	}
}

// aliased returns b as a string without copying: the arena's buffer is
// reused for the next event, as a source's is.
func aliased(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
