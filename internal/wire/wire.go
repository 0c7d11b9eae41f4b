// Package wire holds the one set of MessagePack settings with which the
// cluster and the jobs service encode their messages: Go structs written
// and read by github.com/ugorji/go/codec, each struct's field names given
// once, by its `codec:"…"` tags.
//
// The settings reproduce the bytes of the first versions of both
// protocols (bin for []byte, str8 for strings, nil for a nil slice, maps
// of field names) and bound what hostile input can cost: nesting depth,
// the elements a claimed length preallocates, strings that must be UTF-8,
// no field the struct does not name, no byte after the value, and error
// text of bounded length.
package wire

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/ugorji/go/codec"
)

// maxPrealloc is the most elements a claimed length preallocates; past it
// a slice grows as its elements arrive.
const maxPrealloc = 1024

// maxPooledBuffer is the largest encoding buffer kept for reuse.
const maxPooledBuffer = 64 << 10

// maxErrorText bounds the text of a decoding error: the codec may quote
// a field name from the input.
const maxErrorText = 160

// ErrStray is wrapped by the error about bytes after the value.
var ErrStray = errors.New("stray bytes after the value")

// Codec encodes values to MessagePack and decodes them back. It is safe
// for concurrent use: it keeps encoders and decoders in pools and reuses
// them.
type Codec struct {
	h    *codec.MsgpackHandle
	encs sync.Pool // of *encoder
	decs sync.Pool // of *codec.Decoder
}

// encoder is a pooled encoder with the buffer it writes to.
type encoder struct {
	enc *codec.Encoder
	buf []byte
}

// New returns a Codec whose decoder refuses maps and arrays nested deeper
// than maxDepth levels (the outermost value is level 1).
func New(maxDepth int16) *Codec {
	h := &codec.MsgpackHandle{WriteExt: true}
	h.MaxInitLen = maxPrealloc
	h.MaxDepth = maxDepth
	h.ValidateUnicode = true
	// A field the struct does not name is an error, not skipped: the
	// codec skips values without bounding their nesting. A type that
	// must take unknown fields implements codec.MissingFielder (see
	// IgnoreUnknown), which decodes them within the limits.
	h.ErrorIfNoField = true
	return &Codec{h: h}
}

// Encode returns the encoding of v after room bytes left free for the
// caller (a frame header, say), in a slice of its own of just that size.
func (c *Codec) Encode(v any, room int) ([]byte, error) {
	e, _ := c.encs.Get().(*encoder)
	if e == nil {
		e = &encoder{}
		e.enc = codec.NewEncoderBytes(&e.buf, c.h)
	} else {
		e.enc.ResetBytes(&e.buf)
	}
	if err := e.enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err) // e is dropped: an encoder fails once for all
	}
	out := make([]byte, room+len(e.buf))
	copy(out[room:], e.buf)
	if cap(e.buf) <= maxPooledBuffer {
		c.encs.Put(e)
	}
	return out, nil
}

// Decode decodes data, which must hold one value and nothing after it,
// into v (a pointer). On an error v may hold part of the value.
func (c *Codec) Decode(data []byte, v any) error {
	d, _ := c.decs.Get().(*codec.Decoder)
	if d == nil {
		d = codec.NewDecoderBytes(data, c.h)
	} else {
		d.ResetBytes(data)
	}
	if err := d.Decode(v); err != nil {
		return clipError(err) // d is dropped after an error
	}
	n := d.NumBytesRead()
	d.ResetBytes(nil) // let go of data
	c.decs.Put(d)
	if n != len(data) {
		return fmt.Errorf("%d %w", len(data)-n, ErrStray)
	}
	return nil
}

// clipError bounds the text of err, which may quote the input, to
// maxErrorText bytes with termtext.Cut. Like all text from outside it
// stays raw: whoever shows it escapes it.
func clipError(err error) error {
	s := err.Error()
	// v1.3.2 writes some messages after a run of NUL bytes (panicHdlBytes
	// makes its buffer with a length, not a capacity): drop them.
	text := termtext.Cut(strings.ReplaceAll(s, "\x00", ""), maxErrorText)
	if text == s {
		return err
	}
	return errors.New(text)
}

// IgnoreUnknown implements codec.MissingFielder for a message whose
// decoder takes fields it does not know (decoded within the Codec's
// limits, then dropped), such as an opener of another protocol version.
// Embed it in the message's struct.
type IgnoreUnknown struct{}

// CodecMissingField drops the field.
func (IgnoreUnknown) CodecMissingField([]byte, any) bool { return true }

// CodecMissingFields adds no field to an encoding.
func (IgnoreUnknown) CodecMissingFields() map[string]any { return nil }
