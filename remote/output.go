package remote

import (
	"errors"
	"io"
	"sync"
)

// maxPendingOutput bounds the output a session holds that its client has
// not taken yet; past it, the session's writers wait.
const maxPendingOutput = 64 << 10

// errOutputClosed is what writing to a session's output returns once the
// session has ended.
var errOutputClosed = errors.New("the session has ended")

// outputPump is the one writer of a session channel's data: standard
// output and standard error, written by many goroutines at once (line
// editing, the shell, spawned programs, event notices), are queued and
// sent in order by one goroutine. x/crypto/ssh's channel must not be
// written from several goroutines at once, nor written after CloseWrite;
// and no writer holds a lock while the channel blocks on a client that
// does not read.
type outputPump struct {
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []outputChunk
	pending int   // bytes in queue
	err     error // the channel's write error, or errOutputClosed
	closing bool
	done    chan struct{}
}

type outputChunk struct {
	stderr bool
	data   []byte
}

// newOutputPump starts sending to out and errOut.
func newOutputPump(out, errOut io.Writer) *outputPump {
	p := &outputPump{done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	go p.run(out, errOut)
	return p
}

func (p *outputPump) run(out, errOut io.Writer) {
	defer close(p.done)
	for {
		p.mu.Lock()
		for len(p.queue) == 0 && !p.closing && p.err == nil {
			p.cond.Wait()
		}
		if len(p.queue) == 0 || p.err != nil {
			p.mu.Unlock()
			return
		}
		c := p.queue[0]
		p.queue = p.queue[1:]
		p.pending -= len(c.data)
		p.cond.Broadcast()
		p.mu.Unlock()
		w := out
		if c.stderr {
			w = errOut
		}
		if _, err := w.Write(c.data); err != nil {
			p.mu.Lock()
			p.err, p.queue, p.pending = err, nil, 0
			p.cond.Broadcast()
			p.mu.Unlock()
			return
		}
	}
}

// write queues data, waiting while too much is queued.
func (p *outputPump) write(stderr bool, data []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.pending >= maxPendingOutput && p.err == nil && !p.closing {
		p.cond.Wait()
	}
	switch {
	case p.err != nil:
		return 0, p.err
	case p.closing:
		return 0, errOutputClosed
	}
	p.queue = append(p.queue, outputChunk{stderr: stderr, data: append([]byte(nil), data...)})
	p.pending += len(data)
	p.cond.Broadcast()
	return len(data), nil
}

// close refuses new output, waits until what is queued is sent (or
// sending failed), and returns; after it, nothing writes to the channel.
func (p *outputPump) close() {
	p.mu.Lock()
	p.closing = true
	p.cond.Broadcast()
	p.mu.Unlock()
	<-p.done
}

// stdout and stderr are the pump's two streams.
func (p *outputPump) stdout() io.Writer { return pumpStream{p, false} }
func (p *outputPump) stderr() io.Writer { return pumpStream{p, true} }

type pumpStream struct {
	p      *outputPump
	stderr bool
}

func (s pumpStream) Write(b []byte) (int, error) { return s.p.write(s.stderr, b) }
