package main

import (
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// How repeated notices are folded: notices of one key (one kind of event
// about one member) beyond foldAfter within foldWindow are not shown one
// by one but counted, and shown as one line at the end of the window. A
// link that flaps thousands of times a second then costs a shell or the
// log a few lines a second, not thousands.
const (
	foldWindow = time.Second
	foldAfter  = 3
	// maxFoldKeys bounds the keys followed at once; notices of further
	// keys are folded together under overflowKey.
	maxFoldKeys = 256
	overflowKey = "\x00others"
)

// repeatFolder passes notices on to publish, folding repeated ones (see
// foldAfter). Notices with no key are passed on as they are.
type repeatFolder struct {
	publish func(notice)

	mu      sync.Mutex
	windows map[string]*foldWindowState
	closed  bool
}

// foldWindowState is what a key showed and folded in its current window.
type foldWindowState struct {
	start  time.Time
	shown  int
	folded int
	last   notice
	timer  *time.Timer // set while notices are folded: it shows them
}

func newRepeatFolder(publish func(notice)) *repeatFolder {
	return &repeatFolder{publish: publish, windows: map[string]*foldWindowState{}}
}

// pass shows msg now, or counts it to be shown folded.
func (f *repeatFolder) pass(msg notice) {
	if msg.key == "" {
		f.publish(msg)
		return
	}
	now := time.Now()
	f.mu.Lock()
	key := msg.key
	if _, ok := f.windows[key]; !ok && len(f.windows) >= maxFoldKeys {
		f.sweepLocked(now)
		if len(f.windows) >= maxFoldKeys {
			key = overflowKey
		}
	}
	w := f.windows[key]
	if w == nil || (w.timer == nil && now.Sub(w.start) >= foldWindow) {
		w = &foldWindowState{start: now}
		f.windows[key] = w
	}
	show := w.shown < foldAfter && key != overflowKey
	if show {
		w.shown++
	} else {
		w.folded++
		w.last = msg
		if w.timer == nil && !f.closed {
			w.timer = time.AfterFunc(foldWindow-now.Sub(w.start), func() { f.flush(key) })
		}
	}
	f.mu.Unlock()
	if show {
		f.publish(msg)
	}
}

// sweepLocked forgets the keys whose window has ended with nothing
// folded; f.mu is held.
func (f *repeatFolder) sweepLocked(now time.Time) {
	for key, w := range f.windows {
		if w.timer == nil && now.Sub(w.start) >= foldWindow {
			delete(f.windows, key)
		}
	}
}

// flush shows what key folded in the window that ended, and opens the
// next window already full: while the notices keep coming, each window
// shows one line.
func (f *repeatFolder) flush(key string) {
	f.mu.Lock()
	w := f.windows[key]
	if w == nil || f.closed {
		f.mu.Unlock()
		return
	}
	folded, last := w.folded, w.last
	if folded == 0 {
		delete(f.windows, key) // a quiet window: the key starts afresh
		f.mu.Unlock()
		return
	}
	w.start, w.shown, w.folded = time.Now(), foldAfter, 0
	w.timer = time.AfterFunc(foldWindow, func() { f.flush(key) })
	f.mu.Unlock()
	f.publish(foldedNotice(key, last, folded))
}

// close stops the timers; what they would have shown is dropped.
func (f *repeatFolder) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for _, w := range f.windows {
		if w.timer != nil {
			w.timer.Stop()
		}
	}
}

// foldedNotice is the one line that stands for count notices folded, the
// last of which was last.
func foldedNotice(key string, last notice, count int) notice {
	if key == overflowKey {
		return notice{text: fmt.Sprintf("cluster: %d more events about other members in the last %v, not shown one by one", count, foldWindow),
			level: slog.LevelWarn, msg: "cluster: events folded", attrs: []slog.Attr{slog.Int("repeated", count)}}
	}
	n := last
	n.text = fmt.Sprintf("%s (repeated %d times in the last %v)", last.text, count, foldWindow)
	n.attrs = append(append([]slog.Attr(nil), last.attrs...), slog.Int("repeated", count))
	return n
}
