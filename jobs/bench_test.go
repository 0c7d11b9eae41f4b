package jobs

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// benchLine is a typical line of program output.
var benchLine = []byte("fib(20) = 6765 and more\n")

// BenchmarkOutboxLine is the member's cost per line a job prints: kept,
// batched and encoded as spawn.output.v1 messages (sent nowhere).
func BenchmarkOutboxLine(b *testing.B) {
	ob := &outbox{batch: 32 << 10, stop: make(chan struct{})}
	ob.send = func(_ context.Context, text []byte, dropped uint64) error {
		encode(&outputMsg{ID: 1, Text: text, Dropped: dropped})
		return nil
	}
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ob.Write(benchLine)
	}
	ob.finish(0)
}

// BenchmarkReceiveLine is the caller's cost per line on the cluster's
// reader goroutine: a 32 KiB spawn.output.v1 message decoded, checked,
// split into lines and queued for the printer (whose own goroutine, which
// escapes and writes them, is not measured).
func BenchmarkReceiveLine(b *testing.B) {
	text := bytes.Repeat(benchLine, (32<<10)/len(benchLine))
	payload := encode(&outputMsg{ID: 1, Text: text})
	perMsg := bytes.Count(text, []byte{'\n'})
	pr := newPrinter(io.Discard, "[n2:1] ") // never started: nothing printed
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += perMsg {
		m, err := decode(KindOutput, payload)
		if err != nil {
			b.Fatal(err)
		}
		pr.push(m.(*outputMsg).Text, 0)
		pr.mu.Lock()
		if len(pr.items) != perMsg {
			b.Fatalf("%d lines queued, want %d", len(pr.items), perMsg)
		}
		pr.items, pr.lines, pr.bytes = pr.items[:0], 0, 0 // as the printer takes them
		pr.mu.Unlock()
	}
}

// BenchmarkStartFullTable is the table's cost of entering a job when it
// holds MaxKeptJobs faults no wait has reported (the most it keeps): the
// forgetting a start does, without running a program.
func BenchmarkStartFullTable(b *testing.B) {
	tb := NewTable(1)
	owner := NewOwner("me")
	enter := func(id int) {
		j := tb.track("n2", id, "p", owner, func(error) {})
		tb.settle(j, Faulted, ErrKilled, nil, j.Started, nil)
	}
	for id := 1; id <= MaxKeptJobs; id++ {
		enter(id)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		enter(MaxKeptJobs + 1 + i)
	}
	b.StopTimer()
	if n := len(tb.List()); n > MaxKeptJobs {
		b.Fatalf("the table holds %d jobs, more than %d", n, MaxKeptJobs)
	}
}
