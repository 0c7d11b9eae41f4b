package cluster

import "bytes"

// A link's reader is woken only when wakeBytes wait in its socket, not
// for every Ping: on an idle mesh each Ping waking its receiver was most
// of the cost, as every process woke once per member per interval. The
// Pings that wait meanwhile are seen by the liveness loop, which asks the
// kernel how many bytes wait (see heardWaiting); the reader takes them
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

// heardWaiting reports whether bytes arrived on l since the last call
// that the reader has not taken yet: more bytes wait in its socket than
// waited then. It is called by the liveness loop only, once per tick; on
// a link without quiet reads it reports false (its reader is woken by
// every frame and notes it itself).
func (l *link) heardWaiting() bool {
	if l.waiting == nil {
		return false
	}
	n, ok := l.waiting()
	if !ok {
		return false
	}
	grew := n > l.waitingBefore
	l.waitingBefore = n
	return grew
}
