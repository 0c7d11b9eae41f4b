package vm

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Names gives labels to addresses when disassembling. Either map may be nil;
// addresses without a name get one made from the address (L0010 for code,
// D0000 for read-only data).
type Names struct {
	Code map[int]string // code address -> label
	Data map[int]string // read-only offset -> label
}

func (n Names) code(addr int) string {
	if s, ok := n.Code[addr]; ok {
		return s
	}
	return fmt.Sprintf("L%04x", addr)
}

func (n Names) data(off int) string {
	if s, ok := n.Data[off]; ok {
		return s
	}
	return fmt.Sprintf("D%04x", off)
}

// DisassembleInstruction returns one instruction as assembly, such as
// "add $0 $1 $2". Bytes that are not a valid instruction come back as
// "igl ; 7f 00 00 00" with the reason.
func DisassembleInstruction(raw []byte) string {
	return Names{}.Instruction(raw)
}

// Instruction is DisassembleInstruction with the labels of n.
func (n Names) Instruction(raw []byte) string {
	if len(raw) < InstructionSize {
		return fmt.Sprintf("igl ; % x (truncated)", raw)
	}
	raw = raw[:InstructionSize]
	if kind, detail := checkEncoding(raw); kind == ErrUnknownOpcode {
		return fmt.Sprintf("igl ; % x (unknown opcode %d)", raw, raw[0])
	} else if kind != nil {
		return fmt.Sprintf("igl ; % x (%v: %s)", raw, kind, detail)
	}
	info := Lookup(Opcode(raw[0]))
	var b strings.Builder
	b.WriteString(info.Name)
	pos := 1
	for _, kind := range info.Operands {
		b.WriteByte(' ')
		switch kind {
		case IntReg:
			b.WriteString("$" + strconv.Itoa(int(raw[pos])))
		case FloatReg:
			b.WriteString("$f" + strconv.Itoa(int(raw[pos])))
		case Bits:
			bits := int(raw[pos])
			if bits == 0 {
				bits = 16
			}
			b.WriteString("#" + strconv.Itoa(bits))
		case Int16:
			b.WriteString("#" + strconv.Itoa(int(int16(binary.BigEndian.Uint16(raw[pos:])))))
		case Uint16:
			b.WriteString("#" + strconv.Itoa(int(binary.BigEndian.Uint16(raw[pos:]))))
		case DataAddr16:
			b.WriteString("@" + n.data(int(binary.BigEndian.Uint16(raw[pos:]))))
		case DataAddr:
			b.WriteString("@" + n.data(int(uint24(raw[pos:]))))
		case CodeAddr:
			b.WriteString("@" + n.code(int(uint24(raw[pos:]))))
		}
		pos += kind.Size()
	}
	return b.String()
}

// Disassemble returns the program as an assembly listing: a .data section
// with the strings and floats of the read-only data, and a .code
// section with one instruction a line, its address in a comment, and a
// label before each instruction a label operand points at. Assembling the
// listing gives back the same code.
func Disassemble(p *Program, names Names) string {
	var b strings.Builder
	fmt.Fprintf(&b, "; %d bytes of read-only data, %d bytes of code\n", len(p.ReadOnly), len(p.Code))
	var data strings.Builder
	writeData(&data, p.ReadOnly, p.Code, names)
	if data.Len() > 0 {
		b.WriteString(".data\n" + data.String())
	}
	b.WriteString(".code\n")
	targets := codeTargets(p.Code, names)
	for addr := 0; addr < len(p.Code); addr += InstructionSize {
		label := ""
		if targets[addr] {
			label = names.code(addr) + ":"
		}
		end := min(addr+InstructionSize, len(p.Code))
		fmt.Fprintf(&b, "%-11s %-27s ; %04x\n", label, names.Instruction(p.Code[addr:end]), addr)
	}
	if targets[len(p.Code)] {
		b.WriteString(names.code(len(p.Code)) + ":\n")
	}
	return b.String()
}

// codeTargets returns the code addresses that need a label in a listing.
func codeTargets(code []byte, names Names) map[int]bool {
	targets := map[int]bool{}
	for addr := range names.Code {
		targets[addr] = true
	}
	for addr := 0; addr+InstructionSize <= len(code); addr += InstructionSize {
		info := Lookup(Opcode(code[addr]))
		if info == nil || len(info.Operands) != 1 || info.Operands[0] != CodeAddr {
			continue
		}
		targets[int(uint24(code[addr+1:]))] = true
	}
	return targets
}

// writeData lists the read-only data so that it assembles back to the
// same bytes: a .float where LDF64 points (if the value has a literal),
// and each run of bytes up to a zero byte, or up to an offset an
// instruction points at, as an .asciiz or .ascii string.
func writeData(b *strings.Builder, ro, code []byte, names Names) {
	floats, strs := dataTargets(code)
	for off := 0; off < len(ro); {
		label := names.data(off) + ":"
		if floats[off] && off+8 <= len(ro) {
			v := math.Float64frombits(binary.LittleEndian.Uint64(ro[off:]))
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				fmt.Fprintf(b, "%-11s .float #%-19s ; %04x\n", label, FormatFloat(v), off)
				off += 8
				continue
			}
		}
		end := off + 1
		for end < len(ro) && ro[end-1] != 0 && !floats[end] && !strs[end] && (end-off != 8 || !floats[off]) {
			end++
		}
		if ro[end-1] == 0 {
			fmt.Fprintf(b, "%-11s .asciiz %-18s ; %04x\n", label, QuoteString(ro[off:end-1]), off)
		} else {
			fmt.Fprintf(b, "%-11s .ascii %-19s ; %04x\n", label, QuoteString(ro[off:end]), off)
		}
		off = end
	}
	if floats[len(ro)] || strs[len(ro)] { // a label at the very end, as after .ascii ''
		fmt.Fprintf(b, "%-11s .ascii %-19s ; %04x\n", names.data(len(ro))+":", "''", len(ro))
	}
}

// dataTargets returns the read-only offsets that LDF64, PRTS, REG and
// WHEREIS use.
func dataTargets(code []byte) (floats, strs map[int]bool) {
	floats, strs = map[int]bool{}, map[int]bool{}
	for addr := 0; addr+InstructionSize <= len(code); addr += InstructionSize {
		switch Opcode(code[addr]) {
		case LDF64:
			floats[int(binary.BigEndian.Uint16(code[addr+2:]))] = true
		case PRTS, REG:
			strs[int(uint24(code[addr+1:]))] = true
		case WHEREIS:
			strs[int(binary.BigEndian.Uint16(code[addr+2:]))] = true
		}
	}
	return floats, strs
}

// QuoteString quotes b as an Iridium string literal: single quotes, with
// \n, \t, \\, \' and \xNN escapes for anything not printable ASCII.
func QuoteString(b []byte) string {
	var s strings.Builder
	s.WriteByte('\'')
	for _, c := range b {
		switch {
		case c == '\n':
			s.WriteString(`\n`)
		case c == '\t':
			s.WriteString(`\t`)
		case c == '\\' || c == '\'':
			s.WriteByte('\\')
			s.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			s.WriteByte(c)
		default:
			fmt.Fprintf(&s, `\x%02x`, c)
		}
	}
	s.WriteByte('\'')
	return s.String()
}
