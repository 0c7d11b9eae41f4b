package asm

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/internal/cputime"
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
// reports lines a second and bytes allocated per run. On a machine shared
// with other work, wall time says little: it also reports the CPU time of
// the process per run (the garbage collector's included) and lines per
// CPU second.
func BenchmarkAssemble1M(b *testing.B) {
	const lines = 1_000_000
	src := benchSource(lines)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	runs := 0
	cpu := cputime.Process()
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
	cpu = cputime.Process() - cpu
	b.ReportMetric(float64(lines)*float64(runs)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(runs), "cpu-ns/op")
	b.ReportMetric(float64(lines)*float64(runs)/cpu.Seconds(), "lines/cpu-s")
}
