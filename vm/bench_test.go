package vm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// suiteDir holds the programs that make bench-vs-lua runs against Lua.
const suiteDir = "../bench"

// suite lists the programs of bench/ with the $0 each leaves at full size.
var suite = []struct {
	name string
	want int32
}{
	{"count", 100_000_000},
	{"fib30", 832040},
	{"fib32", 2178309},
	{"sieve", 78498},
	{"mandelbrot", 101512},
	{"loops_cloop", 100_000_000},
	{"loops_cmp", 100_000_000},
	{"calls", 50_000_000},
}

func assembleFile(tb testing.TB, file, src string) *vm.Program {
	tb.Helper()
	p, err := asm.Assemble(file, src)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func readSuite(tb testing.TB, name string) string {
	tb.Helper()
	src, err := os.ReadFile(filepath.Join(suiteDir, name+".iasm"))
	if err != nil {
		tb.Fatal(err)
	}
	return string(src)
}

// BenchmarkSuite runs each program of bench/ once per iteration on a fresh
// VM and checks $0 afterwards, so a broken VM cannot post a fast time.
// ns/instr is the time divided by the instructions executed.
func BenchmarkSuite(b *testing.B) {
	ctx := context.Background()
	for _, s := range suite {
		b.Run(s.name, func(b *testing.B) {
			p := assembleFile(b, s.name, readSuite(b, s.name))
			var steps uint64
			for b.Loop() {
				m := vm.New(vm.Config{})
				m.Load(p)
				if err := m.Run(ctx); err != nil {
					b.Fatal(err)
				}
				if got := m.Registers()[0]; got != s.want {
					b.Fatalf("$0 = %d, want %d", got, s.want)
				}
				steps = m.Steps()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps)/float64(b.N), "ns/instr")
		})
	}
}

var paramNumber = regexp.MustCompile(`#[-0-9.]+`)

// withParams replaces the number on each line of src marked "; param", in
// order, with the given ones.
func withParams(tb testing.TB, src string, params ...string) string {
	tb.Helper()
	lines := strings.Split(src, "\n")
	for i, line := range lines {
		if !strings.Contains(line, "; param") {
			continue
		}
		if len(params) == 0 {
			tb.Fatalf("more param lines than params, at %q", line)
		}
		lines[i] = strings.Replace(line, paramNumber.FindString(line), "#"+params[0], 1)
		params = params[1:]
	}
	if len(params) != 0 {
		tb.Fatalf("%d params left over", len(params))
	}
	return strings.Join(lines, "\n")
}

// TestSuitePrograms runs the programs of bench/ at small sizes, both with
// Run (fused code) and instruction by instruction with Step, and checks $0
// and the printed result against a Go computation of the same thing.
func TestSuitePrograms(t *testing.T) {
	fib := func(n int) int32 {
		a, b := int32(0), int32(1)
		for range n {
			a, b = b, a+b
		}
		return a
	}
	primesBelow := func(n int) int32 {
		composite := make([]bool, n)
		var count int32
		for i := 2; i < n; i++ {
			if !composite[i] {
				count++
				for j := i * i; j < n; j += i {
					composite[j] = true
				}
			}
		}
		return count
	}
	mandelbrot := func(w, h int, step float64, iters int) int32 {
		var inside int32
		for y := range h {
			ci := float64(-1.0 + float64(float64(y)*step))
			for x := range w {
				cr := float64(-2.0 + float64(float64(x)*step))
				zr, zi, escaped := 0.0, 0.0, false
				for range iters {
					zr2, zi2 := float64(zr*zr), float64(zi*zi)
					if float64(zr2+zi2) > 4 {
						escaped = true
						break
					}
					zi = float64(float64(float64(2*zr)*zi) + ci)
					zr = float64(float64(zr2-zi2) + cr)
				}
				if !escaped {
					inside++
				}
			}
		}
		return inside
	}
	tests := []struct {
		name   string
		params []string
		want   int32
	}{
		{"count", []string{"1234"}, 1234},
		{"fib30", []string{"15"}, fib(15)},
		{"fib32", []string{"1"}, fib(1)},
		{"sieve", []string{"4000", "3", "128"}, primesBelow(1000)},
		{"mandelbrot", []string{"48", "32", "0.0625", "29"}, mandelbrot(48, 32, 0.0625, 30)},
		{"loops_cloop", []string{"7", "99"}, 700},
		{"loops_cmp", []string{"7", "100"}, 700},
		{"calls", []string{"5000"}, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := assembleFile(t, tt.name, withParams(t, readSuite(t, tt.name), tt.params...))
			var runOut, stepOut strings.Builder
			run := vm.New(vm.Config{Stdout: &runOut})
			run.Load(p)
			if err := run.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			step := vm.New(vm.Config{Stdout: &stepOut})
			step.Load(p)
			for !step.Done() {
				if err := step.Step(); err != nil {
					t.Fatal(err)
				}
			}
			want := fmt.Sprintln(tt.want)
			if runOut.String() != want || stepOut.String() != want {
				t.Errorf("Run printed %q, Step printed %q, want %q", runOut.String(), stepOut.String(), want)
			}
			if run.Registers() != step.Registers() || run.FloatRegisters() != step.FloatRegisters() || run.Steps() != step.Steps() {
				t.Errorf("Run and Step end differently: %d and %d steps", run.Steps(), step.Steps())
			}
		})
	}
}

// heapJobSrc grows the heap to 64 MiB in steps of 64 KiB, writing a word in
// every 4 KiB page of each step, as a job that fills its heap does.
const heapJobSrc = `
        load $1 #65536
        load $2 #4096
        load $4 #1024           ; steps
        load $6 #0
grow:   aloc $1
        load $7 #16             ; pages a step
page:   setm $5 $4
        add $5 $2 $5
        dec $7
        neq $7 $6
        djmpe @page
        dec $4
        neq $4 $6
        djmpe @grow
        hlt
`

// rssBytes reads the resident set size of this process from /proc.
func rssBytes(tb testing.TB) int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		tb.Skip("no /proc/self/statm:", err)
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(data), &size, &resident); err != nil {
		tb.Fatal(err)
	}
	return resident * int64(os.Getpagesize())
}

// BenchmarkHeap16Jobs runs 16 VMs side by side, each growing its heap to
// 64 MiB, and reports the memory the process gained while they hold their
// heaps, as a multiple of the 1 GiB of heap: rss/heap. Run it alone, once:
// go test -run '^$' -bench Heap16Jobs -benchtime 1x ./vm/
func BenchmarkHeap16Jobs(b *testing.B) {
	p := assembleFile(b, "heapjob", heapJobSrc)
	const jobs, heap = 16, 64 << 20
	for b.Loop() {
		runtime.GC()
		before := rssBytes(b)
		vms := make([]*vm.VM, jobs)
		errs := make(chan error, jobs)
		for i := range vms {
			vms[i] = vm.New(vm.Config{})
			vms[i].Load(p)
			go func() { errs <- vms[i].Run(context.Background()) }()
		}
		for range vms {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		for _, m := range vms {
			if m.HeapSize() != heap {
				b.Fatalf("heap is %d bytes, want %d", m.HeapSize(), heap)
			}
		}
		b.ReportMetric(float64(rssBytes(b)-before)/float64(jobs*heap), "rss/heap")
		for _, m := range vms {
			m.Reset()
		}
	}
}
