package proc

// ring is a first-in first-out queue in a ring buffer that grows by
// doubling; it never shrinks while in use, so a steady flow allocates
// nothing. Its size is a power of two, so that an index wraps with a
// mask rather than a division.
type ring[T any] struct {
	buf  []T
	head int // index of the oldest
	n    int // how many
}

func (q *ring[T]) len() int { return q.n }

func (q *ring[T]) push(v T) {
	if q.n == len(q.buf) {
		bigger := make([]T, max(2*len(q.buf), 4))
		for i := range q.n {
			bigger[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
		}
		q.buf, q.head = bigger, 0
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = v
	q.n++
}

// pop takes the oldest; the queue must not be empty.
func (q *ring[T]) pop() T {
	var zero T
	v := q.buf[q.head]
	q.buf[q.head] = zero
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return v
}

// each calls f for every value, oldest first.
func (q *ring[T]) each(f func(T)) {
	for i := range q.n {
		f(q.buf[(q.head+i)&(len(q.buf)-1)])
	}
}

// clear empties the queue and lets its memory go.
func (q *ring[T]) clear() { *q = ring[T]{} }
