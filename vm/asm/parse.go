package asm

// statement is one source line: optional label declarations, then an
// optional mnemonic or directive with its operands. Its tokens are those
// of the lexer's current line; the parser reuses the slices line after
// line.
type statement struct {
	labels []token
	op     token // tokIdent or tokDirective; tokEOF when the line has none
	args   []token
	bad    bool // the line had an error already; only its labels count
}

// parseLine makes a statement of the tokens of one line (the last is its
// tokNewline or tokEOF), reporting lexical errors and tokens out of place.
// The first error on a line marks it bad, so that it gets one error
// rather than a cascade. It reports whether the line says anything: an
// error, a label or an instruction or directive.
func parseLine(tokens []token, st *statement, errs *errorSink) bool {
	*st = statement{labels: st.labels[:0], args: st.args[:0], op: token{kind: tokEOF}}
	fail := func(t token, format string, args ...any) {
		if !st.bad {
			errs.add(t.pos, format, args...)
		}
		st.bad = true
	}
	for _, t := range tokens {
		switch {
		case t.kind == tokEOF || t.kind == tokNewline:
			return st.bad || len(st.labels) > 0 || st.op.kind != tokEOF
		case t.kind == tokError:
			fail(t, "%s", t.val)
		case t.kind == tokLabelDecl:
			if st.op.kind != tokEOF {
				fail(t, "label %q must start the line, before %q", t.val, st.op.text)
			}
			st.labels = append(st.labels, t)
		case t.kind == tokIdent || t.kind == tokDirective:
			if st.op.kind != tokEOF {
				fail(t, "unexpected %s %q after %q: one instruction or directive per line", t.kind, t.text, st.op.text)
				continue
			}
			st.op = t
		case st.op.kind == tokEOF:
			fail(t, "%s %q needs an instruction or directive before it", t.kind, t.text)
		default:
			st.args = append(st.args, t)
		}
	}
	return st.bad || len(st.labels) > 0 || st.op.kind != tokEOF
}
