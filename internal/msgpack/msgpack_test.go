package msgpack

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// decodeAny decodes any value into nil, bool, int64 (signed forms),
// uint64, float64, string, []byte, []any or map[string]any, so that a
// fuzzed input can be encoded again.
func decodeAny(d *Decoder) (any, error) {
	t, err := d.peek()
	if err != nil {
		return nil, err
	}
	switch {
	case t == tNil:
		d.off++
		return nil, nil
	case t == tTrue || t == tFalse:
		return d.Bool()
	case t == tFloat32 || t == tFloat64:
		return d.Float64()
	case t <= 0x7f || t >= tUint8 && t <= tUint64:
		return d.Uint(64)
	case t >= negFixMin || t >= tInt8 && t <= tInt64:
		return d.Int(64)
	case t >= tBin8 && t <= tBin32:
		return d.Bytes()
	case t >= fixStrMin && t <= fixStrMin+31 || t >= tStr8 && t <= tStr32:
		return d.String()
	case isArray(t):
		s := []any{}
		err := d.Array(func(int, int) error {
			v, err := decodeAny(d)
			s = append(s, v)
			return err
		})
		return s, err
	case isMap(t):
		m := map[string]any{}
		err := d.Map(func(key string) error {
			v, err := decodeAny(d)
			m[key] = v
			return err
		})
		return m, err
	}
	return nil, d.Skip()
}

func appendAny(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return AppendNil(b)
	case bool:
		return AppendBool(b, v)
	case float64:
		return AppendFloat64(b, v)
	case uint64:
		return AppendUint(b, v)
	case int64:
		return AppendInt(b, v)
	case []byte:
		return AppendBytes(b, v)
	case string:
		return AppendString(b, v)
	case []any:
		b = AppendArrayHeader(b, len(v))
		for _, e := range v {
			b = appendAny(b, e)
		}
		return b
	case map[string]any:
		b = AppendMapHeader(b, len(v))
		for k, e := range v {
			b = appendAny(AppendString(b, k), e)
		}
		return b
	}
	panic("unknown type")
}

// FuzzDecode decodes any bytes as a value of any type: no panic, the
// offset never passes the end, every value skipped is read whole, and a
// value that decodes encodes to one that decodes the same.
func FuzzDecode(f *testing.F) {
	for _, seed := range [][]byte{
		AppendMapHeader(AppendString(AppendMapHeader(nil, 1), "a"), 2),
		appendAny(nil, map[string]any{"s": "x", "b": []byte{1}, "n": []any{int64(-5), uint64(300), 2.5, true, nil}}),
		{tMap32, 0xff, 0xff, 0xff, 0xff},
		{tBin32, 0xff, 0xff, 0xff, 0xf0, 1},
		{tExt8, 2, 1, 0, 0},
		{0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x90},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		skip := NewDecoder(data, 16)
		skipErr := skip.Skip()
		if skip.off > len(data) {
			t.Fatalf("Skip read to %d of %d bytes", skip.off, len(data))
		}
		d := NewDecoder(data, 16)
		v, err := decodeAny(d)
		if d.off > len(data) {
			t.Fatalf("decode read to %d of %d bytes", d.off, len(data))
		}
		if err != nil {
			return
		}
		if skipErr != nil || skip.off != d.off {
			t.Fatalf("Skip: %v at %d, decode read %d bytes", skipErr, skip.off, d.off)
		}
		again, err := decodeAny(NewDecoder(appendAny(nil, v), 16))
		if err != nil || !equalNaN(v, again) {
			t.Fatalf("round trip of %#v: %#v, %v", v, again, err)
		}
	})
}

func equalNaN(a, b any) bool {
	return reflect.DeepEqual(a, b) || bytes.Equal(appendAny(nil, a), appendAny(nil, b))
}

// TestHostileLengths checks that claimed lengths beyond the input, and
// nesting beyond the limit, are refused before anything is allocated.
func TestHostileLengths(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		read func(d *Decoder) error
		want string
	}{
		{"map32 claims 4G entries", []byte{tMap32, 0xff, 0xff, 0xff, 0xff, 0}, func(d *Decoder) error { return d.Skip() }, "4294967295 elements claimed"},
		{"array16 claims more than left", []byte{tArray16, 0, 3, 1, 2}, func(d *Decoder) error { return d.Skip() }, "3 elements claimed"},
		{"bin32 claims 4G bytes", []byte{tBin32, 0xff, 0xff, 0xff, 0xff}, func(d *Decoder) error { _, err := d.Bytes(); return err }, "a length of 4294967295"},
		{"str8 cut short", []byte{tStr8, 5, 'a'}, func(d *Decoder) error { _, err := d.String(); return err }, "a length of 5"},
		{"ext32 cut short", []byte{tExt32, 0, 0, 0, 9, 1}, func(d *Decoder) error { return d.Skip() }, "a length of 9"},
		{"uint64 cut short", []byte{tUint64, 1}, func(d *Decoder) error { _, err := d.Uint(64); return err }, "8 bytes wanted"},
		{"empty input", nil, func(d *Decoder) error { return d.Skip() }, "input ends"},
		{"deep arrays", bytes.Repeat([]byte{0x91}, 20), func(d *Decoder) error { return d.Skip() }, "nested deeper than 16"},
		{"deep maps", bytes.Repeat([]byte{0x81, 0xa1, 'k'}, 20), func(d *Decoder) error { return d.Skip() }, "nested deeper than 16"},
		{"invalid UTF-8", []byte{0xa2, 0xff, 0xfe}, func(d *Decoder) error { _, err := d.String(); return err }, "not valid UTF-8"},
		{"reserved type", []byte{0xc1}, func(d *Decoder) error { return d.Skip() }, "unknown type byte 0xc1"},
		{"negative into uint", []byte{0xff}, func(d *Decoder) error { _, err := d.Uint(64); return err }, "negative -1"},
		{"uint8 overflow", []byte{tUint16, 1, 0}, func(d *Decoder) error { _, err := d.Uint(8); return err }, "256 overflows uint8"},
		{"int32 overflow", []byte{tInt64, 0, 0, 0, 1, 0, 0, 0, 0}, func(d *Decoder) error { _, err := d.Int(32); return err }, "4294967296 overflows int32"},
		{"fraction into int", AppendFloat64(nil, 1.5), func(d *Decoder) error { _, err := d.Int(64); return err }, "has a fraction"},
		{"bool from 2", []byte{2}, func(d *Decoder) error { _, err := d.Bool(); return err }, "want a bool"},
		{"string for a struct", []byte{0xa1, 'x'}, func(d *Decoder) error { return d.Struct(nil, nil) }, "want a map or an array"},
		{"int map key", []byte{0x81, 1, 1}, func(d *Decoder) error { return d.Struct(nil, nil) }, "map key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.read(NewDecoder(tt.in, 16))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one with %q", err, tt.want)
			}
		})
	}
	if _, err := NewDecoder([]byte{tBin8, 3}, 16).Bytes(); !errors.Is(err, ErrShort) {
		t.Errorf("short bin: %v, want ErrShort", err)
	}
}

// TestLenientForms checks the forms the decoder takes besides the ones
// the encoder writes, as the codec the wire format came from took them.
func TestLenientForms(t *testing.T) {
	d := NewDecoder([]byte{0x93, 1, 2, 0xcc, 255}, 16)
	if b, err := d.Bytes(); err != nil || !bytes.Equal(b, []byte{1, 2, 255}) {
		t.Errorf("bytes from an array: %v, %v", b, err)
	}
	d = NewDecoder(AppendFloat64(nil, 42), 16)
	if v, err := d.Int(64); err != nil || v != 42 {
		t.Errorf("int from a whole float: %v, %v", v, err)
	}
	d = NewDecoder([]byte{1, 0, tNil}, 16)
	b1, _ := d.Bool()
	b2, _ := d.Bool()
	b3, err := d.Bool()
	if !b1 || b2 || b3 || err != nil {
		t.Errorf("bools from 1, 0, nil: %v %v %v %v", b1, b2, b3, err)
	}
	var got []string
	d = NewDecoder([]byte{0x93, 0xa1, 'x', 7, 0xc0}, 16)
	err = d.Struct([]string{"a", "b"}, func(i int) error {
		s, err := d.String()
		got = append(got, s)
		return err
	})
	if err == nil || d.Offset() != 3 {
		t.Errorf("struct from an array: %v at %d", err, d.Offset())
	}
	d = NewDecoder([]byte{0x92, 0xa1, 'x', 0x81, 0xa1, 'y', 0xc0}, 16)
	n := 0
	err = d.Struct([]string{"a"}, func(i int) error { n++; _, err := d.String(); return err })
	if err != nil || n != 1 || d.Offset() != 7 {
		t.Errorf("array element past the fields: %v, %d calls, at %d", err, n, d.Offset())
	}
}

// TestIntegerForms checks the smallest form of each integer.
func TestIntegerForms(t *testing.T) {
	for _, tt := range []struct {
		v    int64
		want []byte
	}{
		{0, []byte{0}}, {127, []byte{0x7f}}, {128, []byte{tInt16, 0, 128}}, {-32, []byte{0xe0}},
		{-33, []byte{tInt8, 0xdf}}, {-129, []byte{tInt16, 0xff, 0x7f}}, {math.MaxInt32 + 1, []byte{tInt64, 0, 0, 0, 0, 0x80, 0, 0, 0}},
	} {
		if got := AppendInt(nil, tt.v); !bytes.Equal(got, tt.want) {
			t.Errorf("AppendInt(%d) = %x, want %x", tt.v, got, tt.want)
		}
		if v, err := NewDecoder(tt.want, 16).Int(64); err != nil || v != tt.v {
			t.Errorf("Int of %x = %d, %v", tt.want, v, err)
		}
	}
	for _, tt := range []struct {
		v    uint64
		want []byte
	}{
		{127, []byte{0x7f}}, {128, []byte{tUint8, 128}}, {256, []byte{tUint16, 1, 0}}, {math.MaxUint32 + 1, []byte{tUint64, 0, 0, 0, 1, 0, 0, 0, 0}},
	} {
		if got := AppendUint(nil, tt.v); !bytes.Equal(got, tt.want) {
			t.Errorf("AppendUint(%d) = %x, want %x", tt.v, got, tt.want)
		}
	}
}

// TestDecodeSlice checks nil, an empty array, and a second occurrence of
// a field decoding into the elements already there.
func TestDecodeSlice(t *testing.T) {
	type pair struct{ A, B uint64 }
	names := []string{"a", "b"}
	read := func(d *Decoder) func(p *pair) error {
		return func(p *pair) error {
			return d.Struct(names, func(i int) (err error) {
				if i == 0 {
					p.A, err = d.Uint(64)
				} else {
					p.B, err = d.Uint(64)
				}
				return err
			})
		}
	}
	s := []pair{{1, 2}, {3, 4}}
	in := AppendUint(AppendString(AppendMapHeader(AppendArrayHeader(nil, 1), 1), "a"), 9)
	d := NewDecoder(in, 16)
	if err := DecodeSlice(d, &s, read(d)); err != nil || !reflect.DeepEqual(s, []pair{{9, 2}}) {
		t.Errorf("into [{1 2} {3 4}]: %v, %v", s, err)
	}
	d = NewDecoder([]byte{0x90}, 16)
	if err := DecodeSlice(d, &s, read(d)); err != nil || s == nil || len(s) != 0 {
		t.Errorf("empty array: %#v, %v", s, err)
	}
	d = NewDecoder([]byte{tNil}, 16)
	if err := DecodeSlice(d, &s, read(d)); err != nil || s != nil {
		t.Errorf("nil: %#v, %v", s, err)
	}
	big := AppendArrayHeader(nil, 5000)
	for range 5000 {
		big = AppendNil(big)
	}
	d = NewDecoder(big, 16)
	if err := DecodeSlice(d, &s, read(d)); err != nil || len(s) != 5000 {
		t.Errorf("5000 elements: %d, %v", len(s), err)
	}
}
