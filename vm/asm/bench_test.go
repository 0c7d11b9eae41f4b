package asm

import (
	"fmt"
	"strings"
	"testing"
)

// benchSource returns n lines of assembly in blocks of eight: a label, a
// LOAD, register arithmetic, a compare-and-branch back to the label, a
// LOADF64 of a shared constant, a comment and a call. It is the file that
// scripts/gen-big-iasm.awk writes (docs/performance.md).
func benchSource(n int) string {
	var b strings.Builder
	for k := 0; k < n/8; k++ {
		fmt.Fprintf(&b, "b%d: load $1 #%d\n", k, k%1000)
		b.WriteString("    add $1 $2 $3\n    inc $1\n    lt $1 $2\n")
		fmt.Fprintf(&b, "    djmpe @b%d\n", k)
		b.WriteString("    loadf64 $f1 #1.5\n    ; the body of block\n")
		fmt.Fprintf(&b, "    call @b%d\n", k)
	}
	return b.String()
}

// BenchmarkAssemble1M assembles a 1,000,000-line file (17.8 MB) and
// reports lines a second and bytes allocated per run.
func BenchmarkAssemble1M(b *testing.B) {
	const lines = 1_000_000
	src := benchSource(lines)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	runs := 0
	for b.Loop() {
		runs++
		p, err := Assemble("big.iasm", src)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Code) != lines/8*7*4 {
			b.Fatalf("%d bytes of code, want %d", len(p.Code), lines/8*7*4)
		}
	}
	b.ReportMetric(float64(lines)*float64(runs)/b.Elapsed().Seconds(), "lines/s")
}
