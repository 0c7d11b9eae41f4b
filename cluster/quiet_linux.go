//go:build linux

package cluster

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// quietReads asks the kernel to wake the reader of the socket raw only
// once wakeBytes wait (SO_RCVLOWAT; a closed or broken connection still
// wakes it at once), and returns a function that reports how many bytes
// wait unread (SIOCINQ), or nil if the kernel refused.
func quietReads(raw syscall.RawConn) func() (int, bool) {
	var setErr error
	if err := raw.Control(func(fd uintptr) {
		setErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, wakeBytes)
	}); err != nil || setErr != nil {
		return nil
	}
	return func() (int, bool) {
		var n int
		var ioErr error
		if err := raw.Control(func(fd uintptr) {
			n, ioErr = unix.IoctlGetInt(int(fd), unix.SIOCINQ)
		}); err != nil || ioErr != nil {
			return 0, false
		}
		return n, true
	}
}
