package jobs

import "github.com/iridium-vm/iridium/internal/msgpack"

// The msgpack form of each message: a map of its fields in declaration
// order under the names below. The bytes are those the first version of
// remote spawn wrote with github.com/ugorji/go/codec; jobs/testdata/golden
// pins them.

// maxDepth bounds nesting in a payload; our messages nest three levels.
const maxDepth = 8

var spawnFields = []string{"req", "file", "code"}

func (m *spawnMsg) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 3)
	b = msgpack.AppendUint(msgpack.AppendString(b, "req"), m.Req)
	b = msgpack.AppendString(msgpack.AppendString(b, "file"), m.File)
	return msgpack.AppendBytes(msgpack.AppendString(b, "code"), m.Code)
}

func (m *spawnMsg) decode(d *msgpack.Decoder) error {
	return d.Struct(spawnFields, func(i int) (err error) {
		switch i {
		case 0:
			m.Req, err = d.Uint(64)
		case 1:
			m.File, err = d.String()
		case 2:
			m.Code, err = d.Bytes()
		}
		return err
	})
}

var replyFields = []string{"req", "id", "err"}

func (m *replyMsg) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 3)
	b = msgpack.AppendUint(msgpack.AppendString(b, "req"), m.Req)
	b = msgpack.AppendInt(msgpack.AppendString(b, "id"), int64(m.ID))
	return msgpack.AppendString(msgpack.AppendString(b, "err"), m.Err)
}

func (m *replyMsg) decode(d *msgpack.Decoder) error {
	return d.Struct(replyFields, func(i int) (err error) {
		switch i {
		case 0:
			m.Req, err = d.Uint(64)
		case 1:
			m.ID, err = decodeInt(d)
		case 2:
			m.Err, err = d.String()
		}
		return err
	})
}

// decodeInt reads an int (64 bits, as the platforms we build for have).
func decodeInt(d *msgpack.Decoder) (int, error) {
	v, err := d.Int(64)
	return int(v), err
}

var outputFields = []string{"id", "text", "dropped"}

func (m *outputMsg) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 3)
	b = msgpack.AppendInt(msgpack.AppendString(b, "id"), int64(m.ID))
	b = msgpack.AppendBytes(msgpack.AppendString(b, "text"), m.Text)
	return msgpack.AppendUint(msgpack.AppendString(b, "dropped"), m.Dropped)
}

func (m *outputMsg) decode(d *msgpack.Decoder) error {
	return d.Struct(outputFields, func(i int) (err error) {
		switch i {
		case 0:
			m.ID, err = decodeInt(d)
		case 1:
			m.Text, err = d.Bytes()
		case 2:
			m.Dropped, err = d.Uint(64)
		}
		return err
	})
}

var endFields = []string{"id", "state", "err", "run_ns", "regs", "dropped"}

func (m *endMsg) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 6)
	b = msgpack.AppendInt(msgpack.AppendString(b, "id"), int64(m.ID))
	b = msgpack.AppendString(msgpack.AppendString(b, "state"), m.State)
	b = msgpack.AppendString(msgpack.AppendString(b, "err"), m.Err)
	b = msgpack.AppendInt(msgpack.AppendString(b, "run_ns"), m.RunNS)
	b = msgpack.AppendString(b, "regs")
	if m.Regs == nil {
		b = msgpack.AppendNil(b)
	} else {
		b = msgpack.AppendArrayHeader(b, len(m.Regs))
		for i := range m.Regs {
			b = m.Regs[i].appendTo(b)
		}
	}
	return msgpack.AppendUint(msgpack.AppendString(b, "dropped"), m.Dropped)
}

func (m *endMsg) decode(d *msgpack.Decoder) error {
	return d.Struct(endFields, func(i int) (err error) {
		switch i {
		case 0:
			m.ID, err = decodeInt(d)
		case 1:
			m.State, err = d.String()
		case 2:
			m.Err, err = d.String()
		case 3:
			m.RunNS, err = d.Int(64)
		case 4:
			err = msgpack.DecodeSlice(d, &m.Regs, func(r *regMsg) error { return r.decode(d) })
		case 5:
			m.Dropped, err = d.Uint(64)
		}
		return err
	})
}

var regFields = []string{"i", "f", "v", "x"}

func (r *regMsg) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 4)
	b = msgpack.AppendUint(msgpack.AppendString(b, "i"), uint64(r.Index))
	b = msgpack.AppendBool(msgpack.AppendString(b, "f"), r.Float)
	b = msgpack.AppendInt(msgpack.AppendString(b, "v"), int64(r.Int))
	return msgpack.AppendFloat64(msgpack.AppendString(b, "x"), r.F64)
}

func (r *regMsg) decode(d *msgpack.Decoder) error {
	if d.TryNil() {
		*r = regMsg{}
		return nil
	}
	return d.Struct(regFields, func(i int) error {
		switch i {
		case 0:
			v, err := d.Uint(8)
			r.Index = uint8(v)
			return err
		case 1:
			v, err := d.Bool()
			r.Float = v
			return err
		case 2:
			v, err := d.Int(32)
			r.Int = int32(v)
			return err
		}
		v, err := d.Float64()
		r.F64 = v
		return err
	})
}

var killFields = []string{"req", "id"}

func (m *killMsg) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 2)
	b = msgpack.AppendUint(msgpack.AppendString(b, "req"), m.Req)
	return msgpack.AppendInt(msgpack.AppendString(b, "id"), int64(m.ID))
}

func (m *killMsg) decode(d *msgpack.Decoder) error {
	return d.Struct(killFields, func(i int) (err error) {
		if i == 0 {
			m.Req, err = d.Uint(64)
		} else {
			m.ID, err = decodeInt(d)
		}
		return err
	})
}

var listFields = []string{"req"}

func (m *listMsg) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 1)
	return msgpack.AppendUint(msgpack.AppendString(b, "req"), m.Req)
}

func (m *listMsg) decode(d *msgpack.Decoder) error {
	return d.Struct(listFields, func(int) (err error) {
		m.Req, err = d.Uint(64)
		return err
	})
}

var tableFields = []string{"req", "jobs"}

func (m *tableMsg) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 2)
	b = msgpack.AppendUint(msgpack.AppendString(b, "req"), m.Req)
	b = msgpack.AppendString(b, "jobs")
	if m.Jobs == nil {
		return msgpack.AppendNil(b)
	}
	b = msgpack.AppendArrayHeader(b, len(m.Jobs))
	for i := range m.Jobs {
		b = m.Jobs[i].appendTo(b)
	}
	return b
}

func (m *tableMsg) decode(d *msgpack.Decoder) error {
	return d.Struct(tableFields, func(i int) (err error) {
		if i == 0 {
			m.Req, err = d.Uint(64)
			return err
		}
		return msgpack.DecodeSlice(d, &m.Jobs, func(j *jobInfoMsg) error { return j.decode(d) })
	})
}

var jobInfoFields = []string{"id", "owner", "member", "file", "state", "run_ns"}

func (j *jobInfoMsg) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 6)
	b = msgpack.AppendInt(msgpack.AppendString(b, "id"), int64(j.ID))
	b = msgpack.AppendString(msgpack.AppendString(b, "owner"), j.Owner)
	b = msgpack.AppendBool(msgpack.AppendString(b, "member"), j.Member)
	b = msgpack.AppendString(msgpack.AppendString(b, "file"), j.File)
	b = msgpack.AppendString(msgpack.AppendString(b, "state"), j.State)
	return msgpack.AppendInt(msgpack.AppendString(b, "run_ns"), j.RunNS)
}

func (j *jobInfoMsg) decode(d *msgpack.Decoder) error {
	if d.TryNil() {
		*j = jobInfoMsg{}
		return nil
	}
	return d.Struct(jobInfoFields, func(i int) (err error) {
		switch i {
		case 0:
			j.ID, err = decodeInt(d)
		case 1:
			j.Owner, err = d.String()
		case 2:
			j.Member, err = d.Bool()
		case 3:
			j.File, err = d.String()
		case 4:
			j.State, err = d.String()
		case 5:
			j.RunNS, err = d.Int(64)
		}
		return err
	})
}
