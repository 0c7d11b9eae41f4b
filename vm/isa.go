package vm

import (
	"fmt"
	"strings"
)

// Opcode is the first byte of every instruction.
type Opcode uint8

// The opcodes. Numbers 0 to 47 and 100 are those of the original Iridium;
// 48 and up are Iridium-in-Go additions. The table Instructions describes
// each one; the VM, the assembler, the disassembler and the manual all read
// that table.
const (
	LOAD    Opcode = 0
	ADD     Opcode = 1
	SUB     Opcode = 2
	MUL     Opcode = 3
	DIV     Opcode = 4
	HLT     Opcode = 5
	JMP     Opcode = 6
	JMPF    Opcode = 7
	JMPB    Opcode = 8
	EQ      Opcode = 9
	NEQ     Opcode = 10
	GTE     Opcode = 11
	LTE     Opcode = 12
	LT      Opcode = 13
	GT      Opcode = 14
	JMPE    Opcode = 15
	NOP     Opcode = 16
	ALOC    Opcode = 17
	INC     Opcode = 18
	DEC     Opcode = 19
	DJMPE   Opcode = 20
	PRTS    Opcode = 21
	LOADF64 Opcode = 22
	ADDF64  Opcode = 23
	SUBF64  Opcode = 24
	MULF64  Opcode = 25
	DIVF64  Opcode = 26
	EQF64   Opcode = 27
	NEQF64  Opcode = 28
	GTF64   Opcode = 29
	GTEF64  Opcode = 30
	LTF64   Opcode = 31
	LTEF64  Opcode = 32
	SHL     Opcode = 33
	SHR     Opcode = 34
	AND     Opcode = 35
	OR      Opcode = 36
	XOR     Opcode = 37
	NOT     Opcode = 38
	LUI     Opcode = 39
	CLOOP   Opcode = 40
	LOOP    Opcode = 41
	LOADM   Opcode = 42
	SETM    Opcode = 43
	PUSH    Opcode = 44
	POP     Opcode = 45
	CALL    Opcode = 46
	RET     Opcode = 47
	MOV     Opcode = 48
	MOVF64  Opcode = 49
	PRTI    Opcode = 50
	PRTF64  Opcode = 51
	ITOF    Opcode = 52
	FTOI    Opcode = 53
	REM     Opcode = 54
	LDF64   Opcode = 55
	IGL     Opcode = 100
	// The process instructions follow IGL, so that the internal opcodes
	// after LDF64 (decode.go, fuse.go) keep their numbers; the dispatch
	// loop sends them all to its slow path.
	SPAWN   Opcode = 101
	SELF    Opcode = 102
	SEND    Opcode = 103
	SENDP   Opcode = 104
	RECV    Opcode = 105
	RECVT   Opcode = 106
	FROM    Opcode = 107
	MONITOR Opcode = 108
	KILL    Opcode = 109
	SENDB   Opcode = 110
	TAKEB   Opcode = 111
	REG     Opcode = 112
	WHEREIS Opcode = 113
)

// InstructionSize is the size in bytes of every instruction.
const InstructionSize = 4

// OperandKind says what an operand is and how it is encoded.
type OperandKind uint8

// The operand kinds. The byte count of each is given by Size.
const (
	IntReg     OperandKind = iota + 1 // an integer register $0-$31, 1 byte
	FloatReg                          // a float register $0-$31 (or $f0-$f31), 1 byte
	Int16                             // a signed 16-bit number, 2 bytes, high byte first
	Uint16                            // an unsigned 16-bit number, 2 bytes, high byte first
	Bits                              // a shift count 1-31, 1 byte (0 in bytecode means 16)
	CodeAddr                          // a code address (a label), 3 bytes, high byte first
	DataAddr                          // a read-only offset (a label), 3 bytes, high byte first
	DataAddr16                        // a read-only offset, 2 bytes, high byte first
)

// Size is the number of operand bytes the kind takes in an instruction.
func (k OperandKind) Size() int {
	switch k {
	case IntReg, FloatReg, Bits:
		return 1
	case Int16, Uint16, DataAddr16:
		return 2
	case CodeAddr, DataAddr:
		return 3
	}
	return 0
}

// String names the kind as the manual and the assembler's errors do.
func (k OperandKind) String() string {
	switch k {
	case IntReg:
		return "integer register"
	case FloatReg:
		return "float register"
	case Int16:
		return "16-bit number"
	case Uint16:
		return "unsigned 16-bit number"
	case Bits:
		return "shift count"
	case CodeAddr:
		return "code label"
	case DataAddr, DataAddr16:
		return "data label"
	}
	return fmt.Sprintf("operand kind %d", uint8(k))
}

// Syntax is the operand's placeholder in the manual, such as "$a" or "#n".
func (k OperandKind) syntax(i int) string {
	switch k {
	case IntReg, FloatReg:
		return "$" + string(rune('a'+i))
	case Int16, Uint16:
		return "#n"
	case Bits:
		return "#bits"
	case CodeAddr, DataAddr, DataAddr16:
		return "@label"
	}
	return "?"
}

// Instruction describes one opcode: its mnemonic, operands and meaning.
type Instruction struct {
	Op       Opcode
	Name     string        // mnemonic, lower case
	Operands []OperandKind // in source and encoding order
	Summary  string        // one line, for the manual and the REPL
	Example  string        // one line of assembly
	// Extension is true for instructions the original Iridium did not have.
	Extension bool
}

// Syntax returns the instruction's form as written in assembly, such as
// "add $a $b $c".
func (in *Instruction) Syntax() string {
	var b strings.Builder
	b.WriteString(in.Name)
	for i, k := range in.Operands {
		b.WriteByte(' ')
		b.WriteString(k.syntax(i))
	}
	return b.String()
}

// Encoding returns the byte layout of the instruction as text, such as
// "op a b c" or "op a nn nn".
func (in *Instruction) Encoding() string {
	parts := []string{fmt.Sprintf("%02x", uint8(in.Op))}
	for i, k := range in.Operands {
		name := string(rune('a' + i))
		switch k {
		case Int16, Uint16, DataAddr16:
			parts = append(parts, "hi", "lo")
		case CodeAddr, DataAddr:
			parts = append(parts, "hi", "mid", "lo")
		default:
			parts = append(parts, name)
		}
	}
	for len(parts) < InstructionSize {
		parts = append(parts, "00")
	}
	return strings.Join(parts, " ")
}

func ins(op Opcode, name string, ops []OperandKind, summary, example string) Instruction {
	return Instruction{Op: op, Name: name, Operands: ops, Summary: summary, Example: example, Extension: op >= MOV && op != IGL}
}

var (
	rrr = []OperandKind{IntReg, IntReg, IntReg}
	rr  = []OperandKind{IntReg, IntReg}
	r   = []OperandKind{IntReg}
	fff = []OperandKind{FloatReg, FloatReg, FloatReg}
	ff  = []OperandKind{FloatReg, FloatReg}
)

// instructionList is the instruction set, in opcode order. It is never
// modified after package initialisation.
var instructionList = []Instruction{
	ins(LOAD, "load", []OperandKind{IntReg, Int16}, "$a = n; the assembler turns a number outside 16 bits into LOAD and LUI", "load $0 #100"),
	ins(ADD, "add", rrr, "$c = $a + $b, wrapping", "add $0 $1 $2"),
	ins(SUB, "sub", rrr, "$c = $a - $b, wrapping", "sub $0 $1 $2"),
	ins(MUL, "mul", rrr, "$c = $a * $b, wrapping", "mul $0 $1 $2"),
	ins(DIV, "div", rrr, "$c = $a / $b rounded toward zero; the remainder is kept for REM; faults when $b is 0", "div $0 $1 $2"),
	ins(HLT, "hlt", nil, "stop the program", "hlt"),
	ins(JMP, "jmp", r, "jump to the code address in $a", "jmp $0"),
	ins(JMPF, "jmpf", r, "jump forward $a bytes from this instruction", "jmpf $0"),
	ins(JMPB, "jmpb", r, "jump backward $a bytes from this instruction", "jmpb $0"),
	ins(EQ, "eq", rr, "flag = $a == $b", "eq $0 $1"),
	ins(NEQ, "neq", rr, "flag = $a != $b", "neq $0 $1"),
	ins(GTE, "gte", rr, "flag = $a >= $b", "gte $0 $1"),
	ins(LTE, "lte", rr, "flag = $a <= $b", "lte $0 $1"),
	ins(LT, "lt", rr, "flag = $a < $b", "lt $0 $1"),
	ins(GT, "gt", rr, "flag = $a > $b", "gt $0 $1"),
	ins(JMPE, "jmpe", r, "jump to the code address in $a if the flag is set", "jmpe $0"),
	ins(NOP, "nop", nil, "do nothing", "nop"),
	ins(ALOC, "aloc", r, "grow the heap by $a zero bytes", "aloc $0"),
	ins(INC, "inc", r, "$a = $a + 1, wrapping", "inc $0"),
	ins(DEC, "dec", r, "$a = $a - 1, wrapping", "dec $0"),
	ins(DJMPE, "djmpe", []OperandKind{CodeAddr}, "jump to the label if the flag is set", "djmpe @loop"),
	ins(PRTS, "prts", []OperandKind{DataAddr}, "print the zero-terminated string at the label", "prts @hello"),
	ins(LOADF64, "loadf64", []OperandKind{FloatReg, Int16}, "$a = n as a float; the assembler keeps other numbers, like #1.5, in the read-only data and uses LDF64", "loadf64 $0 #2"),
	ins(ADDF64, "addf64", fff, "$c = $a + $b on float registers", "addf64 $0 $1 $2"),
	ins(SUBF64, "subf64", fff, "$c = $a - $b on float registers", "subf64 $0 $1 $2"),
	ins(MULF64, "mulf64", fff, "$c = $a * $b on float registers", "mulf64 $0 $1 $2"),
	ins(DIVF64, "divf64", fff, "$c = $a / $b on float registers (IEEE 754: x/0 is ±Inf or NaN, not a fault)", "divf64 $0 $1 $2"),
	ins(EQF64, "eqf64", ff, "flag = $a == $b on float registers", "eqf64 $0 $1"),
	ins(NEQF64, "neqf64", ff, "flag = $a != $b on float registers", "neqf64 $0 $1"),
	ins(GTF64, "gtf64", ff, "flag = $a > $b on float registers", "gtf64 $0 $1"),
	ins(GTEF64, "gtef64", ff, "flag = $a >= $b on float registers", "gtef64 $0 $1"),
	ins(LTF64, "ltf64", ff, "flag = $a < $b on float registers", "ltf64 $0 $1"),
	ins(LTEF64, "ltef64", ff, "flag = $a <= $b on float registers", "ltef64 $0 $1"),
	ins(SHL, "shl", []OperandKind{IntReg, Bits}, "$a = $a << bits", "shl $0 #4"),
	ins(SHR, "shr", []OperandKind{IntReg, Bits}, "$a = $a >> bits, keeping the sign", "shr $0 #4"),
	ins(AND, "and", rrr, "$c = $a & $b", "and $0 $1 $2"),
	ins(OR, "or", rrr, "$c = $a | $b", "or $0 $1 $2"),
	ins(XOR, "xor", rrr, "$c = $a ^ $b", "xor $0 $1 $2"),
	ins(NOT, "not", rr, "$b = ^$a (every bit flipped)", "not $0 $1"),
	ins(LUI, "lui", []OperandKind{IntReg, Uint16}, "$a = $a << 16 | n (append a low half)", "lui $0 #65535"),
	ins(CLOOP, "cloop", []OperandKind{Uint16}, "set the loop counter to n", "cloop #10"),
	ins(LOOP, "loop", []OperandKind{CodeAddr}, "if the loop counter is not 0: decrement it and jump to the label", "loop @top"),
	ins(LOADM, "loadm", rr, "$b = the 32-bit little-endian word at heap offset $a", "loadm $0 $1"),
	ins(SETM, "setm", rr, "write $b as a 32-bit little-endian word at heap offset $a", "setm $0 $1"),
	ins(PUSH, "push", r, "push $a on the stack", "push $0"),
	ins(POP, "pop", r, "pop the top of the stack into $a", "pop $0"),
	ins(CALL, "call", []OperandKind{CodeAddr}, "push the return address on the call stack and jump to the label", "call @fib"),
	ins(RET, "ret", nil, "return to the address the last CALL pushed", "ret"),
	ins(MOV, "mov", rr, "$b = $a (copy a register)", "mov $0 $1"),
	ins(MOVF64, "movf64", ff, "$b = $a on float registers", "movf64 $0 $1"),
	ins(PRTI, "prti", r, "print $a in decimal and a newline", "prti $0"),
	ins(PRTF64, "prtf64", []OperandKind{FloatReg}, "print float register $a and a newline", "prtf64 $0"),
	ins(ITOF, "itof", []OperandKind{IntReg, FloatReg}, "float register $b = integer register $a", "itof $0 $1"),
	ins(FTOI, "ftoi", []OperandKind{FloatReg, IntReg}, "integer register $b = float register $a rounded toward zero; faults if it does not fit", "ftoi $0 $1"),
	ins(REM, "rem", r, "$a = the remainder of the last DIV", "rem $0"),
	ins(LDF64, "ldf64", []OperandKind{FloatReg, DataAddr16}, "$a = the 8-byte float at the read-only label (the assembler emits it for LOADF64 with a fraction)", "ldf64 $0 @pi"),
	ins(IGL, "igl", nil, "illegal instruction: always faults", "igl"),
	ins(SPAWN, "spawn", rr, "start a process of this program at the code address in $a, with a copy of the integer and float registers and an empty stack, call stack and heap; $b = its PID", "spawn $0 $1"),
	ins(SELF, "self", r, "$a = this process's PID", "self $0"),
	ins(SEND, "send", rr, "send the integer $b to the process $a; never waits, and a message to an ended process is dropped", "send $0 $1"),
	ins(SENDP, "sendp", rr, "send the PID $b to the process $a (the receiver gets it as a PID, kind 1)", "sendp $0 $1"),
	ins(RECV, "recv", rr, "take the oldest message, waiting for one: $a = its kind (0 integer, 1 PID, 2 down notice, 3 bytes), $b = its value (the reason of a down notice, the length of bytes)", "recv $0 $1"),
	ins(RECVT, "recvt", rrr, "as RECV into $b and $c, waiting at most $a milliseconds; on time-out $b = -1", "recvt $0 $1 $2"),
	ins(FROM, "from", r, "$a = the sender of the last message taken (for a down notice, the process that ended)", "from $0"),
	ins(MONITOR, "monitor", r, "a down notice arrives when the process $a ends (at once, reason 4, if it has ended)", "monitor $0"),
	ins(KILL, "kill", r, "end the process $a; its monitors get a down notice with reason 2", "kill $0"),
	ins(SENDB, "sendb", rrr, "send to the process $a the $c bytes of the heap at offset $b (kind 3, value $c); faults if they are not all in the heap", "sendb $0 $1 $2"),
	ins(TAKEB, "takeb", r, "copy the bytes of the last message taken (kind 3) to the heap at offset $a; faults if they do not fit", "takeb $0"),
	ins(REG, "reg", []OperandKind{DataAddr}, "register this process under the name, the zero-terminated string at the label, until it ends; faults if the name is bad or taken, or the process has one", "reg @hello"),
	ins(WHEREIS, "whereis", []OperandKind{IntReg, DataAddr16}, "$a = the PID registered under the name at the label: NAME on this node, NAME@ALIAS on member ALIAS (waiting for its answer, at most 2 s); 0 if there is none", "whereis $0 @hello"),
}

// Table indexes the instruction set by opcode and by mnemonic.
type Table struct {
	byOp   [256]*Instruction
	byName map[string]*Instruction
}

// isa is built once from instructionList and never modified.
var isa = newTable(instructionList)

func newTable(list []Instruction) *Table {
	t := &Table{byName: make(map[string]*Instruction, len(list))}
	for i := range list {
		in := &list[i]
		t.byOp[in.Op] = in
		t.byName[in.Name] = in
	}
	return t
}

// Lookup returns the instruction with the opcode, or nil if there is none.
func Lookup(op Opcode) *Instruction { return isa.byOp[op] }

// LookupName returns the instruction with the mnemonic (any case), or nil.
func LookupName(name string) *Instruction { return isa.byName[strings.ToLower(name)] }

// Instructions returns the whole instruction set in opcode order. The caller
// must not modify what it points to.
func Instructions() []Instruction { return instructionList }

// String returns the mnemonic, or "op(N)" for a number with no instruction.
func (op Opcode) String() string {
	if in := Lookup(op); in != nil {
		return in.Name
	}
	return fmt.Sprintf("op(%d)", uint8(op))
}
