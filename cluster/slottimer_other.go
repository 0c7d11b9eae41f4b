//go:build !linux

package cluster

// newSlotTimer returns a Go timer: timerfd is Linux's.
func newSlotTimer() slotTimer { return newGoTimer() }
