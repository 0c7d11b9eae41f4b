//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package vm

import "syscall"

// mapHeap maps size bytes of private zeroed memory, or returns nil.
func mapHeap(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil // the caller falls back to a Go slice
	}
	return b
}

func unmapHeap(b []byte) { _ = syscall.Munmap(b) }
