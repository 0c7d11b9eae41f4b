package jobs

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/iridium-vm/iridium/internal/termtext"
)

// DefaultSpawnAllTimeout is how long SpawnAll waits for the members by
// default.
const DefaultSpawnAllTimeout = 30 * time.Second

// firstLines is how many lines of each member's output SpawnAll keeps.
const firstLines = 3

// MemberResult is how a program run by SpawnAll went on one member.
type MemberResult struct {
	Member  string
	Status  string // done, fault, killed, lost, refused, or "no answer"
	Err     string // the fault's message, or why it was refused or lost (raw)
	RunTime time.Duration
	Lines   []string // the first lines of output, raw (escape them to show them)
	More    int      // how many lines came after them
	Regs    []Register
}

// SpawnAll runs spec's program on every alive member, this one included,
// and gathers how it went on each. Jobs still running at the timeout are
// killed and reported as "no answer". spec's Output, Plain, Started and
// Ended are not used.
func (s *Service) SpawnAll(ctx context.Context, spec RemoteSpec, timeout time.Duration) ([]MemberResult, error) {
	self := s.tr.Self()
	if self == "" {
		return nil, errNoCluster
	}
	if timeout <= 0 {
		timeout = DefaultSpawnAllTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	targets := append([]string{self}, s.members()...)
	results := make([]MemberResult, len(targets))
	var wg sync.WaitGroup
	for i, alias := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.runOn(ctx, alias, alias == self, spec)
		}()
	}
	wg.Wait()
	return results, nil
}

// runOn runs spec's program on one member (here when local) for SpawnAll.
func (s *Service) runOn(ctx context.Context, alias string, local bool, spec RemoteSpec) MemberResult {
	r := MemberResult{Member: alias}
	col := &collector{}
	ended := make(chan struct{})
	var j *Job
	var err error
	if local {
		j, err = s.t.Start(ctx, Spec{File: spec.File, Owner: spec.Owner, Program: spec.Program, Config: s.cfg.VM,
			Output: col, Ended: func(*Job) { close(ended) }})
	} else {
		spec.Output, spec.Plain, spec.Started = col, true, nil
		spec.Ended = func(*Job) { close(ended) }
		j, err = s.SpawnOn(ctx, alias, spec)
	}
	if err != nil {
		r.Status, r.Err = "refused", err.Error()
		if ctx.Err() != nil {
			r.Status = "no answer"
		}
		return r
	}
	select {
	case <-ended:
	case <-ctx.Done():
		j.Kill()
		r.Status, r.Err = "no answer", fmt.Sprintf("still running after the timeout; killed after %v", RoundRunTime(j.RunTime()))
		return r
	}
	state, jerr := j.Status()
	r.Status, r.RunTime, r.Regs = EndWord(state), j.RunTime(), j.Changed()
	if jerr != nil {
		r.Err = jerr.Error()
	}
	r.Lines, r.More = col.result()
	return r
}

// collector keeps the first lines written to it and counts the others.
type collector struct {
	mu      sync.Mutex
	lines   []string
	more    int
	partial []byte
}

func (c *collector) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			if len(c.partial) > maxShownLine {
				c.add(c.partial)
				c.partial = c.partial[:0]
			}
			return len(p), nil
		}
		c.add(c.partial[:i])
		c.partial = c.partial[i+1:]
	}
}

func (c *collector) add(line []byte) {
	if len(c.lines) < firstLines {
		c.lines = append(c.lines, termtext.Cut(string(line), maxShownLine))
		return
	}
	c.more++
}

// Flush keeps a last line without a newline.
func (c *collector) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.partial) > 0 {
		c.add(c.partial)
		c.partial = nil
	}
	return nil
}

func (c *collector) result() ([]string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lines, c.more
}
