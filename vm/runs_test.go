package vm

import (
	"errors"
	"testing"
)

// runCounter counts what a RunObserver is told, and checks that no end
// comes before its start.
type runCounter struct {
	t              *testing.T
	started, ended int
}

func (c *runCounter) RunStarted() { c.started++ }
func (c *runCounter) RunEnded() {
	if c.ended >= c.started {
		c.t.Error("RunEnded without RunStarted")
	}
	c.ended++
}

func TestRunTellsItsObserverOfEachRun(t *testing.T) {
	tests := []struct {
		name, src string
		fault     bool
	}{
		{"halts", "load $0 #1; hlt", false},
		{"faults", "load $0 #1; load $1 #0; div $0 $1 $2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &runCounter{t: t}
			m, _ := newVM(t, Config{Runs: c}, nil, tt.src)
			for i := 1; i <= 2; i++ {
				err := run(m)
				var f *Fault
				if tt.fault != errors.As(err, &f) {
					t.Fatalf("run %d: %v, want fault %v", i, err, tt.fault)
				}
				if c.started != i || c.ended != i {
					t.Fatalf("after run %d: told %d starts and %d ends, want %d of each", i, c.started, c.ended, i)
				}
				m.Load(m.Program())
			}
		})
	}
}
