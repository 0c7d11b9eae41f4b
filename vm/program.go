package vm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Program is what the VM runs: read-only data and code. Code addresses and
// read-only offsets both start at 0.
type Program struct {
	ReadOnly []byte // constants: strings, integers, floats
	Code     []byte // instructions, InstructionSize bytes each
}

// The bytecode file format, version 1. All numbers are little-endian.
//
//	offset  size  field
//	0       4     magic "EPIE"
//	4       2     format version (1)
//	6       2     reserved, 0
//	8       4     read-only length R
//	12      4     code length C, a multiple of 4
//	16      4     CRC-32 (IEEE) of the R+C bytes that follow the header
//	20      44    reserved, 0
//	64      R     read-only data
//	64+R    C     code
const (
	HeaderSize    = 64
	FormatVersion = 1
)

// Magic is the first four bytes of every bytecode file.
const Magic = "EPIE"

// MaxSectionSize bounds each section of a bytecode file: code addresses and
// read-only offsets are 24 bits wide.
const MaxSectionSize = 1 << 24

// ErrNotBytecode is returned by DecodeProgram for data that does not start
// with the magic bytes.
var ErrNotBytecode = errors.New("not Iridium bytecode (no EPIE magic)")

// IsBytecode reports whether data starts with the bytecode magic bytes.
func IsBytecode(data []byte) bool {
	return len(data) >= len(Magic) && string(data[:len(Magic)]) == Magic
}

// MarshalBinary encodes the program as a bytecode file.
func (p *Program) MarshalBinary() ([]byte, error) {
	if len(p.ReadOnly) > MaxSectionSize || len(p.Code) > MaxSectionSize {
		return nil, fmt.Errorf("program too large: %d bytes read-only, %d bytes code (at most %d each)",
			len(p.ReadOnly), len(p.Code), MaxSectionSize)
	}
	out := make([]byte, HeaderSize, HeaderSize+len(p.ReadOnly)+len(p.Code))
	copy(out, Magic)
	binary.LittleEndian.PutUint16(out[4:], FormatVersion)
	binary.LittleEndian.PutUint32(out[8:], uint32(len(p.ReadOnly)))
	binary.LittleEndian.PutUint32(out[12:], uint32(len(p.Code)))
	out = append(out, p.ReadOnly...)
	out = append(out, p.Code...)
	binary.LittleEndian.PutUint32(out[16:], crc32.ChecksumIEEE(out[HeaderSize:]))
	return out, nil
}

// DecodeProgram parses a bytecode file. It refuses, with an error that says
// what is wrong, anything that is not exactly a version-1 file: a wrong
// magic, version or length, a bad checksum, or a short or long body.
func DecodeProgram(data []byte) (*Program, error) {
	if !IsBytecode(data) {
		return nil, ErrNotBytecode
	}
	if len(data) < HeaderSize {
		return nil, fmt.Errorf("bytecode header: %d bytes, want %d", len(data), HeaderSize)
	}
	if v := binary.LittleEndian.Uint16(data[4:]); v != FormatVersion {
		return nil, fmt.Errorf("bytecode format version %d, this Iridium reads version %d", v, FormatVersion)
	}
	if binary.LittleEndian.Uint16(data[6:]) != 0 || !allZero(data[20:HeaderSize]) {
		return nil, errors.New("bytecode header: reserved bytes are not zero")
	}
	roLen := uint64(binary.LittleEndian.Uint32(data[8:]))
	codeLen := uint64(binary.LittleEndian.Uint32(data[12:]))
	body := data[HeaderSize:]
	switch {
	case roLen > MaxSectionSize || codeLen > MaxSectionSize:
		return nil, fmt.Errorf("bytecode header: sections of %d and %d bytes exceed the limit of %d", roLen, codeLen, MaxSectionSize)
	case codeLen%InstructionSize != 0:
		return nil, fmt.Errorf("bytecode header: code length %d is not a multiple of %d", codeLen, InstructionSize)
	case uint64(len(body)) != roLen+codeLen:
		return nil, fmt.Errorf("bytecode body: %d bytes, header says %d read-only + %d code = %d",
			len(body), roLen, codeLen, roLen+codeLen)
	}
	if sum, want := crc32.ChecksumIEEE(body), binary.LittleEndian.Uint32(data[16:]); sum != want {
		return nil, fmt.Errorf("bytecode body: checksum %08x, header says %08x (the file is damaged)", sum, want)
	}
	return &Program{
		ReadOnly: bytes.Clone(body[:roLen]),
		Code:     bytes.Clone(body[roLen:]),
	}, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
