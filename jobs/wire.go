package jobs

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/vm"
)

// Message kinds of remote spawn. Each name carries its version: a change
// of shape gets a new name, and a member that does not know a kind
// answers with a refusal (see Service.Unknown). docs/cluster.md
// describes each one.
const (
	KindSpawn  = "spawn.v1"        // caller to member: run this program
	KindReply  = "spawn.reply.v1"  // member to caller: the answer to spawn.v1 or spawn.kill.v1
	KindOutput = "spawn.output.v1" // member to caller: lines a job printed
	KindEnd    = "spawn.end.v1"    // member to caller: how a job ended
	KindKill   = "spawn.kill.v1"   // any member to member: stop a job
	KindList   = "jobs.list.v1"    // any member to member: send your job table
	KindTable  = "jobs.table.v1"   // member to asker: the job table
)

// Kinds lists every message kind the service handles, for registering
// handlers with the cluster.
func Kinds() []string {
	return []string{KindSpawn, KindReply, KindOutput, KindEnd, KindKill, KindList, KindTable}
}

// Limits on what a message may hold. A message past one is dropped as
// malformed.
const (
	maxFileName  = 256  // a program's name, in bytes
	maxErrorText = 1024 // a refusal or a fault's message
	maxOwnerName = 128
	maxTableJobs = 2 * KeepJobs
	maxJobID     = math.MaxInt32
	maxSerial    = 1<<24 - 1 // a process serial (proc.PID)
	// maxRunNS bounds a run time: ten years, in nanoseconds.
	maxRunNS = int64(10 * 365 * 24 * time.Hour)
	// maxDropped bounds a count of dropped lines: more than a program
	// prints in years.
	maxDropped = 1 << 50
	// wireOverhead is room kept in a message for everything but its big
	// field (code or output text).
	wireOverhead = 512
)

// spawnMsg asks a member to run a program for the sender.
type spawnMsg struct {
	Req  uint64 `codec:"req"`  // the sender's request number, echoed in the reply
	File string `codec:"file"` // the program's name, for the member's job table
	Code []byte `codec:"code"` // the program as a bytecode file
}

// replyMsg answers spawnMsg (ID is the job started) or killMsg (ID 0).
type replyMsg struct {
	Req uint64 `codec:"req"`
	ID  int    `codec:"id"`
	Err string `codec:"err"` // why the request was refused; "" when it was not
	// Serial and Run, in the answer to spawn.v1, name the job's first
	// process: its serial on the member and the member's run
	// (incarnation), from which the caller makes a PID of its own (see
	// ServiceConfig.ImportPID). Left out when unknown.
	Serial uint32 `codec:"serial,omitempty"`
	Run    uint64 `codec:"run,omitempty"`
}

// outputMsg carries whole lines a job printed.
type outputMsg struct {
	ID      int    `codec:"id"`
	Text    []byte `codec:"text"`    // lines, each ended by '\n'
	Dropped uint64 `codec:"dropped"` // lines dropped just before Text
}

// endMsg says how a job ended.
type endMsg struct {
	ID      int      `codec:"id"`
	State   string   `codec:"state"` // "done", "fault" or "killed"
	Err     string   `codec:"err"`   // the fault's message
	RunNS   int64    `codec:"run_ns"`
	Regs    []regMsg `codec:"regs"`    // the registers left non-zero
	Dropped uint64   `codec:"dropped"` // lines dropped after the last output
}

// regMsg is one register in endMsg.
type regMsg struct {
	Index uint8   `codec:"i"`
	Float bool    `codec:"f"`
	Int   int32   `codec:"v"`
	F64   float64 `codec:"x"`
}

// killMsg asks a member to stop one of its jobs.
type killMsg struct {
	Req uint64 `codec:"req"`
	ID  int    `codec:"id"`
}

// listMsg asks a member for its job table.
type listMsg struct {
	Req uint64 `codec:"req"`
}

// tableMsg is a member's job table.
type tableMsg struct {
	Req  uint64       `codec:"req"`
	Jobs []jobInfoMsg `codec:"jobs"`
}

// jobInfoMsg is one row of tableMsg.
type jobInfoMsg struct {
	ID     int    `codec:"id"`
	Owner  string `codec:"owner"`  // a member's alias, or a shell's name
	Member bool   `codec:"member"` // Owner is a member, not a shell of the sender
	File   string `codec:"file"`
	State  string `codec:"state"` // a State's String
	RunNS  int64  `codec:"run_ns"`
}

// wireMsg is any message above, encoded as codec.go says.
type wireMsg interface {
	validate() error
}

// newWireMsg returns an empty message of a kind to decode into.
func newWireMsg(kind string) (wireMsg, bool) {
	switch kind {
	case KindSpawn:
		return &spawnMsg{}, true
	case KindReply:
		return &replyMsg{}, true
	case KindOutput:
		return &outputMsg{}, true
	case KindEnd:
		return &endMsg{}, true
	case KindKill:
		return &killMsg{}, true
	case KindList:
		return &listMsg{}, true
	case KindTable:
		return &tableMsg{}, true
	}
	return nil, false
}

func checkReq(req uint64) error {
	if req == 0 {
		return errors.New("request number 0")
	}
	return nil
}

func checkID(id int, zeroOK bool) error {
	if id < 0 || id > maxJobID || id == 0 && !zeroOK {
		return fmt.Errorf("job id %d is outside 1-%d", id, maxJobID)
	}
	return nil
}

func checkRunNS(ns int64) error {
	switch {
	case ns < 0:
		return fmt.Errorf("negative run time %dns", ns)
	case ns > maxRunNS:
		return fmt.Errorf("run time %v is over ten years", time.Duration(ns))
	}
	return nil
}

func checkDropped(n uint64) error {
	if n > maxDropped {
		return fmt.Errorf("%d lines dropped, more than %d", n, uint64(maxDropped))
	}
	return nil
}

func checkText(what, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%s has %d bytes, the limit is %d", what, len(s), max)
	}
	return nil
}

func (m *spawnMsg) validate() error {
	if err := checkReq(m.Req); err != nil {
		return err
	}
	if m.File == "" {
		return errors.New("no file name")
	}
	if !vm.IsBytecode(m.Code) {
		return errors.New("code is not Iridium bytecode")
	}
	return checkText("file name", m.File, maxFileName)
}

func (m *replyMsg) validate() error {
	if err := checkReq(m.Req); err != nil {
		return err
	}
	if err := checkID(m.ID, true); err != nil {
		return err
	}
	if m.ID != 0 && m.Err != "" {
		return errors.New("a reply with both a job and an error")
	}
	if m.Serial > maxSerial {
		return fmt.Errorf("process serial %d over %d", m.Serial, maxSerial)
	}
	return checkText("error", m.Err, maxErrorText)
}

func (m *outputMsg) validate() error {
	if err := checkID(m.ID, false); err != nil {
		return err
	}
	if len(m.Text) > 0 && m.Text[len(m.Text)-1] != '\n' {
		return errors.New("output text does not end a line")
	}
	return checkDropped(m.Dropped)
}

// endStates maps endMsg.State to the State it reports.
var endStates = map[string]State{"done": Finished, "fault": Faulted, "killed": Killed}

func (m *endMsg) validate() error {
	if err := checkID(m.ID, false); err != nil {
		return err
	}
	if _, ok := endStates[m.State]; !ok {
		return fmt.Errorf("unknown end state \"%s\"", termtext.Cut(m.State, 32))
	}
	if err := errors.Join(checkRunNS(m.RunNS), checkDropped(m.Dropped)); err != nil {
		return err
	}
	if len(m.Regs) > 2*vm.NumRegisters {
		return fmt.Errorf("%d registers, at most %d", len(m.Regs), 2*vm.NumRegisters)
	}
	for _, r := range m.Regs {
		if int(r.Index) >= vm.NumRegisters {
			return fmt.Errorf("register %d is outside 0-%d", r.Index, vm.NumRegisters-1)
		}
	}
	return checkText("error", m.Err, maxErrorText)
}

func (m *killMsg) validate() error {
	if err := checkReq(m.Req); err != nil {
		return err
	}
	return checkID(m.ID, false)
}

func (m *listMsg) validate() error { return checkReq(m.Req) }

func (m *tableMsg) validate() error {
	if err := checkReq(m.Req); err != nil {
		return err
	}
	if len(m.Jobs) > maxTableJobs {
		return fmt.Errorf("%d jobs, at most %d", len(m.Jobs), maxTableJobs)
	}
	return nil // bad rows are dropped one by one: see dropBadRows
}

// validate checks one row of a job table.
func (j *jobInfoMsg) validate() error {
	if err := checkID(j.ID, false); err != nil {
		return err
	}
	err := errors.Join(checkRunNS(j.RunNS), checkText("owner", j.Owner, maxOwnerName),
		checkText("file name", j.File, maxFileName), checkText("state", j.State, 16))
	if err != nil {
		return fmt.Errorf("job %d: %w", j.ID, err)
	}
	return nil
}

// dropBadRows removes the rows that fail validation, so that one bad row
// does not cost the whole table, and returns how many it removed and why
// the first of them was bad.
func (m *tableMsg) dropBadRows() (int, error) {
	var first error
	good := m.Jobs[:0]
	for _, j := range m.Jobs {
		if err := j.validate(); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		good = append(good, j)
	}
	n := len(m.Jobs) - len(good)
	m.Jobs = good
	return n, first
}

// wireText makes s fit for a message: valid UTF-8 (which the receiver
// checks), at most max bytes.
func wireText(s string, max int) string {
	return termtext.Cut(strings.ToValidUTF8(s, "?"), max)
}
