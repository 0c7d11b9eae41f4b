package remote

import (
	"log/slog"
	"net"
	"sync"
	"time"
)

// maxSummaryAddrs bounds the distinct addresses a summary counts.
const maxSummaryAddrs = 1024

// refusalLog logs refused connections and failed logins with their source
// address: the first few of each interval one by one, the rest as one
// summary line at the interval's end, so a flood cannot flood the log.
type refusalLog struct {
	logger      *slog.Logger
	every       time.Duration
	perInterval int

	mu          sync.Mutex
	windowStart time.Time
	logged      int
	suppressed  int
	addrs       map[string]struct{}
	timer       *time.Timer
	closed      bool
}

func newRefusalLog(logger *slog.Logger, every time.Duration, perInterval int) *refusalLog {
	return &refusalLog{logger: logger, every: every, perInterval: perInterval, addrs: make(map[string]struct{})}
}

// refuse records one refusal from addr (host:port) and why.
func (r *refusalLog) refuse(addr, why string) {
	r.mu.Lock()
	now := time.Now()
	if now.Sub(r.windowStart) >= r.every {
		r.windowStart, r.logged = now, 0
	}
	if r.logged < r.perInterval {
		r.logged++
		r.mu.Unlock()
		r.logger.Warn("refused connection", "from", addr, "reason", why)
		return
	}
	r.suppressed++
	if host, _, err := net.SplitHostPort(addr); err == nil && len(r.addrs) < maxSummaryAddrs {
		r.addrs[host] = struct{}{}
	}
	if r.timer == nil && !r.closed {
		r.timer = time.AfterFunc(r.windowStart.Add(r.every).Sub(now), r.flush)
	}
	r.mu.Unlock()
}

// flush logs the summary of the refusals not logged one by one.
func (r *refusalLog) flush() {
	r.mu.Lock()
	n, hosts := r.suppressed, len(r.addrs)
	r.suppressed, r.timer = 0, nil
	clear(r.addrs)
	r.mu.Unlock()
	if n > 0 {
		r.logger.Warn("refused more connections", "count", n, "hosts", hosts, "interval", r.every.String())
	}
}

// close logs what is pending and stops the timer.
func (r *refusalLog) close() {
	r.mu.Lock()
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Unlock()
	r.flush()
}
