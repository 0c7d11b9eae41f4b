package repl

import (
	"context"
	"fmt"
	"testing"

	"github.com/iridium-vm/iridium/internal/cputime"
)

// BenchmarkAppendLine measures what one typed line costs a scripted shell
// whose program already has 10k, 100k or 1M lines: assembling it,
// appending it, decoding it and running it. The cost per line must not
// grow with the lines before it. "labels" puts a label on every line.
func BenchmarkAppendLine(b *testing.B) {
	for _, labels := range []bool{false, true} {
		for _, size := range []int{10_000, 100_000, 1_000_000} {
			b.Run(fmt.Sprintf("labels=%v/lines=%d", labels, size), func(b *testing.B) {
				s, err := New(Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				ctx := context.Background()
				line := func(i int) string {
					if labels {
						return fmt.Sprintf("l%d: inc $1", i)
					}
					return "inc $1"
				}
				for i := 0; i < size; i++ {
					if err := s.Execute(ctx, line(i)); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				cpu := cputime.Process()
				for i := 0; i < b.N; i++ {
					if err := s.Execute(ctx, line(size+i)); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				cpu = cputime.Process() - cpu
				if got, want := s.vm.Registers()[1], int32(size+b.N); got != want {
					b.Fatalf("$1 = %d after %d lines, want %d", got, size+b.N, want)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/line")
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/line")
			})
		}
	}
}
