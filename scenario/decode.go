// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"bufio"
	"errors"
	"io"
	"math"
)

// MaxLine is the longest line a Decoder reads, in bytes. No statement comes near it.
const MaxLine = 64 << 10

// A Decoder reads a scenario from a reader statement by statement, so that a scenario of any
// length runs in memory bounded by its longest statement: the command line's run, trace and
// export use it, with no limit on the size of the text or on the number of operations (the
// server keeps its limits, MaxSize and MaxOps, with Parse). Its errors are the *Error of Parse,
// at the same places.
type Decoder struct {
	p    *parser
	r    *bufio.Reader
	line int  // lines read
	eof  bool // the text is read and checked to its end
	err  error
	next int   // the index in p.f.Body of the next statement to return
	head *File // what Header returns: p.f without the statements
}

// NewDecoder returns a decoder of the scenario r; name is the file name used in errors.
func NewDecoder(name string, r io.Reader) *Decoder {
	p := &parser{f: &File{Name: name}, maxOps: math.MaxInt, stream: true}
	p.stack = []*frame{{}}
	return &Decoder{p: p, r: bufio.NewReaderSize(r, MaxLine+2)}
}

// Header reads the scenario up to its map statement and returns the file so far: its Name,
// Title, About and Map. Its Body and Ops stay empty: Next returns the statements.
func (d *Decoder) Header() (*File, error) {
	for !d.p.haveMap {
		if err := d.read(); err != nil {
			if err == io.EOF {
				err = d.p.finish() // the scenario has no map statement
			}
			return nil, err
		}
	}
	if d.head == nil {
		h := *d.p.f
		h.Body, h.Ops = nil, nil
		d.head = &h
	}
	return d.head, nil
}

// Next returns the next top-level statement (an *Op, *ExpectKeys, *Assert, *Parallel or
// *Interrupt, whole), or io.EOF once the scenario has been read to its end and found complete.
func (d *Decoder) Next() (Stmt, error) {
	if _, err := d.Header(); err != nil {
		return nil, err
	}
	body := &d.p.f.Body
	for d.next >= len(*body) {
		*body, d.next = (*body)[:0], 0
		if err := d.read(); err != nil {
			return nil, err
		}
	}
	st := (*body)[d.next]
	(*body)[d.next] = nil
	d.next++
	return st, nil
}

// read parses the next line, or ends the text: io.EOF once it is read and complete.
func (d *Decoder) read() error {
	if d.err != nil {
		return d.err
	}
	if d.eof {
		return io.EOF
	}
	l, err := d.r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		d.err = d.p.errorf(Pos{d.line + 1, 1}, "line longer than %d KiB", MaxLine>>10)
		return d.err
	case err == io.EOF && len(l) == 0:
		d.eof = true
		if d.err = d.p.finish(); d.err != nil {
			return d.err
		}
		return io.EOF
	case err != nil && err != io.EOF:
		d.err = &Error{File: d.p.f.Name, Line: d.line + 1, Col: 1, Msg: "reading: " + err.Error()}
		return d.err
	}
	d.line++
	if n := len(l); n > 0 && l[n-1] == '\n' {
		l = l[:n-1]
	}
	if n := len(l); n > MaxLine && !(n == MaxLine+1 && l[n-1] == '\r') {
		d.err = d.p.errorf(Pos{d.line, 1}, "line longer than %d KiB", MaxLine>>10)
		return d.err
	}
	if d.err = d.p.rawLine(string(l), d.line); d.err != nil {
		return d.err
	}
	return nil
}
