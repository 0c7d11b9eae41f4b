// Package msgpack is the small subset of MessagePack the cluster and the
// jobs service put on the wire: maps, arrays, strings, byte strings,
// integers, booleans and float64. Encoding appends to a byte slice;
// decoding reads from a byte slice with every length checked against the
// bytes left and nesting bounded.
//
// The encoding choices (the smallest integer form, signed values above 127
// as int16/int32/int64, []byte as bin, nil slices as nil) reproduce what
// github.com/ugorji/go/codec wrote with MsgpackHandle{WriteExt: true}, the
// codec the wire format was first defined with.
package msgpack

import (
	"encoding/binary"
	"math"
)

// Format bytes of the MessagePack specification.
const (
	fixMapMin   = 0x80
	fixArrayMin = 0x90
	fixStrMin   = 0xa0
	negFixMin   = 0xe0
	tNil        = 0xc0
	tFalse      = 0xc2
	tTrue       = 0xc3
	tBin8       = 0xc4
	tBin16      = 0xc5
	tBin32      = 0xc6
	tExt8       = 0xc7
	tExt16      = 0xc8
	tExt32      = 0xc9
	tFloat32    = 0xca
	tFloat64    = 0xcb
	tUint8      = 0xcc
	tUint16     = 0xcd
	tUint32     = 0xce
	tUint64     = 0xcf
	tInt8       = 0xd0
	tInt16      = 0xd1
	tInt32      = 0xd2
	tInt64      = 0xd3
	tFixExt1    = 0xd4
	tFixExt16   = 0xd8
	tStr8       = 0xd9
	tStr16      = 0xda
	tStr32      = 0xdb
	tArray16    = 0xdc
	tArray32    = 0xdd
	tMap16      = 0xde
	tMap32      = 0xdf
)

// appendLen appends a header of a length: the fix form when fix > 0 and
// n < fixMax, else the 8-bit form when b8 != 0, else 16 or 32 bits.
func appendLen(b []byte, n int, fix byte, fixMax int, b8, b16, b32 byte) []byte {
	switch {
	case fix != 0 && n < fixMax:
		return append(b, fix|byte(n))
	case b8 != 0 && n < 1<<8:
		return append(b, b8, byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(b, b16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, b32), uint32(n))
}

// AppendMapHeader appends the header of a map of n entries.
func AppendMapHeader(b []byte, n int) []byte {
	return appendLen(b, n, fixMapMin, 16, 0, tMap16, tMap32)
}

// AppendArrayHeader appends the header of an array of n elements.
func AppendArrayHeader(b []byte, n int) []byte {
	return appendLen(b, n, fixArrayMin, 16, 0, tArray16, tArray32)
}

// AppendNil appends nil.
func AppendNil(b []byte) []byte { return append(b, tNil) }

// AppendString appends s as a str.
func AppendString(b []byte, s string) []byte {
	return append(appendLen(b, len(s), fixStrMin, 32, tStr8, tStr16, tStr32), s...)
}

// AppendBytes appends v as a bin, or nil when v is nil.
func AppendBytes(b []byte, v []byte) []byte {
	if v == nil {
		return AppendNil(b)
	}
	return append(appendLen(b, len(v), 0, 0, tBin8, tBin16, tBin32), v...)
}

// AppendBool appends v.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, tTrue)
	}
	return append(b, tFalse)
}

// AppendUint appends v in its smallest form.
func AppendUint(b []byte, v uint64) []byte {
	switch {
	case v <= math.MaxInt8:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return append(b, tUint8, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, tUint16), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, tUint32), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, tUint64), v)
}

// AppendInt appends v in its smallest signed form (a positive fixint up
// to 127, then int16, int32 or int64).
func AppendInt(b []byte, v int64) []byte {
	switch {
	case v > math.MaxInt8 && v <= math.MaxInt16, v < math.MinInt8 && v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, tInt16), uint16(v))
	case v > math.MaxInt16 && v <= math.MaxInt32, v < math.MinInt16 && v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, tInt32), uint32(v))
	case v > math.MaxInt32, v < math.MinInt32:
		return binary.BigEndian.AppendUint64(append(b, tInt64), uint64(v))
	case v >= -32:
		return append(b, byte(v))
	}
	return append(b, tInt8, byte(v))
}

// AppendFloat64 appends v as a float64.
func AppendFloat64(b []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, tFloat64), math.Float64bits(v))
}
