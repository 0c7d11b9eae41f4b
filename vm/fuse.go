package vm

// Fused instructions: superinstructions for the sequences that loops and
// calls are made of, each run as one dispatch of the loop in exec.go. The
// instructions a fused one stands for keep their own slots in the decoded
// code, unchanged after the first, so a jump into the middle of a sequence
// runs the rest of it; a fused instruction counts as the steps it stands
// for. FuzzExec checks every one against the plain instructions.
//
// A compare-and-jump keeps the comparison's registers and holds the jump
// target in imm; a three-step fused instruction keeps its first part's
// operands and finds the comparison's registers and the target in the
// compare-and-jump in the next slot.
//
// Each family has one opcode per comparison, in the order of intCompare
// (EQ, NEQ, GTE, LTE, LT, GT) or floatCompare (EQF64, NEQF64, GTF64,
// GTEF64, LTF64, LTEF64).
const (
	// opEQJ to opGTJ: a comparison of $a and $b and the DJMPE after it:
	// two steps.
	opEQJ Opcode = opTrap + 1 + iota
	opNEQJ
	opGTEJ
	opLTEJ
	opLTJ
	opGTJ
	// opFEQJ to opFLTEJ: a float comparison and the DJMPE after it.
	opFEQJ
	opFNEQJ
	opFGTJ
	opFGTEJ
	opFLTJ
	opFLTEJ
	// opINCEQJ to opINCGTJ: INC $x, then an integer comparison and DJMPE:
	// three steps, the loop counter's increment, test and jump.
	opINCEQJ
	opINCNEQJ
	opINCGTEJ
	opINCLTEJ
	opINCLTJ
	opINCGTJ
	// opLOADEQJ to opLOADGTJ: LOAD $x #imm, then a comparison and DJMPE:
	// a comparison with a constant.
	opLOADEQJ
	opLOADNEQJ
	opLOADGTEJ
	opLOADLTEJ
	opLOADLTJ
	opLOADGTJ
	// opADDEQJ to opADDGTJ: ADD $x $y $z, then a comparison and DJMPE: a
	// loop index stepped by a register.
	opADDEQJ
	opADDNEQJ
	opADDGTEJ
	opADDLTEJ
	opADDLTJ
	opADDGTJ
	// Pairs, found in calls and expressions; the second instruction's
	// operands are in the next slot. opLOADADD to opLOADMUL: LOAD $x #n
	// and an ADD, SUB or MUL after it (arithmetic with a constant).
	opLOADADD
	opLOADSUB
	opLOADMUL
	// opPOPPUSH: POP then PUSH (a value saved across a call, replaced).
	opPOPPUSH
	// opPOPADD: POP then ADD (a saved value added to a result).
	opPOPADD
	// opINCRET and opADDRET: INC or ADD, then RET.
	opINCRET
	opADDRET
	// opLast is the last internal opcode.
	opLast = opADDRET
)

// pairs gives the fused opcode of two plain instructions in a row.
var pairs = map[[2]Opcode]Opcode{
	{LOAD, ADD}: opLOADADD,
	{LOAD, SUB}: opLOADSUB,
	{LOAD, MUL}: opLOADMUL,
	{POP, PUSH}: opPOPPUSH,
	{POP, ADD}:  opPOPADD,
	{INC, RET}:  opINCRET,
	{ADD, RET}:  opADDRET,
}

// intCompare and floatCompare list the comparisons in family order.
var (
	intCompare   = [...]Opcode{EQ, NEQ, GTE, LTE, LT, GT}
	floatCompare = [...]Opcode{EQF64, NEQF64, GTF64, GTEF64, LTF64, LTEF64}
)

// compareIndex returns the place of op in intCompare or floatCompare, and
// the first opcode of the compare-and-jump family it belongs to.
func compareIndex(op Opcode) (Opcode, Opcode, bool) {
	for i, c := range intCompare {
		if op == c {
			return Opcode(i), opEQJ, true
		}
	}
	for i, c := range floatCompare {
		if op == c {
			return Opcode(i), opFEQJ, true
		}
	}
	return 0, 0, false
}

// fuseCode replaces, in decoded code, each comparison followed by DJMPE
// with a compare-and-jump; then each INC, LOAD or ADD followed by an
// integer compare-and-jump with a three-step fused instruction; then each
// pair of pairs that is still plain, from the first instruction on (from
// the second when skipFirst says the first is the second of a pair fused
// before code starts).
func fuseCode(code []inst, skipFirst bool) {
	for i := 0; i+1 < len(code); i++ {
		if k, family, ok := compareIndex(code[i].op()); ok && code[i+1].op() == DJMPE {
			code[i].setOp(family + k)
			code[i].imm = code[i+1].imm
		}
	}
	for i := 0; i+1 < len(code); i++ {
		next := code[i+1]
		if next.op() < opEQJ || next.op() > opGTJ {
			continue
		}
		k := next.op() - opEQJ
		var family Opcode
		switch code[i].op() {
		case INC:
			family = opINCEQJ
		case LOAD:
			family = opLOADEQJ
		case ADD:
			family = opADDEQJ
		default:
			continue
		}
		code[i].setOp(family + k)
	}
	i := 0
	if skipFirst {
		i = 1
	}
	for ; i+1 < len(code); i++ {
		if op, ok := pairs[[2]Opcode{code[i].op(), code[i+1].op()}]; ok {
			code[i].setOp(op)
			i++ // the second stays plain, for jumps to it
		}
	}
}

// maxSlots is the most slots a fused instruction spans (see slots).
const maxSlots = 3

// slots returns how many slots of decoded code an instruction with opcode
// op spans: 3 for INC, LOAD or ADD fused with a compare-and-jump, 2 for a
// compare-and-jump or a pair, 1 for a plain instruction. The slots after
// the first hold the fused instruction's tail (see fuseCode), so each
// reaches no further than the first. TestSlotsMatchFuser checks it.
func slots(op Opcode) uint {
	switch {
	case op >= opINCEQJ && op <= opADDGTJ:
		return 3
	case op >= opEQJ && op <= opFLTEJ, isPair(op):
		return 2
	}
	return 1
}

// isPair reports whether op is a fused pair.
func isPair(op Opcode) bool { return op >= opLOADADD && op <= opADDRET }

// firstOp returns the plain opcode of the first instruction a fused one
// stands for, or op itself if it is not fused. When the dispatch loop
// stops at a fused instruction, the slow path runs that one alone.
func firstOp(op Opcode) Opcode {
	switch {
	case op >= opEQJ && op <= opGTJ:
		return intCompare[op-opEQJ]
	case op >= opFEQJ && op <= opFLTEJ:
		return floatCompare[op-opFEQJ]
	case op >= opINCEQJ && op <= opINCGTJ, op == opINCRET:
		return INC
	case op >= opLOADEQJ && op <= opLOADGTJ, op >= opLOADADD && op <= opLOADMUL:
		return LOAD
	case op >= opADDEQJ && op <= opADDGTJ, op == opADDRET:
		return ADD
	case op == opPOPPUSH || op == opPOPADD:
		return POP
	}
	return op
}
