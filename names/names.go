// Package names looks up the registered names of other cluster members
// (proc's registry, the REG instruction, the shell's !register) over
// dist's request/answer: a WHEREIS of NAME@ALIAS, the shell's
// !registered ALIAS and !send NAME@ALIAS. Each member answers the
// lookups of another at dist's bounded rate; a lookup over that rate is
// refused, and counts as no such name.
//
// A PID crosses the wire as the answering node's run and a serial
// (dist.WirePID), and the asker translates it into a slot of its own
// table of nodes; an answer naming another node than the one asked is
// taken as no answer.
package names

import (
	"context"
	"errors"
	"fmt"

	"github.com/iridium-vm/iridium/dist"
	"github.com/iridium-vm/iridium/internal/wire"
	"github.com/iridium-vm/iridium/proc"
)

// The request kinds, versioned: a change of shape gets a new name.
const (
	kindWhereis = "names.whereis.v1" // the PID registered under a name
	kindList    = "names.list.v1"    // every name registered
)

// MaxListed is the most names one answer to !registered ALIAS lists; a
// node with more says how many it left out.
const MaxListed = 1000

// maxDepth bounds the nesting of an answer: a list of maps in a map.
const maxDepth = 4

// whereisRequest asks for the PID registered under Name.
type whereisRequest struct {
	Name string `codec:"name"`
}

// whereisAnswer is that PID; the zero WirePID for none.
type whereisAnswer struct {
	PID dist.WirePID `codec:"pid"`
}

// listAnswer is the names of the node run Alias, Inc, each with the
// serial of its process; More counts those left out past MaxListed.
type listAnswer struct {
	Alias string      `codec:"alias"`
	Inc   uint64      `codec:"inc"`
	Names []listEntry `codec:"names"`
	More  int         `codec:"more"`
}

type listEntry struct {
	Name   string `codec:"name"`
	Serial uint32 `codec:"serial"`
}

// Service answers other members' lookups of this node's names and looks
// up theirs. It is the scheduler's proc.NameLookup while it runs.
type Service struct {
	d     *dist.Dist
	s     *proc.Scheduler
	codec *wire.Codec
}

// New starts the service on d for the scheduler s: it answers the
// lookups of other members and becomes s's NameLookup. Close stops it.
func New(d *dist.Dist, s *proc.Scheduler) *Service {
	sv := &Service{d: d, s: s, codec: wire.New(maxDepth)}
	d.HandleRequest(kindWhereis, sv.answerWhereis)
	d.HandleRequest(kindList, sv.answerList)
	s.SetNameLookup(sv)
	return sv
}

// Close stops answering and looking up; a WHEREIS of NAME@ALIAS then
// gives 0 at once.
func (sv *Service) Close() {
	sv.s.SetNameLookup(nil)
	sv.d.HandleRequest(kindWhereis, nil)
	sv.d.HandleRequest(kindList, nil)
}

// answerWhereis answers a member's lookup of a name of this node.
func (sv *Service) answerWhereis(_ string, body []byte) ([]byte, error) {
	var req whereisRequest
	if err := sv.codec.Decode(body, &req); err != nil {
		return nil, fmt.Errorf("malformed name lookup: %w", err)
	}
	if err := proc.CheckName(req.Name); err != nil {
		return nil, err
	}
	return sv.encode(&whereisAnswer{PID: sv.d.ExportPID(sv.s.Whereis(req.Name))})
}

// answerList answers a member's !registered.
func (sv *Service) answerList(_ string, body []byte) ([]byte, error) {
	if len(body) != 0 {
		return nil, errors.New("malformed name listing: the request has no body")
	}
	self := sv.d.Self()
	ans := listAnswer{Alias: self.Alias, Inc: self.Incarnation}
	for _, n := range sv.s.Registered() {
		if len(ans.Names) == MaxListed {
			ans.More++
			continue
		}
		ans.Names = append(ans.Names, listEntry{Name: n.Name, Serial: n.PID.Serial()})
	}
	return sv.encode(&ans)
}

func (sv *Service) encode(v any) ([]byte, error) {
	b, err := sv.codec.Encode(v, 0)
	if err != nil {
		return nil, fmt.Errorf("names: %w", err)
	}
	return b, nil
}

// LookupName implements proc.NameLookup: a lookup of name on the member
// alias, answered within proc.LookupTimeout, 0 for no such name or
// member, a refusal (over the member's rate) or no answer.
func (sv *Service) LookupName(alias, name string, answer func(proc.PID)) {
	if alias == sv.d.Self().Alias {
		answer(sv.s.Whereis(name))
		return
	}
	body, err := sv.encode(&whereisRequest{Name: name})
	if err == nil {
		err = sv.d.Ask(alias, kindWhereis, body, proc.LookupTimeout, func(b []byte, err error) {
			pid, _ := sv.whereisAnswer(alias, b, err)
			answer(pid)
		})
	}
	if err != nil {
		answer(0)
	}
}

// whereisAnswer reads the answer of alias to a lookup: the PID in this
// node's slots, 0 for none.
func (sv *Service) whereisAnswer(alias string, body []byte, err error) (proc.PID, error) {
	if err != nil {
		return 0, err
	}
	var ans whereisAnswer
	if err := sv.codec.Decode(body, &ans); err != nil {
		return 0, fmt.Errorf("name lookup answer from %q: %w", alias, err)
	}
	if ans.PID == (dist.WirePID{}) {
		return 0, nil
	}
	if ans.PID.Alias != alias {
		return 0, fmt.Errorf("name lookup answer from %q names a process of %q", alias, ans.PID.Alias)
	}
	return sv.d.ImportPID(ans.PID), nil
}

// Whereis returns the PID registered under name on the member alias (this
// node for its own alias), 0 if there is none, or why it could not ask.
func (sv *Service) Whereis(ctx context.Context, alias, name string) (proc.PID, error) {
	if err := proc.CheckName(name); err != nil {
		return 0, err
	}
	if alias == sv.d.Self().Alias {
		return sv.s.Whereis(name), nil
	}
	body, err := sv.encode(&whereisRequest{Name: name})
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, proc.LookupTimeout)
	defer cancel()
	b, err := sv.d.Request(ctx, alias, kindWhereis, body)
	return sv.whereisAnswer(alias, b, err)
}

// Registered lists the names registered on the member alias (this node
// for its own alias), their PIDs in this node's slots; more counts those
// it left out.
func (sv *Service) Registered(ctx context.Context, alias string) (list []proc.Name, more int, err error) {
	if alias == sv.d.Self().Alias {
		return sv.s.Registered(), 0, nil
	}
	ctx, cancel := context.WithTimeout(ctx, proc.LookupTimeout)
	defer cancel()
	b, err := sv.d.Request(ctx, alias, kindList, nil)
	if err != nil {
		return nil, 0, err
	}
	return sv.listAnswer(alias, b)
}

// listAnswer reads the answer of alias to !registered: its names, their
// PIDs in this node's slots.
func (sv *Service) listAnswer(alias string, body []byte) (list []proc.Name, more int, err error) {
	var ans listAnswer
	if err := sv.codec.Decode(body, &ans); err != nil {
		return nil, 0, fmt.Errorf("names of %q: %w", alias, err)
	}
	if ans.Alias != alias || len(ans.Names) > MaxListed || ans.More < 0 {
		return nil, 0, fmt.Errorf("names of %q: a bad answer (%d names of %q, %d more)", alias, len(ans.Names), ans.Alias, ans.More)
	}
	for _, e := range ans.Names {
		if proc.CheckName(e.Name) != nil {
			return nil, 0, fmt.Errorf("names of %q: a bad name in the answer", alias)
		}
		pid := sv.d.ImportPID(dist.WirePID{Alias: ans.Alias, Incarnation: ans.Inc, Serial: e.Serial})
		list = append(list, proc.Name{Name: e.Name, PID: pid})
	}
	return list, ans.More, nil
}
