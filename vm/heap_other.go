//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package vm

// mapHeap returns nil: the heap is a Go slice on this system.
func mapHeap(int) []byte { return nil }

func unmapHeap([]byte) {}
