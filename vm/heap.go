package vm

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
)

// HeapBudget bounds the bytes that the heaps of many VMs hold together: a
// node-wide budget. Each VM whose Config carries the budget reserves from
// it every byte ALOC grows its heap by, and gives them back when its heap
// is freed (Reset, or the VM becoming garbage). A HeapBudget is safe for
// concurrent use.
type HeapBudget struct {
	limit int64
	used  atomic.Int64
}

// NewHeapBudget returns a budget of limit bytes (at least 0).
func NewHeapBudget(limit int64) *HeapBudget {
	return &HeapBudget{limit: max(limit, 0)}
}

// Limit returns the budget's size in bytes.
func (b *HeapBudget) Limit() int64 { return b.limit }

// Used returns the bytes reserved from the budget now.
func (b *HeapBudget) Used() int64 { return b.used.Load() }

// reserve takes n bytes from the budget, or reports false if fewer are left.
func (b *HeapBudget) reserve(n int64) bool {
	for {
		used := b.used.Load()
		if n > b.limit-used {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// release gives n bytes back.
func (b *HeapBudget) release(n int64) { b.used.Add(-n) }

// Reserve takes n bytes from the budget for memory other than a heap (a
// process, a message), or reports false if fewer are left.
func (b *HeapBudget) Reserve(n int64) bool { return b.reserve(n) }

// Release gives back n bytes that Reserve took.
func (b *HeapBudget) Release(n int64) { b.release(n) }

// ErrHeapBudget is the fault of an ALOC that the node-wide heap budget
// cannot cover.
var ErrHeapBudget = errors.New("node heap budget exhausted")

// heapMemory is where a VM's heap lives. Where the system allows it, the
// heap is a private anonymous mapping of the whole heap limit, made on the
// first ALOC: the system hands out zeroed pages as they are first touched,
// so the heap grows without copying and costs about its own size in
// memory, not the two to three times that a copying Go slice costs with
// the garbage collector's slack. Elsewhere it is a Go slice. It also holds
// the bytes reserved from the budget. It is freed by Reset, and by a
// cleanup when its VM becomes garbage.
type heapMemory struct {
	mapped   []byte // the mapping, of the heap limit's size; nil if none
	reserved int64  // bytes reserved from budget
	budget   *HeapBudget
}

// newHeapMemory returns the heap memory of m, freed when m becomes garbage.
func newHeapMemory(m *VM, budget *HeapBudget) *heapMemory {
	h := &heapMemory{budget: budget}
	runtime.AddCleanup(m, (*heapMemory).free, h)
	return h
}

// grow returns heap grown by n zero bytes, up to limit bytes in all.
func (h *heapMemory) grow(heap []byte, n, limit int) []byte {
	size := len(heap) + n
	if h.mapped == nil && len(heap) == 0 {
		h.mapped = mapHeap(limit)
	}
	if h.mapped != nil {
		return h.mapped[:size]
	}
	if size <= cap(heap) {
		return heap[:size] // past len, the bytes are still zero: nothing shrinks a heap
	}
	bigger := make([]byte, size, min(max(size, 2*cap(heap)), limit))
	copy(bigger, heap)
	return bigger
}

// free unmaps the heap and gives its bytes back to the budget.
func (h *heapMemory) free() {
	if h.mapped != nil {
		unmapHeap(h.mapped)
		h.mapped = nil
	}
	if h.budget != nil && h.reserved != 0 {
		h.budget.release(h.reserved)
	}
	h.reserved = 0
}

func (m *VM) alloc(pc uint, n int32) error {
	if n < 0 {
		return m.fault(pc, ErrHeapLimit, fmt.Sprintf("cannot grow the heap by %d bytes", n))
	}
	if len(m.heap)+int(n) > m.set.cfg.HeapLimit {
		return m.fault(pc, ErrHeapLimit, fmt.Sprintf("%d + %d bytes is over the limit of %d", len(m.heap), n, m.set.cfg.HeapLimit))
	}
	c := m.coldPart()
	if c.mem == nil {
		c.mem = newHeapMemory(m, m.set.cfg.HeapBudget)
	}
	h := c.mem
	if b := h.budget; b != nil && n > 0 {
		if !b.reserve(int64(n)) {
			return m.fault(pc, ErrHeapBudget, fmt.Sprintf("%d more bytes; the budget of %d bytes for all heaps has %d left",
				n, b.Limit(), max(b.Limit()-b.Used(), 0)))
		}
		h.reserved += int64(n)
	}
	m.heap = h.grow(m.heap, int(n), m.set.cfg.HeapLimit)
	return nil
}
