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
	var line []byte
	for i, v := range m.regs {
		if nonZero && v == 0 {
			continue
		}
		line = strconv.AppendInt(append(line[:0], '$'), int64(i), 10)
		line = append(line, " = "...)
		line = append(strconv.AppendInt(line, int64(v), 10), '\n')
		bw.Write(line)
	}
	for i, v := range m.fregs {
		if nonZero && v == 0 && !math.Signbit(v) {
			continue
		}
		line = strconv.AppendInt(append(line[:0], "$f"...), int64(i), 10)
		line = append(line, " = "...)
		line = append(AppendFloat(line, v), '\n')
		bw.Write(line)
	}
	return bw.Flush()
}
