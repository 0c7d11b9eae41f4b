package proc

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// benchFile runs a workload of bench/procs with the line marked mark set
// to n, on a scheduler of threads threads, and reports ops per second.
func benchFile(b *testing.B, file string, threads int, marks map[string]int) {
	src, err := os.ReadFile("../bench/procs/" + file)
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	for i, l := range lines {
		for mark, n := range marks {
			if strings.HasSuffix(strings.TrimSpace(l), "; "+mark) {
				f := strings.Fields(l)
				lines[i] = "load " + f[1] + " #" + strconv.Itoa(n)
			}
		}
	}
	p, err := asm.Assemble(file, strings.Join(lines, "\n"))
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	defer func() {
		// CPU time, unlike the wall time, hardly depends on what else
		// the machine runs.
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	}()
	for range b.N {
		s := New(Config{Threads: threads})
		h, err := s.Start(p, StartOptions{VM: vm.Config{}})
		if err != nil {
			b.Fatal(err)
		}
		<-h.Done()
		if e := h.Exit(); e.Err != nil {
			b.Fatal(e.Err)
		}
		s.Close()
	}
}

// cpuTime returns the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkRing1000x100Threads1(b *testing.B) {
	benchFile(b, "ring.iasm", 1, map[string]int{"N": 1000, "HOPS": 100_000})
	b.ReportMetric(float64(b.N)*100_000/b.Elapsed().Seconds(), "hops/s")
}

func BenchmarkPingPong100k(b *testing.B) {
	benchFile(b, "pingpong.iasm", 0, map[string]int{"N": 100_000})
	b.ReportMetric(float64(b.N)*100_000/b.Elapsed().Seconds(), "trips/s")
}

func BenchmarkSpawn100k(b *testing.B) {
	benchFile(b, "spawn.iasm", 0, map[string]int{"N": 100_000})
	b.ReportMetric(float64(b.N)*100_000/b.Elapsed().Seconds(), "spawns/s")
}
