// SPDX-License-Identifier: GPL-2.0-only

// Package tour parses lecture tours, the .tour files: a sequence of bundled scenarios and
// stops in them, each with the words a presenter says there and, if any, a question for the
// class. The explorer's presenter walks a tour with follow mode; its followers see each stop's
// text.
//
// The language is line-oriented like the scenario language: one statement a line, words
// separated by spaces or tabs, blank lines ignored, `#` a comment except in the text of
// `title`, `about`, `say` and `ask`, which runs to the end of the line. Keywords are lower case.
//
//	title TEXT                 # at most once, before the first scenario
//	about TEXT                 # repeatable, before the first scenario
//	scenario NAME              # a bundled scenario: the stops after it are in it
//	stop pos=N                 # the position N (events applied)
//	stop node=ID [nth=K] [cpu=C]  # just after the K-th arrival (default 1) at node ID, of CPU C if given
//	stop line=L                # just after the operation on line L of the scenario ends
//	stop end                   # the end of the trace
//	say TEXT                   # the stop's text: one or more lines after its stop
//	ask TEXT                   # a question for the class: lines after its stop, optional
//
// Every stop has at least one say line. Parse checks the syntax; Resolve finds each stop's
// position in its scenario's trace, and says where a stop cannot be (a node never reached that
// often, a line without an operation). Errors are *Error: FILE:LINE:COL: message.
package tour

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what Parse accepts.
const (
	MaxSize  = 256 << 10 // bytes of tour text
	MaxStops = 2000      // stops in one tour
	maxCount = 1 << 30   // nth=, pos=, line=, cpu=
)

// Pos is a position in a tour file: 1-based line and byte column.
type Pos struct{ Line, Col int }

// Error is an error in a tour, at a position.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

// Error formats the error as FILE:LINE:COL: message.
func (e *Error) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg) }

// Tour is a parsed tour.
type Tour struct {
	Name  string // the file name given to Parse
	Title string
	About []string
	Stops []*Stop
}

// Where a stop is, as its statement says.
const (
	AtPos  = "pos"
	AtNode = "node"
	AtLine = "line"
	AtEnd  = "end"
)

// Stop is one stop of a tour.
type Stop struct {
	Pos         Pos    // the `stop` word
	Scenario    string // the bundled scenario
	ScenarioPos Pos    // its name in the scenario statement
	At          string // AtPos, AtNode, AtLine or AtEnd
	AtPos       Pos    // the value after the option's '=' (the word, for end)
	Position    int    // pos=
	Node        string // node=
	Nth         int    // nth= (1 unless given)
	CPU         int    // cpu= (-1 unless given)
	Line        int    // line=
	Say         []string
	Ask         []string
}

// Parse parses a tour; name is the file name used in errors. It returns the first error, as an
// *Error, and never panics.
func Parse(name string, src []byte) (*Tour, error) {
	p := &parser{t: &Tour{Name: name}}
	if len(src) > MaxSize {
		return nil, p.errorf(Pos{1, 1}, "the tour is larger than %d KiB", MaxSize>>10)
	}
	text := strings.TrimPrefix(string(src), "\ufeff")
	for n := 1; ; n++ {
		l, rest, more := strings.Cut(text, "\n")
		l = strings.TrimSuffix(l, "\r")
		if err := p.line(l, n); err != nil {
			return nil, err
		}
		if !more {
			break
		}
		text = rest
	}
	if err := p.endStop(); err != nil {
		return nil, err
	}
	if len(p.t.Stops) == 0 {
		return nil, p.errorf(Pos{1, 1}, "a tour needs at least one stop")
	}
	return p.t, nil
}

type parser struct {
	t        *Tour
	scenario string
	scenPos  Pos
	stop     *Stop // the stop whose say and ask lines come
}

func (p *parser) errorf(pos Pos, format string, args ...any) *Error {
	return &Error{File: p.t.Name, Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf(format, args...)}
}

type token struct {
	text string
	pos  Pos
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// isControl: C0 (but the tab), DEL and C1, which have no place in a tour's text.
func isControl(r rune) bool { return r != '\t' && (r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0) }

func (p *parser) line(l string, n int) error {
	for i, r := range l {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(l[i:]); size <= 1 {
				return p.errorf(Pos{n, i + 1}, "the text is not valid UTF-8")
			}
		}
		if isControl(r) {
			return p.errorf(Pos{n, i + 1}, "control character %U", r)
		}
	}
	i := 0
	for i < len(l) && isSpace(l[i]) {
		i++
	}
	j := i
	for j < len(l) && !isSpace(l[j]) && l[j] != '#' {
		j++
	}
	if i == j {
		return nil // blank or a comment
	}
	kw := token{l[i:j], Pos{n, i + 1}}
	switch kw.text {
	case "title", "about", "say", "ask":
		k := j
		for k < len(l) && isSpace(l[k]) {
			k++
		}
		return p.text(kw, strings.TrimRight(l[k:], " \t"))
	}
	code, _, _ := strings.Cut(l, "#")
	var toks []token
	for k := 0; k < len(code); {
		if isSpace(code[k]) {
			k++
			continue
		}
		s := k
		for k < len(code) && !isSpace(code[k]) {
			k++
		}
		toks = append(toks, token{code[s:k], Pos{n, s + 1}})
	}
	switch kw.text {
	case "scenario":
		return p.scenarioStmt(toks)
	case "stop":
		return p.stopStmt(toks)
	}
	return p.errorf(kw.pos, "unknown statement %q (want title, about, scenario, stop, say or ask)", kw.text)
}

func (p *parser) text(kw token, txt string) error {
	if txt == "" {
		return p.errorf(kw.pos, "%s needs a text", kw.text)
	}
	switch kw.text {
	case "title", "about":
		if p.scenario != "" {
			return p.errorf(kw.pos, "%s comes before the first scenario", kw.text)
		}
		if kw.text == "about" {
			p.t.About = append(p.t.About, txt)
			return nil
		}
		if p.t.Title != "" {
			return p.errorf(kw.pos, "a tour has one title")
		}
		p.t.Title = txt
	case "say":
		if p.stop == nil {
			return p.errorf(kw.pos, "say belongs to a stop: write the stop first")
		}
		if len(p.stop.Ask) > 0 {
			return p.errorf(kw.pos, "the stop's say lines come before its ask lines")
		}
		p.stop.Say = append(p.stop.Say, txt)
	case "ask":
		if p.stop == nil {
			return p.errorf(kw.pos, "ask belongs to a stop: write the stop first")
		}
		if len(p.stop.Say) == 0 {
			return p.errorf(kw.pos, "the stop's say lines come before its ask lines")
		}
		p.stop.Ask = append(p.stop.Ask, txt)
	}
	return nil
}

// endStop checks the stop being read, if any, before another statement or the end.
func (p *parser) endStop() error {
	if p.stop != nil && len(p.stop.Say) == 0 {
		return p.errorf(p.stop.Pos, "the stop has no say line: say what the class sees here")
	}
	p.stop = nil
	return nil
}

func (p *parser) scenarioStmt(toks []token) error {
	if err := p.endStop(); err != nil {
		return err
	}
	if len(toks) != 2 {
		at := toks[0].pos
		if len(toks) > 2 {
			at = toks[2].pos
		}
		return p.errorf(at, "scenario needs one NAME, a bundled scenario (lruviz scenarios lists them)")
	}
	name := toks[1]
	if !validName(name.text) {
		return p.errorf(name.pos, "%q is not a scenario's name (lower-case letters, digits and hyphens)", name.text)
	}
	p.scenario, p.scenPos = name.text, name.pos
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 100 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validID(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (p *parser) stopStmt(toks []token) error {
	if err := p.endStop(); err != nil {
		return err
	}
	kw := toks[0]
	if p.scenario == "" {
		return p.errorf(kw.pos, "a stop is in a scenario: write `scenario NAME` before it")
	}
	if len(p.t.Stops) >= MaxStops {
		return p.errorf(kw.pos, "a tour has at most %d stops", MaxStops)
	}
	st := &Stop{Pos: kw.pos, Scenario: p.scenario, ScenarioPos: p.scenPos, Nth: 1, CPU: -1}
	if len(toks) < 2 {
		return p.errorf(kw.pos, "stop needs where: pos=N, node=ID [nth=K] [cpu=C], line=L or end")
	}
	seen := map[string]bool{}
	for _, t := range toks[1:] {
		if t.text == "end" {
			if st.At != "" {
				return p.errorf(t.pos, "a stop is at one place: %s= is given already", st.At)
			}
			st.At, st.AtPos = AtEnd, t.pos
			continue
		}
		name, val, ok := strings.Cut(t.text, "=")
		vpos := Pos{t.pos.Line, t.pos.Col + len(name) + 1}
		if !ok {
			return p.errorf(t.pos, "unknown stop option %q (want pos=, node=, nth=, cpu=, line= or end)", t.text)
		}
		if seen[name] {
			return p.errorf(t.pos, "%s= is given twice", name)
		}
		seen[name] = true
		switch name {
		case AtPos, AtNode, AtLine:
			if st.At != "" {
				return p.errorf(t.pos, "a stop is at one place: %s is given already", st.At)
			}
			st.At, st.AtPos = name, vpos
		}
		switch name {
		case "node":
			if !validID(val) {
				return p.errorf(vpos, "%q is not a node id (letters, digits and underscores, as the diagrams name them)", val)
			}
			st.Node = val
		case "pos", "nth", "cpu", "line":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || n > maxCount {
				return p.errorf(vpos, "%s= needs a number from 0 to %d", name, maxCount)
			}
			switch name {
			case "pos":
				st.Position = n
			case "nth":
				if n == 0 {
					return p.errorf(vpos, "nth= counts from 1")
				}
				st.Nth = n
			case "cpu":
				st.CPU = n
			case "line":
				if n == 0 {
					return p.errorf(vpos, "line= counts from 1")
				}
				st.Line = n
			}
		default:
			return p.errorf(t.pos, "unknown stop option %q (want pos=, node=, nth=, cpu=, line= or end)", name+"=")
		}
	}
	if st.At == "" {
		return p.errorf(kw.pos, "stop needs where: pos=N, node=ID, line=L or end")
	}
	if st.At != AtNode && (seen["nth"] || seen["cpu"]) {
		return p.errorf(kw.pos, "nth= and cpu= go with node=")
	}
	p.t.Stops = append(p.t.Stops, st)
	p.stop = st
	return nil
}
