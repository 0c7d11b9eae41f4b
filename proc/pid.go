package proc

import (
	"fmt"
	"strconv"
	"strings"
)

// PID names a process. It is a non-zero 32-bit word, so that it fits an
// integer register: the high 8 bits are the node slot (0 is this node;
// the cluster gives other members slots 1 to 255) and the low 24 bits a
// serial number, never 0. A node hands out serials in turn and wraps
// after 16,777,215, skipping those still in use, so a PID is reused only
// after that many other processes have been started.
type PID int32

// Bits of a PID.
const (
	serialBits = 24
	serialMask = 1<<serialBits - 1
	maxNode    = 1<<(32-serialBits) - 1
)

// MakePID returns the PID of serial on node slot node. It returns 0 if
// either is out of range or serial is 0.
func MakePID(node int, serial uint32) PID {
	if node < 0 || node > maxNode || serial == 0 || serial > serialMask {
		return 0
	}
	return PID(uint32(node)<<serialBits | serial)
}

// Node returns the PID's node slot; 0 is this node.
func (p PID) Node() int { return int(uint32(p) >> serialBits) }

// Serial returns the PID's serial number.
func (p PID) Serial() uint32 { return uint32(p) & serialMask }

// String shows the PID as "<SERIAL>" for a process of this node, and as
// "<NODE.SERIAL>" for one of node slot NODE; ParsePID reads both back.
func (p PID) String() string {
	if p.Node() == 0 {
		return "<" + strconv.FormatUint(uint64(p.Serial()), 10) + ">"
	}
	return fmt.Sprintf("<%d.%d>", p.Node(), p.Serial())
}

// ParsePID reads a PID as String writes it, "<7>" or "<2.7>"; the angle
// brackets may be left out ("7", "2.7"), and "<0.7>" is "<7>".
func ParsePID(s string) (PID, error) {
	text := strings.TrimSpace(s)
	inner := text
	if strings.HasPrefix(inner, "<") || strings.HasSuffix(inner, ">") {
		var ok bool
		inner, ok = strings.CutPrefix(inner, "<")
		if inner, ok = strings.CutSuffix(inner, ">"); !ok || !strings.HasPrefix(text, "<") {
			return 0, fmt.Errorf("bad PID %q: write it as <N> or <NODE.N>", clip(s))
		}
	}
	node, serial := "0", inner
	if n, sr, ok := strings.Cut(inner, "."); ok {
		node, serial = n, sr
	}
	nv, err1 := strconv.ParseUint(node, 10, 8)
	sv, err2 := strconv.ParseUint(serial, 10, serialBits)
	if err1 != nil || err2 != nil || sv == 0 {
		return 0, fmt.Errorf("bad PID %q: write it as <N> or <NODE.N>, N from 1 to %d, NODE from 0 to %d", clip(s), serialMask, maxNode)
	}
	return MakePID(int(nv), uint32(sv)), nil
}

// clip bounds text from outside quoted in an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
