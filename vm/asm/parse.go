package asm

// statement is one source line: optional label declarations, then an
// optional mnemonic or directive with its operands.
type statement struct {
	labels []token
	op     token // tokIdent or tokDirective; tokEOF when the line has none
	args   []token
}

// parse groups tokens into statements, one per non-empty line, and reports
// lexical errors and tokens out of place. A line with a lexical error is
// left out, so that it gets one error rather than a cascade.
func parse(tokens []token, errs *errorSink) []statement {
	var out []statement
	st := statement{op: token{kind: tokEOF}}
	bad := false
	for _, t := range tokens {
		switch t.kind {
		case tokEOF, tokNewline:
			if !bad && (len(st.labels) > 0 || st.op.kind != tokEOF) {
				out = append(out, st)
			}
			st, bad = statement{op: token{kind: tokEOF}}, false
		case tokError:
			errs.add(t.pos, "%s", t.val)
			bad = true
		case tokLabelDecl:
			if st.op.kind != tokEOF {
				errs.add(t.pos, "label %q must start the line, before %q", t.val, st.op.text)
				continue
			}
			st.labels = append(st.labels, t)
		case tokIdent, tokDirective:
			if st.op.kind != tokEOF {
				errs.add(t.pos, "unexpected %s %q after %q: one instruction or directive per line", t.kind, t.text, st.op.text)
				continue
			}
			st.op = t
		default:
			if st.op.kind == tokEOF {
				errs.add(t.pos, "%s %q needs an instruction or directive before it", t.kind, t.text)
				continue
			}
			st.args = append(st.args, t)
		}
	}
	return out
}
