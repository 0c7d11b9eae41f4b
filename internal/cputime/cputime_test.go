package cputime

import "testing"

// CPU time grows while the process computes.
func TestProcessGrows(t *testing.T) {
	before := Process()
	x := 0
	for i := 0; Process()-before == 0 && i < 1<<34; i++ {
		x += i
	}
	if Process() <= before {
		t.Errorf("CPU time did not grow (%d)", x)
	}
}
