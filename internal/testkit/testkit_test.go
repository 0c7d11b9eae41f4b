package testkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as testing's does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}

// fatalOf runs f with a fatalRecorder and returns what it failed with.
func fatalOf(t *testing.T, f func(tb testing.TB)) (msg string) {
	rec := &fatalRecorder{TB: t}
	defer func() {
		if r := recover(); r != nil && r != any(rec) {
			panic(r)
		}
		msg = rec.msg
	}()
	f(rec)
	return ""
}

func TestEventuallyWaitsForTheCondition(t *testing.T) {
	t.Parallel()
	start := time.Now()
	polls := 0
	Eventually(t, 5*time.Second, "the fifth poll", func() bool { polls++; return polls == 5 })
	if polls != 5 {
		t.Fatalf("polled %d times, want 5", polls)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("five polls took %v", d)
	}
}

func TestEventuallyFailsAtTheDeadlineWithTheLastError(t *testing.T) {
	t.Parallel()
	start := time.Now()
	msg := fatalOf(t, func(tb testing.TB) {
		EventuallyNil(tb, 50*time.Millisecond, "the impossible", func() error { return errors.New("not so") })
	})
	if !strings.Contains(msg, "the impossible") || !strings.Contains(msg, "not so") {
		t.Errorf("failure %q does not name what was awaited and the last error", msg)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("gave up after %v, before the deadline", d)
	}
	msg = fatalOf(t, func(tb testing.TB) { Eventually(tb, time.Millisecond, "never", func() bool { return false }) })
	if !strings.Contains(msg, "never") {
		t.Errorf("failure %q does not name what was awaited", msg)
	}
}

func TestBufferTakesWritesFromManyGoroutines(t *testing.T) {
	t.Parallel()
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("ab"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if b.Len() != 1600 || strings.Count(b.String(), "ab") != 800 {
		t.Errorf("got %d bytes, want 800 times ab", b.Len())
	}
}

func TestLeftGoroutinesAreFoundByTheirLabel(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	ctx := pprof.WithLabels(context.Background(), pprof.Labels(testLabel, "leaky"))
	started := make(chan struct{})
	go pprof.Do(ctx, pprof.Labels(), func(context.Context) {
		go func() { <-stop }() // inherits the label
		close(started)
		<-stop
	})
	<-started
	left := awaitGoroutines(testLabel, "leaky", 20*time.Millisecond)
	if strings.Count(left, `"testkit.test":"leaky"`) != 2 {
		t.Errorf("want the two labelled goroutines, got:\n%s", left)
	}
	close(stop)
	if left := awaitGoroutines(testLabel, "leaky", LeakGrace); left != "" {
		t.Errorf("goroutines still listed after they ended:\n%s", left)
	}
	if left := awaitGoroutines(testLabel, "other", 0); left != "" {
		t.Errorf("goroutines of another label listed:\n%s", left)
	}
}

func TestCheckGoroutinesPassesWhenEverythingEnds(t *testing.T) {
	t.Parallel()
	CheckGoroutines(t)
	done := make(chan struct{})
	go func() { time.Sleep(10 * time.Millisecond); close(done) }()
	t.Cleanup(func() { <-done })
}

func TestPortsAreFreeLockedAndBelowTheEphemeralRange(t *testing.T) {
	t.Parallel()
	ports := Ports(t, 3)
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || p < firstPort || p >= ephemeralLow() {
			t.Fatalf("ports %v: repeated, or outside %d-%d", ports, firstPort, ephemeralLow()-1)
		}
		seen[p] = true
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d handed out but not free: %v", p, err)
		}
		ln.Close()
	}
	for _, p := range Ports(t, 3) {
		if seen[p] {
			t.Errorf("port %d handed out twice while the first test holds it", p)
		}
	}
}

// leakEnv names, in the environment of a run of this test binary, what
// TestLeaky leaks: "test" under CheckGoroutines, "main" with Main alone.
const leakEnv = "TESTKIT_LEAK"

// TestLeaky leaks a goroutine when the test binary is run with leakEnv
// set, by the tests below.
func TestLeaky(t *testing.T) {
	switch os.Getenv(leakEnv) {
	case "":
		t.Skip("run by TestLeaksFailTheTestAndTheRun")
	case "test":
		CheckGoroutines(t)
	}
	go func() { select {} }()
}

// TestLeaksFailTheTestAndTheRun runs TestLeaky in a process of its own:
// a leak fails the test under CheckGoroutines, and the run under Main.
func TestLeaksFailTheTestAndTheRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ mode, want string }{
		{"test", "goroutines this test started are still running"},
		{"main", "goroutines the tests started are still running"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestLeaky$", "-test.count=1")
			cmd.Env = append(os.Environ(), leakEnv+"="+tc.mode)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "TestLeaky.func") {
				t.Errorf("a leak with %s=%s: %v, output:\n%s\nwant a failure saying %q with the leaked goroutine's stack", leakEnv, tc.mode, err, out, tc.want)
			}
		})
	}
}
