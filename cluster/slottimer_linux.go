package cluster

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// timerfdTimer is a slotTimer on a timerfd read through the runtime's
// network poller. An idle node wakes for its probe slot as it wakes for
// a frame: the poller's thread returns from epoll_wait with the timer's
// reader ready and runs it. A Go timer's wake-up also wakes the
// runtime's monitor thread (sysmon sleeps until the next timer, and
// sleeps again 10 ms after) and an idle thread to look for more work, 4
// thread wake-ups and about 11 system calls against 1 and 4; and moving
// a Go timer later leaves it at its old place until then. Its calls
// are raw (not told to the runtime), as the links' are (rawio_unix.go):
// each returns at once, and one told would wake sysmon too
// (docs/performance.md, "Fourth pass").
type timerfdTimer struct {
	fd   int
	file *os.File
	rc   syscall.RawConn
	buf  [8]byte
	read func(fd uintptr) bool // bound once: a wait allocates nothing
}

// newSlotTimer returns a timerfd timer, or a Go timer where the kernel
// refuses a timerfd.
func newSlotTimer() slotTimer {
	t, err := newTimerfdTimer()
	if err != nil {
		return newGoTimer()
	}
	return t
}

func newTimerfdTimer() (*timerfdTimer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("timerfd_create: %w", err)
	}
	file := os.NewFile(uintptr(fd), "probe-timer")
	rc, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("timerfd: %w", err)
	}
	t := &timerfdTimer{fd: fd, file: file, rc: rc}
	t.read = func(fd uintptr) bool {
		_, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&t.buf[0])), uintptr(len(t.buf)))
		return errno != syscall.EAGAIN // fired (or broken: wait then reports it)
	}
	return t, nil
}

func (t *timerfdTimer) set(d time.Duration) {
	d = max(d, time.Nanosecond) // zero would disarm it
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	// The file is closed only after probeLoop ends, and set is called
	// with the prober's lock held while the loop runs (p.timer is nil
	// after), so the descriptor is this timer's.
	syscall.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(t.fd), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
}

func (t *timerfdTimer) wait() bool {
	return t.rc.Read(t.read) == nil
}

func (t *timerfdTimer) close() { t.file.Close() }
