package vm_test

import (
	"context"
	"os"
	"testing"

	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

func loadBench(b *testing.B, file string) *vm.Program {
	b.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	p, err := asm.Assemble(file, string(src))
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// runBench runs the program once per iteration on a fresh VM and checks
// register 0 afterwards, so a broken VM cannot post a fast time.
func runBench(b *testing.B, file string, want int32) {
	p := loadBench(b, file)
	ctx := context.Background()
	var steps uint64
	for b.Loop() {
		m := vm.New(vm.Config{})
		m.Load(p)
		if err := m.Run(ctx); err != nil {
			b.Fatal(err)
		}
		if got := m.Registers()[0]; got != want {
			b.Fatalf("$0 = %d, want %d", got, want)
		}
		steps = m.Steps()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps)/float64(b.N), "ns/instr")
}

// BenchmarkCountingLoop counts to 100 million: 300 million instructions.
// The Lua 5.4 reference is `while n ~= N do n = n + 1 end` (docs/performance.md).
func BenchmarkCountingLoop(b *testing.B) { runBench(b, "testdata/bench/count.iasm", 100_000_000) }

// BenchmarkFib30 computes fib(30) recursively: 1.6 million calls.
func BenchmarkFib30(b *testing.B) { runBench(b, "testdata/bench/fib.iasm", 832040) }
