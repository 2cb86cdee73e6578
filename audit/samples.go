package audit

import "slices"

// smallest keeps the n items with the smallest positions it is offered, so
// that samples are the first n in the fixed report order whatever the order
// in which workers deliver them.
type smallest[T any] struct {
	n     int
	items []positioned[T]
}

type positioned[T any] struct {
	Pos  Position
	Item T
}

func newSmallest[T any](n int) smallest[T] { return smallest[T]{n: n} }

// wants reports whether an item at pos would be kept, so callers can skip
// building items that would be dropped.
func (s *smallest[T]) wants(pos Position) bool {
	if s.n <= 0 {
		return false
	}
	return len(s.items) < s.n || pos.Less(s.items[len(s.items)-1].Pos)
}

func (s *smallest[T]) add(pos Position, item T) {
	if !s.wants(pos) {
		return
	}
	i, _ := slices.BinarySearchFunc(s.items, pos, func(p positioned[T], q Position) int {
		switch {
		case p.Pos.Less(q):
			return -1
		case q.Less(p.Pos):
			return 1
		}
		return 0
	})
	s.items = slices.Insert(s.items, i, positioned[T]{pos, item})
	if len(s.items) > s.n {
		s.items = s.items[:s.n]
	}
}

func (s *smallest[T]) merge(o *smallest[T]) {
	for _, it := range o.items {
		s.add(it.Pos, it.Item)
	}
}
