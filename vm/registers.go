package vm

import (
	"bufio"
	"io"
	"math"
	"strconv"
)

// WriteRegisters writes the registers, one a line: the integer registers
// as "$N = VALUE" in decimal, then the float registers as "$fN = VALUE" in
// the form of FormatFloat. With nonZero, registers that hold 0 are left
// out (a float -0.0 is shown).
func (m *VM) WriteRegisters(w io.Writer, nonZero bool) error {
	bw := bufio.NewWriter(w)
	for i, v := range m.regs {
		if !nonZero || v != 0 {
			bw.WriteString(RegisterLine(i, v) + "\n")
		}
	}
	for i, v := range m.fregs {
		if !nonZero || v != 0 || math.Signbit(v) {
			bw.WriteString(FloatRegisterLine(i, v) + "\n")
		}
	}
	return bw.Flush()
}

// RegisterLine shows integer register i as "$i = VALUE", in decimal.
func RegisterLine(i int, v int32) string {
	return "$" + strconv.Itoa(i) + " = " + strconv.Itoa(int(v))
}

// FloatRegisterLine shows float register i as "$fi = VALUE", in the form
// of FormatFloat.
func FloatRegisterLine(i int, v float64) string {
	return "$f" + strconv.Itoa(i) + " = " + FormatFloat(v)
}
