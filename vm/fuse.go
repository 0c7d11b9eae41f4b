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
	// opLast is the last internal opcode.
	opLast = opADDGTJ
)

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
// with a compare-and-jump, and then each INC, LOAD or ADD followed by an
// integer compare-and-jump with a three-step fused instruction.
func fuseCode(code []inst) {
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
}
