// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// A SyntaxError is the first place in a file that is not valid DOT.
type SyntaxError struct {
	File      string
	Line, Col int // 1-based; Col counts characters
	Msg       string
}

// Error returns "FILE:LINE:COL: message".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

type tokKind int

const (
	tEOF tokKind = iota
	tID
	tLBrace
	tRBrace
	tLBrack
	tRBrack
	tSemi
	tComma
	tEq
	tColon
	tEdgeOp // -> or --
	tStrict
	tGraph
	tDigraph
	tNode
	tEdge
	tSubgraph
)

var keywords = map[string]tokKind{
	"strict": tStrict, "graph": tGraph, "digraph": tDigraph,
	"node": tNode, "edge": tEdge, "subgraph": tSubgraph,
}

var punct = map[byte]tokKind{'{': tLBrace, '}': tRBrace, '[': tLBrack, ']': tRBrack,
	';': tSemi, ',': tComma, '=': tEq, ':': tColon}

// A token is one lexical item of DOT.
type token struct {
	kind      tokKind
	text      string // an ID's value (quotes and escapes removed), an operator's text
	quoted    bool   // the ID was a quoted string
	html      bool   // the ID was an HTML string
	line, col int
}

// describe names a token for messages.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tID:
		s := t.text
		if len([]rune(s)) > 30 {
			s = string([]rune(s)[:30]) + "..."
		}
		switch {
		case t.html:
			return fmt.Sprintf("HTML string <%s>", s)
		case t.quoted:
			return fmt.Sprintf("string %q", s)
		}
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q", t.text)
}

// A lexer splits DOT text into tokens, one at a time, so that the parser meets the first
// error in file order.
type lexer struct {
	file      string
	src       string
	pos       int
	line, col int
}

func (lx *lexer) errorf(line, col int, format string, args ...any) error {
	return &SyntaxError{File: lx.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// peekByte returns the byte at pos+off, or 0 past the end.
func (lx *lexer) peekByte(off int) byte {
	if lx.pos+off < len(lx.src) {
		return lx.src[lx.pos+off]
	}
	return 0
}

// advance moves past one character.
func (lx *lexer) advance() {
	r, n := utf8.DecodeRuneInString(lx.src[lx.pos:])
	lx.pos += n
	if r == '\n' {
		lx.line++
		lx.col = 1
	} else {
		lx.col++
	}
}

// checkText reports the first invalid UTF-8 sequence or disallowed control character.
func checkText(file, src string) error {
	line, col := 1, 1
	for i, r := range src {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(src[i:], "\uFFFD"):
			return &SyntaxError{File: file, Line: line, Col: col, Msg: "invalid UTF-8"}
		case r < 0x20 && r != '\n' && r != '\t' && r != '\r' && r != '\f' && r != '\v', r == 0x7f:
			return &SyntaxError{File: file, Line: line, Col: col, Msg: fmt.Sprintf("control character %U is not allowed", r)}
		}
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isIDStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skip passes white space and comments: // and /* */ as in C, and # to the end of the line
// (at the start of a line, as Graphviz's preprocessor lines, or after other text, as Graphviz
// also accepts).
func (lx *lexer) skip() error {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case isSpace(c):
			lx.advance()
		case c == '#' || c == '/' && lx.peekByte(1) == '/':
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
				lx.advance()
			}
		case c == '/' && lx.peekByte(1) == '*':
			line, col := lx.line, lx.col
			lx.advance()
			lx.advance()
			for {
				if lx.pos >= len(lx.src) {
					return lx.errorf(line, col, "comment /* is not closed")
				}
				if lx.src[lx.pos] == '*' && lx.peekByte(1) == '/' {
					lx.advance()
					lx.advance()
					break
				}
				lx.advance()
			}
		default:
			return nil
		}
	}
	return nil
}

// next returns the next token.
func (lx *lexer) next() (token, error) {
	if err := lx.skip(); err != nil {
		return token{}, err
	}
	t := token{line: lx.line, col: lx.col}
	if lx.pos >= len(lx.src) {
		t.kind = tEOF
		return t, nil
	}
	c := lx.src[lx.pos]
	if k, ok := punct[c]; ok {
		lx.advance()
		t.kind, t.text = k, string(c)
		return t, nil
	}
	switch {
	case c == '-' && (lx.peekByte(1) == '>' || lx.peekByte(1) == '-'):
		t.kind, t.text = tEdgeOp, lx.src[lx.pos:lx.pos+2]
		lx.advance()
		lx.advance()
		return t, nil
	case isIDStart(c):
		start := lx.pos
		for lx.pos < len(lx.src) && (isIDStart(lx.src[lx.pos]) || isDigit(lx.src[lx.pos])) {
			lx.advance()
		}
		t.kind, t.text = tID, lx.src[start:lx.pos]
		if k, ok := keywords[strings.ToLower(t.text)]; ok {
			t.kind = k
		}
		return t, nil
	case isDigit(c) || c == '.' || c == '-':
		return lx.numeral(t)
	case c == '"':
		return lx.quoted(t)
	case c == '<':
		return lx.htmlString(t)
	}
	r, _ := utf8.DecodeRuneInString(lx.src[lx.pos:])
	return t, lx.errorf(t.line, t.col, "unexpected character %q", r)
}

// numeral reads [-]?(.[0-9]+ | [0-9]+(.[0-9]*)?). Like Graphviz, a numeral that runs into
// letters ends where the digits end.
func (lx *lexer) numeral(t token) (token, error) {
	start := lx.pos
	if lx.src[lx.pos] == '-' {
		lx.advance()
	}
	digits := 0
	for lx.pos < len(lx.src) && isDigit(lx.src[lx.pos]) {
		lx.advance()
		digits++
	}
	if lx.pos < len(lx.src) && lx.src[lx.pos] == '.' {
		lx.advance()
		for lx.pos < len(lx.src) && isDigit(lx.src[lx.pos]) {
			lx.advance()
			digits++
		}
	}
	if digits == 0 {
		return t, lx.errorf(t.line, t.col, "unexpected %q (not a number, an edge operator or an id)", lx.src[start:lx.pos])
	}
	t.kind, t.text = tID, lx.src[start:lx.pos]
	return t, nil
}

// quoted reads a double-quoted string, and any "..." + "..." concatenation after it. Inside,
// \" stands for a quote and a backslash before a newline joins the lines; every other
// character, raw newlines included, is kept as it is.
func (lx *lexer) quoted(t token) (token, error) {
	var b strings.Builder
	for {
		line, col := lx.line, lx.col
		lx.advance() // the opening quote
		for {
			if lx.pos >= len(lx.src) {
				return t, lx.errorf(line, col, "string is not closed (no matching \")")
			}
			c := lx.src[lx.pos]
			if c == '"' {
				lx.advance()
				break
			}
			if c == '\\' && lx.peekByte(1) == '"' {
				b.WriteByte('"')
				lx.advance()
				lx.advance()
				continue
			}
			if c == '\\' && lx.peekByte(1) == '\n' {
				lx.advance()
				lx.advance()
				continue
			}
			if c == '\\' && lx.peekByte(1) == '\r' && lx.peekByte(2) == '\n' {
				lx.advance()
				lx.advance()
				lx.advance()
				continue
			}
			start := lx.pos
			lx.advance()
			b.WriteString(lx.src[start:lx.pos])
		}
		// A + joins the next quoted string.
		save := *lx
		if err := lx.skip(); err != nil {
			return t, err
		}
		if lx.pos >= len(lx.src) || lx.src[lx.pos] != '+' {
			*lx = save
			break
		}
		lx.advance()
		if err := lx.skip(); err != nil {
			return t, err
		}
		if lx.pos >= len(lx.src) || lx.src[lx.pos] != '"' {
			return t, lx.errorf(lx.line, lx.col, "expected a quoted string after +")
		}
	}
	t.kind, t.text, t.quoted = tID, b.String(), true
	return t, nil
}

// htmlString reads <...> with the angle brackets balanced.
func (lx *lexer) htmlString(t token) (token, error) {
	lx.advance()
	start := lx.pos
	depth := 1
	for {
		if lx.pos >= len(lx.src) {
			return t, lx.errorf(t.line, t.col, "HTML string is not closed (no matching >)")
		}
		switch lx.src[lx.pos] {
		case '<':
			depth++
		case '>':
			depth--
		}
		if depth == 0 {
			t.kind, t.text, t.html = tID, lx.src[start:lx.pos], true
			lx.advance()
			return t, nil
		}
		lx.advance()
	}
}
