//go:build linux

package cluster

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// quietReads asks the kernel to wake the reader of the socket raw only
// once wakeBytes wait (SO_RCVLOWAT; a closed or broken connection still
// wakes it at once), and returns a function that copies the start of the
// bytes that wait unread into a buffer without taking them (MSG_PEEK),
// or nil if the kernel refused.
func quietReads(raw syscall.RawConn) func([]byte) (int, bool) {
	var setErr error
	if err := raw.Control(func(fd uintptr) {
		setErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, wakeBytes)
	}); err != nil || setErr != nil {
		return nil
	}
	return func(buf []byte) (int, bool) {
		var n int
		var peekErr error
		if err := raw.Control(func(fd uintptr) {
			n, _, peekErr = unix.Recvfrom(int(fd), buf, unix.MSG_PEEK|unix.MSG_DONTWAIT)
		}); err != nil || (peekErr != nil && peekErr != unix.EAGAIN) {
			return 0, false
		}
		return max(n, 0), true
	}
}
