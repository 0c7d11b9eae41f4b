package dist

import (
	"context"
	"errors"
	"fmt"

	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/proc"
)

// receiveReq answers a request from the member from, at the member's
// bounded rate.
func (d *Dist) receiveReq(from string, payload []byte) {
	var f reqFrame
	if err := frameCodec.Decode(payload, &f); err != nil {
		d.refuse(from, kindReq, fmt.Errorf("%w: %w", errMalformed, err))
		return
	}
	ans := ansFrame{ID: f.ID}
	a := d.answerer(f.Kind)
	switch {
	case len(f.Kind) > MaxRequestKind || len(f.Body) > MaxRequestBody:
		ans.Err = "request over the limits of kind or body size"
	case !d.allowAnswer(from):
		ans.Err = errRateLimited.Error()
	case a == nil:
		ans.Err = fmt.Sprintf("unknown request kind \"%s\"", termtext.Cut(f.Kind, MaxRequestKind))
	default:
		body, err := a(from, f.Body)
		switch {
		case err != nil:
			ans.Err = errText(err)
		case len(body) > MaxRequestBody:
			ans.Err = fmt.Sprintf("answer of %d bytes over the limit %d", len(body), MaxRequestBody)
		default:
			ans.Body = body
		}
	}
	if box, err := d.outboxFor(from); err == nil {
		box.control(kindAns, encodeFrame(&ans))
	}
}

// receiveAns hands an answer to its request.
func (d *Dist) receiveAns(from string, payload []byte) {
	var f ansFrame
	if err := frameCodec.Decode(payload, &f); err != nil {
		d.refuse(from, kindAns, fmt.Errorf("%w: %w", errMalformed, err))
		return
	}
	if len(f.Err) > maxRefusalText || len(f.Body) > MaxRequestBody {
		d.refuse(from, kindAns, fmt.Errorf("%w: answer over the limits", errMalformed))
		return
	}
	d.req.answered(from, f.ID, f.Body, refusalError(from, f.Err))
}

// Request kinds Dist answers itself.
const (
	reqPS   = "dist.ps.v1"   // list your processes
	reqKill = "dist.kill.v1" // kill this process of yours (started for me)
)

// maxListed bounds a process listing in an answer.
const maxListed = 2000

// psEntry is one process of a listing.
type psEntry struct {
	Serial     uint32 `codec:"serial"`
	Program    string `codec:"program"`
	State      string `codec:"state"`
	Reductions uint64 `codec:"reductions"`
	Mailbox    int    `codec:"mailbox"`
	Dropped    uint64 `codec:"dropped"`
	Memory     int64  `codec:"memory"`
}

type psAnswer struct {
	Procs []psEntry `codec:"procs"`
	More  int       `codec:"more"` // processes left out past maxListed
}

type killRequest struct {
	Serial uint32 `codec:"serial"`
}

// registerBuiltins makes Dist answer the process listing and kill
// requests.
func (d *Dist) registerBuiltins() {
	d.HandleRequest(reqPS, func(string, []byte) ([]byte, error) {
		var a psAnswer
		for _, in := range d.sched.Processes() {
			if len(a.Procs) == maxListed {
				a.More++
				continue
			}
			a.Procs = append(a.Procs, psEntry{Serial: in.PID.Serial(), Program: termtext.Cut(in.Program, 128), State: in.State,
				Reductions: in.Reductions, Mailbox: in.Mailbox, Dropped: in.Dropped, Memory: in.Memory})
		}
		return encodeFrame(&a), nil
	})
	d.HandleRequest(reqKill, func(from string, body []byte) ([]byte, error) {
		var k killRequest
		if err := frameCodec.Decode(body, &k); err != nil {
			return nil, fmt.Errorf("%w: %w", errMalformed, err)
		}
		pid := proc.MakePID(0, k.Serial)
		if pid == 0 {
			return nil, fmt.Errorf("bad serial %d", k.Serial)
		}
		if err := d.sched.KillFor(from, pid); err != nil {
			if errors.Is(err, proc.ErrNotOwner) {
				return nil, fmt.Errorf("%v was not started for %q: a member may kill only the processes it started (!spawn_on)", pid, from)
			}
			return nil, err
		}
		return nil, nil
	})
}

// ListProcesses asks the member alias for its processes; their PIDs are
// PIDs of this node (in the member's slot). More counts those left out.
func (d *Dist) ListProcesses(ctx context.Context, alias string) (list []proc.Info, more int, err error) {
	body, err := d.Request(ctx, alias, reqPS, nil)
	if err != nil {
		return nil, 0, err
	}
	var a psAnswer
	if err := frameCodec.Decode(body, &a); err != nil {
		return nil, 0, fmt.Errorf("process list from %q: %w: %w", alias, errMalformed, err)
	}
	if len(a.Procs) > maxListed {
		return nil, 0, fmt.Errorf("process list from %q: %d entries, over %d", alias, len(a.Procs), maxListed)
	}
	if a.More < 0 {
		return nil, 0, fmt.Errorf("process list from %q: %w: %d more", alias, errMalformed, a.More)
	}
	slot := d.SlotOfMember(alias)
	for _, e := range a.Procs {
		if e.Serial == 0 || proc.MakePID(0, e.Serial) == 0 {
			return nil, 0, fmt.Errorf("process list from %q: %w: serial %d", alias, errMalformed, e.Serial)
		}
		list = append(list, proc.Info{PID: proc.MakePID(slot, e.Serial), Program: e.Program, State: e.State,
			Reductions: e.Reductions, Mailbox: e.Mailbox, Dropped: e.Dropped, Memory: e.Memory})
	}
	return list, a.More, nil
}

// KillRemote asks the node of pid, a PID of another node, to end it and
// waits for its answer: it is refused unless the process was started for
// this node (by !spawn_on), or one such spawned.
func (d *Dist) KillRemote(ctx context.Context, pid proc.PID) error {
	ref, current, ok := d.nodes.Ref(pid.Node())
	if !ok || !current {
		return fmt.Errorf("%v: %w: its node is gone or unknown", pid, proc.ErrNoProcess)
	}
	_, err := d.Request(ctx, ref.Alias, reqKill, encodeFrame(&killRequest{Serial: pid.Serial()}))
	return err
}

// Alias returns the member alias of a node slot, "" if it has none.
func (d *Dist) Alias(slot int) string {
	ref, _, ok := d.nodes.Ref(slot)
	if !ok {
		return ""
	}
	return ref.Alias
}
