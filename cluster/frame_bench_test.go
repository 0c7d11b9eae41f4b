package cluster

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkReadFrame reads frames of a few sizes from memory: the cost of
// growing a body as its bytes arrive rather than allocating it whole.
func BenchmarkReadFrame(b *testing.B) {
	for _, size := range []int{100, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("body=%d", size), func(b *testing.B) {
			frame := append(header(uint32(size+1), msgApp), make([]byte, size)...)
			r := bytes.NewReader(frame)
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(frame)
				if _, _, err := readFrame(r, DefaultMaxFrameSize+1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
