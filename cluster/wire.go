package cluster

import "github.com/iridium-vm/iridium/internal/msgpack"

// The msgpack form of each message: a map of its fields in declaration
// order under the names below; an omitempty field is left out when it is
// nil (an empty but non-nil slice is written).
// The bytes are those the first versions of the protocol wrote with
// github.com/ugorji/go/codec; cluster/testdata/golden pins them.

// maxDepth bounds nesting in a body; our messages nest three levels.
const maxDepth = 16

var memberInfoFields = []string{"alias", "node_id", "incarnation", "host", "port"}

func (m *memberInfo) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 5)
	b = msgpack.AppendString(msgpack.AppendString(b, "alias"), m.Alias)
	b = msgpack.AppendString(msgpack.AppendString(b, "node_id"), m.NodeID)
	b = msgpack.AppendUint(msgpack.AppendString(b, "incarnation"), m.Incarnation)
	b = msgpack.AppendString(msgpack.AppendString(b, "host"), m.Host)
	return msgpack.AppendInt(msgpack.AppendString(b, "port"), int64(m.Port))
}

func (m *memberInfo) decode(d *msgpack.Decoder) error {
	if d.TryNil() {
		*m = memberInfo{}
		return nil
	}
	return d.Struct(memberInfoFields, func(i int) (err error) {
		switch i {
		case 0:
			m.Alias, err = d.String()
		case 1:
			m.NodeID, err = d.String()
		case 2:
			m.Incarnation, err = d.Uint(64)
		case 3:
			m.Host, err = d.String()
		case 4:
			var v int64
			v, err = d.Int(64)
			m.Port = int(v)
		}
		return err
	})
}

func appendMembers(b []byte, members []memberInfo) []byte {
	if members == nil {
		return msgpack.AppendNil(b)
	}
	b = msgpack.AppendArrayHeader(b, len(members))
	for i := range members {
		b = members[i].appendTo(b)
	}
	return b
}

var helloFields = []string{"version", "sender", "nonce", "digest"}

func (m *hello) appendTo(b []byte) []byte {
	n := 3
	if m.Digest != nil {
		n++
	}
	b = msgpack.AppendMapHeader(b, n)
	b = msgpack.AppendUint(msgpack.AppendString(b, "version"), uint64(m.Version))
	b = m.Sender.appendTo(msgpack.AppendString(b, "sender"))
	b = msgpack.AppendBytes(msgpack.AppendString(b, "nonce"), m.Nonce)
	if m.Digest != nil {
		b = msgpack.AppendBytes(msgpack.AppendString(b, "digest"), m.Digest)
	}
	return b
}

func (m *hello) decode(d *msgpack.Decoder) error {
	return d.Struct(helloFields, func(i int) (err error) {
		switch i {
		case 0:
			var v uint64
			v, err = d.Uint(32)
			m.Version = uint32(v)
		case 1:
			err = m.Sender.decode(d)
		case 2:
			m.Nonce, err = d.Bytes()
		case 3:
			m.Digest, err = d.Bytes()
		}
		return err
	})
}

func (m *join) appendTo(b []byte) []byte        { return (*hello)(m).appendTo(b) }
func (m *join) decode(d *msgpack.Decoder) error { return (*hello)(m).decode(d) }

var challengeFields = []string{"responder", "nonce"}

func (m *challenge) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 2)
	b = m.Responder.appendTo(msgpack.AppendString(b, "responder"))
	return msgpack.AppendBytes(msgpack.AppendString(b, "nonce"), m.Nonce)
}

func (m *challenge) decode(d *msgpack.Decoder) error {
	return d.Struct(challengeFields, func(i int) (err error) {
		if i == 0 {
			return m.Responder.decode(d)
		}
		m.Nonce, err = d.Bytes()
		return err
	})
}

var proofFields = []string{"proof"}

func (m *challengeReply) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 1)
	return msgpack.AppendBytes(msgpack.AppendString(b, "proof"), m.Proof)
}

func (m *challengeReply) decode(d *msgpack.Decoder) error {
	return d.Struct(proofFields, func(int) (err error) {
		m.Proof, err = d.Bytes()
		return err
	})
}

var ackFields = []string{"self", "members", "proof"}

// appendAck encodes a HelloAck (omitEmpty false) or a JoinAck (true,
// members left out when nil).
func appendAck(b []byte, self *memberInfo, members []memberInfo, proof []byte, omitEmpty bool) []byte {
	withMembers := !omitEmpty || members != nil
	n := 2
	if withMembers {
		n++
	}
	b = msgpack.AppendMapHeader(b, n)
	b = self.appendTo(msgpack.AppendString(b, "self"))
	if withMembers {
		b = appendMembers(msgpack.AppendString(b, "members"), members)
	}
	return msgpack.AppendBytes(msgpack.AppendString(b, "proof"), proof)
}

func decodeAck(d *msgpack.Decoder, self *memberInfo, members *[]memberInfo, proof *[]byte) error {
	return d.Struct(ackFields, func(i int) (err error) {
		switch i {
		case 0:
			err = self.decode(d)
		case 1:
			err = msgpack.DecodeSlice(d, members, func(m *memberInfo) error { return m.decode(d) })
		case 2:
			*proof, err = d.Bytes()
		}
		return err
	})
}

func (m *helloAck) appendTo(b []byte) []byte {
	return appendAck(b, &m.Self, m.Members, m.Proof, false)
}

func (m *helloAck) decode(d *msgpack.Decoder) error {
	return decodeAck(d, &m.Self, &m.Members, &m.Proof)
}

func (m *joinAck) appendTo(b []byte) []byte {
	return appendAck(b, &m.Self, m.Members, m.Proof, true)
}

func (m *joinAck) decode(d *msgpack.Decoder) error {
	return decodeAck(d, &m.Self, &m.Members, &m.Proof)
}

var refuseFields = []string{"code", "reason"}

func (m *refuse) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 2)
	b = msgpack.AppendString(msgpack.AppendString(b, "code"), m.Code)
	return msgpack.AppendString(msgpack.AppendString(b, "reason"), m.Reason)
}

func (m *refuse) decode(d *msgpack.Decoder) error {
	return d.Struct(refuseFields, func(i int) (err error) {
		if i == 0 {
			m.Code, err = d.String()
		} else {
			m.Reason, err = d.String()
		}
		return err
	})
}

var pingFields = []string{"seq"}

func (m *ping) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 1)
	return msgpack.AppendUint(msgpack.AppendString(b, "seq"), m.Seq)
}

func (m *ping) decode(d *msgpack.Decoder) error {
	return d.Struct(pingFields, func(int) (err error) {
		m.Seq, err = d.Uint(64)
		return err
	})
}

func (m *ack) appendTo(b []byte) []byte        { return (*ping)(m).appendTo(b) }
func (m *ack) decode(d *msgpack.Decoder) error { return (*ping)(m).decode(d) }

var pingReqFields = []string{"seq", "target"}

func (m *pingReq) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 2)
	b = msgpack.AppendUint(msgpack.AppendString(b, "seq"), m.Seq)
	return msgpack.AppendString(msgpack.AppendString(b, "target"), m.Target)
}

func (m *pingReq) decode(d *msgpack.Decoder) error {
	return d.Struct(pingReqFields, func(i int) (err error) {
		if i == 0 {
			m.Seq, err = d.Uint(64)
		} else {
			m.Target, err = d.String()
		}
		return err
	})
}

var livenessFields = []string{"alias", "incarnation", "epoch"}

func (m *liveness) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 3)
	b = msgpack.AppendString(msgpack.AppendString(b, "alias"), m.Alias)
	b = msgpack.AppendUint(msgpack.AppendString(b, "incarnation"), m.Incarnation)
	return msgpack.AppendUint(msgpack.AppendString(b, "epoch"), m.Epoch)
}

func (m *liveness) decode(d *msgpack.Decoder) error {
	return d.Struct(livenessFields, func(i int) (err error) {
		switch i {
		case 0:
			m.Alias, err = d.String()
		case 1:
			m.Incarnation, err = d.Uint(64)
		case 2:
			m.Epoch, err = d.Uint(64)
		}
		return err
	})
}

func (m *suspectMsg) appendTo(b []byte) []byte        { return (*liveness)(m).appendTo(b) }
func (m *suspectMsg) decode(d *msgpack.Decoder) error { return (*liveness)(m).decode(d) }
func (m *aliveMsg) appendTo(b []byte) []byte          { return (*liveness)(m).appendTo(b) }
func (m *aliveMsg) decode(d *msgpack.Decoder) error   { return (*liveness)(m).decode(d) }

var leaveFields = []string{"reason"}

func (m *leave) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 1)
	return msgpack.AppendString(msgpack.AppendString(b, "reason"), m.Reason)
}

func (m *leave) decode(d *msgpack.Decoder) error {
	return d.Struct(leaveFields, func(int) (err error) {
		m.Reason, err = d.String()
		return err
	})
}

var memberUpFields = []string{"member"}

func (m *memberUp) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 1)
	return m.Member.appendTo(msgpack.AppendString(b, "member"))
}

func (m *memberUp) decode(d *msgpack.Decoder) error {
	return d.Struct(memberUpFields, func(int) error { return m.Member.decode(d) })
}

var appMessageFields = []string{"kind", "payload"}

func (m *appMessage) appendTo(b []byte) []byte {
	b = msgpack.AppendMapHeader(b, 2)
	b = msgpack.AppendString(msgpack.AppendString(b, "kind"), m.Kind)
	return msgpack.AppendBytes(msgpack.AppendString(b, "payload"), m.Payload)
}

func (m *appMessage) decode(d *msgpack.Decoder) error {
	return d.Struct(appMessageFields, func(i int) (err error) {
		if i == 0 {
			m.Kind, err = d.String()
		} else {
			m.Payload, err = d.Bytes()
		}
		return err
	})
}

// msgpackDecoder returns a decoder of a message body.
func msgpackDecoder(body []byte) *msgpack.Decoder { return msgpack.NewDecoder(body, maxDepth) }
