package odata

// slab hands out pointers into chunks of T, so a parse allocates a few
// chunks instead of one object per node (a 500-condition filter has some
// 2,500 nodes). Nodes keep their chunk alive, which is fine for trees that
// live as long as a request.
type slab[T any] struct{ buf []T }

const (
	slabFirst = 4
	slabMax   = 256
)

func (s *slab[T]) grow() {
	size := 2 * cap(s.buf)
	if size < slabFirst {
		size = slabFirst
	}
	if size > slabMax {
		size = slabMax
	}
	s.buf = make([]T, 0, size)
}

// alloc returns a pointer to a new zero T.
func (s *slab[T]) alloc() *T {
	if len(s.buf) == cap(s.buf) {
		s.grow()
	}
	s.buf = s.buf[:len(s.buf)+1]
	return &s.buf[len(s.buf)-1]
}

// one returns a slice holding just v, with no spare capacity, so that an
// append to it copies instead of overwriting the next element of the chunk.
func (s *slab[T]) one(v T) []T {
	if len(s.buf) == cap(s.buf) {
		s.grow()
	}
	n := len(s.buf)
	s.buf = append(s.buf, v)
	return s.buf[n : n+1 : n+1]
}
