package cluster

import "bytes"

// A link's reader is woken only when wakeBytes wait in its socket, not
// for every Ping: on an idle mesh each Ping waking its receiver was most
// of the cost, as every process woke once per member per interval. The
// Pings that wait meanwhile are seen by the liveness loop, which peeks at
// the bytes that wait (see heardWaiting); the reader takes them
// with the next frame. So that no other frame waits, every write that
// carries a frame other than Ping ends with wakeBytes of Pings (see
// wakeTrailer), on every link, whether or not its receiver asked for
// quiet reads: once the whole write has arrived, either the reader was
// woken after the frame's last byte came, or the trailer is unread and
// wakes it, however the network cut the write into segments.

// wakeBytes is the number of bytes that must wait in a quiet link's
// socket before its reader is woken: six Pings of 11 bytes.
const wakeBytes = 64

// wakeTrailer returns the Pings, at least wakeBytes of them, that end
// every write carrying a frame other than Ping.
func wakeTrailer(ping []byte) []byte {
	return bytes.Repeat(ping, (wakeBytes+len(ping)-1)/len(ping))
}

// heardWaiting reports whether Pings arrived on l since the last call
// that the reader has not taken yet: more whole Pings (equal to ping) wait
// at the start of its socket than waited then, or than none if the reader
// read since. Only whole Pings count, and none while the reader holds
// part of a frame: a member that sends a frame bit by bit and never ends
// it is as silent as one that sends nothing. Only the liveness loop calls
// it, at most once per tick; on a link without quiet reads it reports
// false (its reader is woken by every frame and notes it itself).
func (l *link) heardWaiting(ping []byte) bool {
	if l.peek == nil || len(ping) == 0 {
		return false
	}
	if reads := l.reads.Load(); reads != l.readsBefore {
		// The reader took what waited: all that waits now came after.
		l.readsBefore, l.pingsBefore = reads, 0
	}
	pings := 0
	if !l.midFrame.Load() {
		var buf [2 * wakeBytes]byte
		n, ok := l.peek(buf[:])
		if !ok {
			return false
		}
		for b := buf[:n]; len(b) >= len(ping) && bytes.Equal(b[:len(ping)], ping); b = b[len(ping):] {
			pings++
		}
	}
	grew := pings > l.pingsBefore
	l.pingsBefore = pings
	return grew
}
