package wire

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// pair is a message with a field of each kind the protocols use.
type pair struct {
	A  uint8   `codec:"a"`
	B  int32   `codec:"b"`
	S  string  `codec:"s"`
	Bs []byte  `codec:"bs"`
	T  bool    `codec:"t"`
	F  float64 `codec:"f"`
	L  []pair  `codec:"l,omitempty"`
	U  uint64  `codec:"u"`
}

// tree nests as deep as its input: [[[[…]]]] is a tree of one kid of
// one kid…
type tree struct {
	Kids []tree `codec:"k"`
}

// opener is a message that drops the fields it does not know.
type opener struct {
	IgnoreUnknown
	V uint32 `codec:"v"`
}

// mapOf builds a msgpack map of one key whose value is the given bytes.
func mapOf(key string, value ...byte) []byte {
	return append(append([]byte{0x81, 0xa0 | byte(len(key))}, key...), value...)
}

// TestHostileInput checks that bad input is refused with an error, before
// anything big is allocated.
func TestHostileInput(t *testing.T) {
	deep := mapOf("x", append(bytes.Repeat([]byte{0x91}, 40), 0xc0)...)
	longKey := strings.Repeat("k", 10000)
	tests := []struct {
		name string
		in   []byte
		into any
		want string
	}{
		{"map32 claims 4G entries", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}, &pair{}, "EOF"},
		{"array32 claims 4G elements", mapOf("l", 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0), &pair{}, "EOF"},
		{"array16 claims more than left", mapOf("l", 0xdc, 0, 3, 0xc0), &pair{}, "EOF"},
		{"bin32 claims 4G bytes", mapOf("bs", 0xc6, 0xff, 0xff, 0xff, 0xff), &pair{}, "EOF"},
		{"str8 cut short", mapOf("s", 0xd9, 5, 'a'), &pair{}, "EOF"},
		{"uint64 cut short", mapOf("u", 0xcf, 1), &pair{}, "EOF"},
		{"empty input", nil, &pair{}, "EOF"},
		{"deep arrays", bytes.Repeat([]byte{0x91}, 40), &tree{}, "depth"},
		{"deep unknown field", deep, &opener{}, "depth"},
		{"deep any", bytes.Repeat([]byte{0x81, 0xa1, 'k'}, 40), new(any), "depth"},
		{"unknown field", mapOf("zz", 1), &pair{}, `no matching struct field`},
		{"array longer than the fields", []byte{0x99, 1, 1, 0xa0, 0xc0, 0xc2, 0, 0xc0, 0, 0}, &pair{}, "no matching struct field"},
		{"invalid UTF-8", mapOf("s", 0xa2, 0xff, 0xfe), &pair{}, "UTF-8"},
		{"reserved type", mapOf("u", 0xc1), &pair{}, "c1"},
		{"negative into uint", mapOf("u", 0xff), &pair{}, "negative"},
		{"uint8 overflow", mapOf("a", 0xcd, 1, 0), &pair{}, "overflow"},
		{"int32 overflow", mapOf("b", 0xd3, 0, 0, 0, 1, 0, 0, 0, 0), &pair{}, "overflow"},
		{"bool from a string", mapOf("t", 0xa1, 'x'), &pair{}, "bool"},
		{"string for a struct", []byte{0xa1, 'x'}, &pair{}, "map or array"},
		{"stray byte", []byte{0x80, 0xc0}, &pair{}, "1 stray bytes"},
		{"escape in a string", mapOf("s", 0xa3, 0x1b, '[', 0xff), &pair{}, "\x1b[\xff"},
		{"long unknown key", append([]byte{0x81, 0xda, byte(len(longKey) >> 8), byte(len(longKey))}, append([]byte(longKey), 1)...), &pair{}, "no matching struct field"},
	}
	c := New(16)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Decode(tt.in, tt.into)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one with %q", err, tt.want)
			}
			if err != nil && (len(err.Error()) > maxErrorText || strings.Contains(err.Error(), "\x00")) {
				t.Errorf("error of %d bytes: %q", len(err.Error()), err)
			}
		})
	}
	if err := c.Decode([]byte{0x80, 0}, &pair{}); !errors.Is(err, ErrStray) {
		t.Errorf("stray byte: %v, want ErrStray", err)
	}
}

// TestClaimedLengthAllocatesLittle checks that an array claiming 2^32
// elements, cut short, costs kilobytes, not gigabytes.
func TestClaimedLengthAllocatesLittle(t *testing.T) {
	c := New(16)
	in := mapOf("l", 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := c.Decode(in, &pair{})
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("decoded an array cut short")
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("decoding %d bytes allocated %d bytes", len(in), n)
	}
}

// TestLenientForms checks the forms the decoder takes besides the ones
// the encoder writes, and that an IgnoreUnknown type drops what it does
// not know.
func TestLenientForms(t *testing.T) {
	c := New(16)
	for _, tt := range []struct {
		name string
		in   []byte
		want pair
	}{
		{"bytes from an array", mapOf("bs", 0x93, 1, 2, 0xcc, 255), pair{Bs: []byte{1, 2, 255}}},
		{"bytes from a string", mapOf("bs", 0xa1, 'x'), pair{Bs: []byte("x")}},
		{"int from a whole float", mapOf("b", 0xcb, 0x40, 0x45, 0, 0, 0, 0, 0, 0), pair{B: 42}},
		{"bool from 1", mapOf("t", 1), pair{T: true}},
		{"float from an int", mapOf("f", 0xd0, 0xfe), pair{F: -2}},
		{"nil for a struct", []byte{0xc0}, pair{}},
		{"struct from an array", []byte{0x92, 7, 0xd0, 0xfe}, pair{A: 7, B: -2}},
	} {
		var got pair
		if err := c.Decode(tt.in, &got); err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
	in := []byte{0x82, 0xa1, 'v', 3, 0xa1, 'w', 0x92, 0x81, 0xa1, 'k', 0xc0, 0xa1, 'x'}
	var o opener
	if err := c.Decode(in, &o); err != nil || o.V != 3 {
		t.Errorf("opener with an unknown field: %+v, %v", o, err)
	}
}

// TestRoundTripReuses checks that values round-trip through pooled
// encoders and decoders, and that a failed decode spoils nothing after.
func TestRoundTripReuses(t *testing.T) {
	c := New(16)
	want := pair{A: 255, B: math.MinInt32, S: "é", Bs: []byte{}, T: true, F: 2.5, L: []pair{{U: 1}}, U: math.MaxUint64}
	for i := range 3 {
		b, err := c.Encode(want, 1)
		if err != nil || b[0] != 0 {
			t.Fatalf("append: %q, %v", b, err)
		}
		var got pair
		if err := c.Decode(b[1:], &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("round %d: %+v, %v", i, got, err)
		}
		if err := c.Decode([]byte{0xc1}, &got); err == nil {
			t.Error("decoded 0xc1")
		}
	}
}
