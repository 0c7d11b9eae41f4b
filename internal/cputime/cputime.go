//go:build unix

// Package cputime reads the CPU time of the process, for benchmarks that
// run on a machine shared with other work, where wall time says little.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the user and system CPU time of the process so far, the
// garbage collector's included; 0 if the system does not say.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
