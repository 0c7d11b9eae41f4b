package msgpack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// ErrShort is wrapped by every error about input that ends too soon.
var ErrShort = errors.New("msgpack: input ends inside a value")

// Decoder reads MessagePack values from a byte slice. Every length is
// checked against the bytes left before anything is allocated, and maps
// and arrays nest at most MaxDepth levels (the skipped values of unknown
// fields included). A Decoder never panics on any input.
type Decoder struct {
	buf      []byte
	off      int
	depth    int
	maxDepth int
}

// NewDecoder returns a Decoder of b allowing maps and arrays nested at
// most maxDepth levels (the outermost value is level 1).
func NewDecoder(b []byte, maxDepth int) *Decoder {
	return &Decoder{buf: b, maxDepth: maxDepth}
}

// Offset is the number of bytes read so far.
func (d *Decoder) Offset() int { return d.off }

func (d *Decoder) left() int { return len(d.buf) - d.off }

func (d *Decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("msgpack: at byte %d: %s", d.off, fmt.Sprintf(format, args...))
}

func (d *Decoder) peek() (byte, error) {
	if d.off >= len(d.buf) {
		return 0, fmt.Errorf("%w (at byte %d)", ErrShort, d.off)
	}
	return d.buf[d.off], nil
}

// take returns the next n bytes.
func (d *Decoder) take(n int) ([]byte, error) {
	if n < 0 || n > d.left() {
		return nil, fmt.Errorf("%w: %d bytes wanted at byte %d, %d left", ErrShort, n, d.off, d.left())
	}
	b := d.buf[d.off : d.off+n : d.off+n]
	d.off += n
	return b, nil
}

func (d *Decoder) byte1() (byte, error) {
	b, err := d.take(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// uintN reads a big-endian unsigned integer of n bytes (1, 2, 4 or 8).
func (d *Decoder) uintN(n int) (uint64, error) {
	b, err := d.take(n)
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(b)), nil
	}
	return binary.BigEndian.Uint64(b), nil
}

// TryNil consumes a nil and reports whether there was one.
func (d *Decoder) TryNil() bool {
	if d.off < len(d.buf) && d.buf[d.off] == tNil {
		d.off++
		return true
	}
	return false
}

// number is an integer or float read from the input.
type number struct {
	u      uint64 // the bits of an integer (two's complement when signed)
	f      float64
	float  bool
	f32    bool
	signed bool // u is two's complement
}

func (d *Decoder) number() (number, error) {
	t, err := d.byte1()
	if err != nil {
		return number{}, err
	}
	var n number
	switch {
	case t <= 0x7f:
		n.u = uint64(t)
	case t >= negFixMin:
		n.u = uint64(int64(int8(t)))
	case t >= tUint8 && t <= tUint64:
		n.u, err = d.uintN(1 << (t - tUint8))
	case t >= tInt8 && t <= tInt64:
		var v uint64
		v, err = d.uintN(1 << (t - tInt8))
		switch t {
		case tInt8:
			n.u = uint64(int64(int8(v)))
		case tInt16:
			n.u = uint64(int64(int16(v)))
		case tInt32:
			n.u = uint64(int64(int32(v)))
		default:
			n.u = v
		}
	case t == tFloat32:
		var v uint64
		v, err = d.uintN(4)
		n.f, n.float, n.f32 = float64(math.Float32frombits(uint32(v))), true, true
	case t == tFloat64:
		var v uint64
		v, err = d.uintN(8)
		n.f, n.float = math.Float64frombits(v), true
	default:
		d.off--
		return number{}, d.errorf("want a number, found %s", describe(t))
	}
	n.signed = t >= tInt8 && t <= tInt64 || t >= negFixMin
	return n, err
}

// wholeFloat reports whether a float may stand for an integer: zero, or a
// whole number of magnitude 1 up to 2^23 (float32) or 2^52 (float64).
func (n number) wholeFloat() bool {
	if n.f == 0 && !math.Signbit(n.f) {
		return true
	}
	limit := float64(1 << 52)
	if n.f32 {
		limit = 1 << 23
	}
	a := math.Abs(n.f)
	return a >= 1 && a < limit && n.f == math.Trunc(n.f)
}

// fits reports whether v fits in a signed integer of bits bits.
func fits(v int64, bits uint) bool { return v == v<<(64-bits)>>(64-bits) }

// Int reads an integer (or a whole float) into a signed integer of bits
// bits; nil reads as 0.
func (d *Decoder) Int(bits uint) (int64, error) {
	if d.TryNil() {
		return 0, nil
	}
	start := d.off
	n, err := d.number()
	if err != nil {
		return 0, err
	}
	v := int64(n.u)
	if n.float {
		if !n.wholeFloat() {
			return 0, fmt.Errorf("msgpack: at byte %d: float %v has a fraction", start, n.f)
		}
		v = int64(n.f)
	}
	if !fits(v, bits) {
		return 0, fmt.Errorf("msgpack: at byte %d: %d overflows int%d", start, v, bits)
	}
	return v, nil
}

// Uint reads a non-negative integer (or whole float) into an unsigned
// integer of bits bits; nil reads as 0.
func (d *Decoder) Uint(bits uint) (uint64, error) {
	if d.TryNil() {
		return 0, nil
	}
	start := d.off
	n, err := d.number()
	if err != nil {
		return 0, err
	}
	v := n.u
	switch {
	case n.float && (!n.wholeFloat() || n.f < 0):
		return 0, fmt.Errorf("msgpack: at byte %d: float %v is not a whole non-negative number", start, n.f)
	case n.float:
		v = uint64(n.f)
	case n.signed && int64(v) < 0:
		return 0, fmt.Errorf("msgpack: at byte %d: negative %d for an unsigned field", start, int64(v))
	}
	if bits < 64 && v>>bits != 0 {
		return 0, fmt.Errorf("msgpack: at byte %d: %d overflows uint%d", start, v, bits)
	}
	return v, nil
}

// Float64 reads a float or an integer; nil reads as 0.
func (d *Decoder) Float64() (float64, error) {
	if d.TryNil() {
		return 0, nil
	}
	t, err := d.peek()
	if err != nil {
		return 0, err
	}
	if t == tFloat32 || t == tFloat64 {
		n, err := d.number()
		return n.f, err
	}
	v, err := d.Int(64)
	return float64(v), err
}

// Bool reads true, false, 1 or 0; nil reads as false.
func (d *Decoder) Bool() (bool, error) {
	if d.TryNil() {
		return false, nil
	}
	t, err := d.byte1()
	switch {
	case err != nil:
		return false, err
	case t == tTrue || t == 1:
		return true, nil
	case t == tFalse || t == 0:
		return false, nil
	}
	d.off--
	return false, d.errorf("want a bool, found %s", describe(t))
}

// Bytes reads a bin, a str or an array of small integers; nil reads as
// nil. The result is a copy.
func (d *Decoder) Bytes() ([]byte, error) {
	if d.TryNil() {
		return nil, nil
	}
	t, err := d.peek()
	if err != nil {
		return nil, err
	}
	if isArray(t) {
		return d.byteArray()
	}
	var n int
	switch {
	case t >= fixStrMin && t <= fixStrMin+31:
		d.off++
		n = int(t - fixStrMin)
	case t >= tBin8 && t <= tBin32:
		d.off++
		n, err = d.length(1 << (t - tBin8))
	case t >= tStr8 && t <= tStr32:
		d.off++
		n, err = d.length(1 << (t - tStr8))
	default:
		return nil, d.errorf("want a string or bytes, found %s", describe(t))
	}
	if err != nil {
		return nil, err
	}
	b, err := d.take(n)
	if err != nil {
		return nil, err
	}
	return append([]byte{}, b...), nil
}

// byteArray reads an array of integers 0-255 as bytes.
func (d *Decoder) byteArray() ([]byte, error) {
	n, err := d.arrayLen()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, n) // n <= bytes left, checked by arrayLen
	for range n {
		v, err := d.Uint(8)
		if err != nil {
			return nil, err
		}
		out = append(out, byte(v))
	}
	return out, nil
}

// String reads a str (or a bin or array of bytes) that must be valid
// UTF-8; nil reads as "".
func (d *Decoder) String() (string, error) {
	start := d.off
	b, err := d.Bytes()
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("msgpack: at byte %d: string is not valid UTF-8", start)
	}
	return string(b), nil
}

// length reads a length field of size bytes.
func (d *Decoder) length(size int) (int, error) {
	v, err := d.uintN(size)
	if err != nil {
		return 0, err
	}
	if v > uint64(d.left()) {
		return 0, fmt.Errorf("%w: a length of %d at byte %d, %d bytes left", ErrShort, v, d.off, d.left())
	}
	return int(v), nil
}

func isArray(t byte) bool { return t&0xf0 == fixArrayMin || t == tArray16 || t == tArray32 }
func isMap(t byte) bool   { return t&0xf0 == fixMapMin || t == tMap16 || t == tMap32 }

// containerLen reads the header of a map (per = 2) or an array (per =
// 1), checks that per*n elements of at least a byte each fit in the bytes
// left, and enters one level of nesting.
func (d *Decoder) containerLen(per int) (int, error) {
	t, err := d.byte1()
	if err != nil {
		return 0, err
	}
	var n uint64
	switch {
	case t&0xf0 == fixMapMin || t&0xf0 == fixArrayMin:
		n = uint64(t & 0x0f)
	case t == tMap16 || t == tArray16:
		n, err = d.uintN(2)
	case t == tMap32 || t == tArray32:
		n, err = d.uintN(4)
	}
	if err != nil {
		return 0, err
	}
	if n*uint64(per) > uint64(d.left()) {
		return 0, fmt.Errorf("%w: %d elements claimed at byte %d, %d bytes left", ErrShort, n, d.off, d.left())
	}
	if d.depth+1 >= d.maxDepth {
		return 0, d.errorf("values nested deeper than %d levels", d.maxDepth)
	}
	return int(n), nil
}

func (d *Decoder) arrayLen() (int, error) {
	t, err := d.peek()
	if err != nil {
		return 0, err
	}
	if !isArray(t) {
		return 0, d.errorf("want an array, found %s", describe(t))
	}
	return d.containerLen(1)
}

// Array reads an array (or nil, as no elements), calling elem for each
// element with its index. n is the count, known before the first call.
func (d *Decoder) Array(elem func(i, n int) error) error {
	if d.TryNil() {
		return nil
	}
	n, err := d.arrayLen()
	if err != nil {
		return err
	}
	d.depth++
	defer func() { d.depth-- }()
	for i := range n {
		if err := elem(i, n); err != nil {
			return err
		}
	}
	return nil
}

// DecodeSlice reads an array (nil reads as a nil slice) into *s, calling
// elem for each element. When *s already holds elements (a field that
// came twice) they are decoded into in place, as the codec the wire
// format came from did.
func DecodeSlice[T any](d *Decoder, s *[]T, elem func(*T) error) error {
	if d.TryNil() {
		*s = nil
		return nil
	}
	old := *s
	*s = []T{}
	return d.Array(func(i, n int) error {
		if i == 0 {
			*s = make([]T, 0, min(n, MaxPrealloc))
		}
		var v T
		if i < len(old) {
			v = old[i]
		}
		*s = append(*s, v)
		return elem(&(*s)[i])
	})
}

// MaxPrealloc is the most elements DecodeSlice allocates ahead on the
// word of a claimed length; past it the slice grows as elements arrive.
const MaxPrealloc = 1024

// Struct reads a struct encoded as a map of field names (or as an array
// of fields in order, or nil: no fields). For each field it calls field
// with the field's index in names; fields of other names, and array
// elements past the last name, are skipped.
func (d *Decoder) Struct(names []string, field func(i int) error) error {
	if d.TryNil() {
		return nil
	}
	t, err := d.peek()
	if err != nil {
		return err
	}
	switch {
	case isMap(t):
		return d.structMap(names, field)
	case isArray(t):
		return d.Array(func(i, _ int) error {
			if i < len(names) {
				return field(i)
			}
			return d.Skip()
		})
	}
	return d.errorf("want a map or an array for a struct, found %s", describe(t))
}

func (d *Decoder) structMap(names []string, field func(i int) error) error {
	return d.Map(func(key string) error {
		for i, name := range names {
			if name == key {
				return field(i)
			}
		}
		return d.Skip()
	})
}

// Map reads a map whose keys are strings, calling entry with each key
// to read the value that follows it.
func (d *Decoder) Map(entry func(key string) error) error {
	t, err := d.peek()
	if err != nil {
		return err
	}
	if !isMap(t) {
		return d.errorf("want a map, found %s", describe(t))
	}
	n, err := d.containerLen(2)
	if err != nil {
		return err
	}
	d.depth++
	defer func() { d.depth-- }()
	for range n {
		key, err := d.String()
		if err != nil {
			return fmt.Errorf("map key: %w", err)
		}
		if err := entry(key); err != nil {
			return fmt.Errorf("field %q: %w", clip(key), err)
		}
	}
	return nil
}

// Skip reads and discards one value of any type, extensions included.
func (d *Decoder) Skip() error {
	t, err := d.peek()
	if err != nil {
		return err
	}
	switch {
	case isArray(t):
		return d.Array(func(int, int) error { return d.Skip() })
	case isMap(t):
		n, err := d.containerLen(2)
		if err != nil {
			return err
		}
		d.depth++
		defer func() { d.depth-- }()
		for range 2 * n {
			if err := d.Skip(); err != nil {
				return err
			}
		}
		return nil
	}
	d.off++
	var size int // bytes after the type byte
	switch {
	case t <= 0x7f || t >= negFixMin || t == tNil || t == tFalse || t == tTrue:
	case t >= fixStrMin && t <= fixStrMin+31:
		size = int(t - fixStrMin)
	case t >= tBin8 && t <= tBin32:
		size, err = d.length(1 << (t - tBin8))
	case t >= tStr8 && t <= tStr32:
		size, err = d.length(1 << (t - tStr8))
	case t >= tExt8 && t <= tExt32:
		size, err = d.length(1 << (t - tExt8))
		size++ // the type of the extension
	case t == tFloat32:
		size = 4
	case t == tFloat64:
		size = 8
	case t >= tUint8 && t <= tUint64:
		size = 1 << (t - tUint8)
	case t >= tInt8 && t <= tInt64:
		size = 1 << (t - tInt8)
	case t >= tFixExt1 && t <= tFixExt16:
		size = 1 + 1<<(t-tFixExt1)
	default:
		d.off--
		return d.errorf("unknown type byte 0x%02x", t)
	}
	if err != nil {
		return err
	}
	_, err = d.take(size)
	return err
}

// describe names the type of a value by its first byte, for errors.
func describe(t byte) string {
	switch {
	case t <= 0x7f || t >= negFixMin || t >= tUint8 && t <= tInt64:
		return "an integer"
	case t == tNil:
		return "nil"
	case t == tTrue || t == tFalse:
		return "a bool"
	case t == tFloat32 || t == tFloat64:
		return "a float"
	case t >= fixStrMin && t <= fixStrMin+31 || t >= tStr8 && t <= tStr32:
		return "a string"
	case t >= tBin8 && t <= tBin32:
		return "bytes"
	case isArray(t):
		return "an array"
	case isMap(t):
		return "a map"
	case t >= tExt8 && t <= tExt32 || t >= tFixExt1 && t <= tFixExt16:
		return "an extension"
	}
	return fmt.Sprintf("type byte 0x%02x", t)
}

// clip shortens a field name from the input for an error message.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
