//go:build !linux

package proc

// wakeMonitor does nothing: elsewhere the cluster's probe timer is a Go
// timer, which wakes the runtime's monitor thread (monitor_linux.go).
func wakeMonitor() {}
