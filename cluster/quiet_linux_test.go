package cluster

import (
	"bufio"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// A quiet link's socket does not poll readable for a lone Ping, which the
// liveness loop still sees waiting, and does for a frame ended with the
// wake trailer. The test asks the kernel through an epoll set of its own,
// as Go's poller would be woken.
func TestQuietSocketSleepsThroughPingsButNotFrames(t *testing.T) {
	t.Parallel()
	local, remote := tcpPair(t)
	l := newLink(local, memberInfo{}, "")
	if l.peek == nil {
		t.Fatal("a plain TCP link on Linux is not quiet")
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ep)
	var ctlErr error
	l.raw.Control(func(fd uintptr) {
		ctlErr = unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, int(fd), &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
	})
	if ctlErr != nil {
		t.Fatal(ctlErr)
	}
	readable := func(wait time.Duration) bool {
		events := make([]unix.EpollEvent, 1)
		n, err := unix.EpollWait(ep, events, int(wait/time.Millisecond))
		if err != nil && err != unix.EINTR {
			t.Fatal(err)
		}
		return n > 0
	}

	ping := testPing
	for i := 1; i <= 3; i++ {
		if _, err := remote.Write(ping); err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, time.Second, "the Ping waiting in the socket", func() bool {
			n, ok := l.peek(make([]byte, 1024))
			return ok && n == i*len(ping)
		})
		if readable(0) {
			t.Fatalf("%d Pings made the socket readable", i)
		}
		if !l.heardWaiting(ping) {
			t.Errorf("Ping %d, waiting unread, was not heard", i)
		}
		if l.heardWaiting(ping) {
			t.Errorf("after Ping %d: heard again with nothing new waiting", i)
		}
	}
	frame := append([]byte{0, 0, 0, 2, byte(msgLeave), 0x80}, wakeTrailer(ping)...)
	if _, err := remote.Write(frame); err != nil {
		t.Fatal(err)
	}
	if !readable(5 * time.Second) {
		t.Fatal("a frame ended with the wake trailer did not make the socket readable")
	}
}

// Pings that arrive after the reader took what waited are heard at the
// next tick, however many waited before that read: else, with fewer
// waiting than before, a member that Pings every interval looks silent
// for up to two, and may be judged suspect.
func TestPingsAfterTheReaderTookTheRestAreHeard(t *testing.T) {
	t.Parallel()
	local, remote := tcpPair(t)
	l := newLink(local, memberInfo{}, "")
	if l.peek == nil {
		t.Fatal("a plain TCP link on Linux is not quiet")
	}
	ping := testPing
	waitFor := func(want int) {
		testkit.Eventually(t, time.Second, "the Pings waiting in the socket", func() bool {
			n, ok := l.peek(make([]byte, 1024))
			return ok && n == want
		})
	}
	for i := 1; i <= 5; i++ {
		if _, err := remote.Write(ping); err != nil {
			t.Fatal(err)
		}
		waitFor(i * len(ping))
		if !l.heardWaiting(ping) {
			t.Fatalf("Ping %d, waiting unread, was not heard", i)
		}
	}
	// The reader takes them, as when a frame's wake trailer wakes it.
	r := frameStartReader{r: bufio.NewReaderSize(l.conn, 4096), l: l}
	for i := 1; i <= 5; i++ {
		if _, _, err := readFrame(r, 1024); err != nil {
			t.Fatal(err)
		}
		l.midFrame.Store(false)
	}
	waitFor(0)
	if _, err := remote.Write(ping); err != nil {
		t.Fatal(err)
	}
	waitFor(len(ping))
	if !l.heardWaiting(ping) {
		t.Error("a Ping that arrived after the reader's read was not heard")
	}
}
