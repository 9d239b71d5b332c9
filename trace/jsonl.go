// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// MaxLine is the longest line, newline excluded, that a Reader accepts.
const MaxLine = 1 << 20

// Writer writes a trace as JSON Lines: the header line, then one line per event. It is a Tracer,
// so an engine can write its trace as it runs. Output is buffered: call Flush at the end.
type Writer struct {
	bw  *bufio.Writer
	err error
}

// NewWriter writes the header line h to w and returns a Writer for the events. An empty
// h.Kind and a zero h.Version are written as "trace" and Version; any other kind or version is
// an error.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if h.Kind == "" {
		h.Kind = "trace"
	}
	if h.Version == 0 {
		h.Version = Version
	}
	if h.Kind != "trace" || h.Version != Version {
		return nil, fmt.Errorf("trace: cannot write a header of kind %q version %d", h.Kind, h.Version)
	}
	line, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("trace: header: %w", err)
	}
	tw := &Writer{bw: bufio.NewWriterSize(w, 64<<10)}
	tw.bw.Write(line)
	if err := tw.bw.WriteByte('\n'); err != nil {
		return nil, err
	}
	return tw, nil
}

// Event writes ev as one line. An event of no valid kind is not written: it makes Err return
// an error, as a failed write does.
func (w *Writer) Event(ev *Event) {
	if w.err != nil {
		return
	}
	if ev.Kind == KindInvalid || ev.Kind >= kindCount {
		w.err = fmt.Errorf("trace: event seq %d has no valid kind (%d)", ev.Seq, ev.Kind)
		return
	}
	b := AppendEvent(w.bw.AvailableBuffer(), ev)
	b = append(b, '\n')
	if _, err := w.bw.Write(b); err != nil {
		w.err = err
	}
}

// Flush writes any buffered data and returns the first error met, as Err does.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = err
	}
	return w.err
}

// Err returns the first error met by Event or Flush, or nil.
func (w *Writer) Err() error { return w.err }

// WriteAll writes a whole trace, header line and events, to w.
func WriteAll(w io.Writer, h Header, evs []Event) error {
	tw, err := NewWriter(w, h)
	if err != nil {
		return err
	}
	for i := range evs {
		tw.Event(&evs[i])
	}
	return tw.Flush()
}

// AppendEvent appends ev's JSON object, as one line of a trace holds it but without the
// newline, to b. It writes seq, cpu, op and kind, then only the fields meaningful for the kind
// (see the Kind constants), always in the same order.
func AppendEvent(b []byte, ev *Event) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, ev.Seq, 10)
	b = append(b, `,"cpu":`...)
	b = strconv.AppendInt(b, int64(ev.CPU), 10)
	b = append(b, `,"op":`...)
	b = strconv.AppendInt(b, int64(ev.Op), 10)
	b = append(b, `,"kind":"`...)
	b = append(b, ev.Kind.String()...)
	b = append(b, '"')
	switch ev.Kind {
	case KindOpBegin:
		b = appendStr(b, "name", ev.Name())
		b = appendUint(b, "key", ev.Key)
		if ev.Name() == "update" {
			b = appendUint(b, "value", ev.Value)
			b = appendStr(b, "flags", ev.Flags())
		}
	case KindOpEnd:
		b = appendStr(b, "result", ev.Result())
	case KindNode:
		b = appendStr(b, "node", ev.Node())
		if ev.Idle() {
			b = append(b, `,"idle":true`...)
		}
	case KindGap, KindNote:
		b = appendStr(b, "reason", ev.Reason())
	case KindLock, KindUnlock, KindLockWait:
		b = appendStr(b, "lock", ev.Lock())
		b = appendStr(b, "class", ev.Class())
	case KindLockFailed:
		b = appendStr(b, "lock", ev.Lock())
		b = appendStr(b, "class", ev.Class())
		b = appendStr(b, "result", ev.Result())
		if c := ev.Check(); c != "" {
			b = appendStr(b, "check", c)
		}
	case KindMove:
		b = appendInt(b, "elem", int(ev.Elem))
		b = appendUint(b, "key", ev.Key)
		b = appendStr(b, "from", ev.From())
		b = appendStr(b, "to", ev.To())
		b = append(b, `,"ref":`...)
		b = strconv.AppendBool(b, ev.Ref())
	case KindRef:
		b = appendInt(b, "elem", int(ev.Elem))
		b = appendUint(b, "key", ev.Key)
	case KindLink:
		b = appendInt(b, "elem", int(ev.Elem))
		b = appendUint(b, "key", ev.Key)
		b = appendUint(b, "value", ev.Value)
		b = appendInt(b, "bucket", int(ev.Bucket))
	case KindUnlink:
		b = appendInt(b, "elem", int(ev.Elem))
		b = appendUint(b, "key", ev.Key)
		b = appendInt(b, "bucket", int(ev.Bucket))
	case KindValue:
		b = appendInt(b, "elem", int(ev.Elem))
		b = appendUint(b, "key", ev.Key)
		b = appendUint(b, "value", ev.Value)
	case KindRotation:
		b = appendStr(b, "list", ev.List())
		b = appendInt(b, "elem", int(ev.Elem))
	case KindNextSteal:
		b = appendUint(b, "value", ev.Value)
	case KindScan:
		b = appendInt(b, "elem", int(ev.Elem))
		b = appendUint(b, "key", ev.Key)
		b = appendStr(b, "list", ev.List())
		b = append(b, `,"ref":`...)
		b = strconv.AppendBool(b, ev.Ref())
	}
	return append(b, '}')
}

func appendStr(b []byte, name, s string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, s)
}

func appendUint(b []byte, name string, v uint64) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendUint(b, v, 10)
}

func appendInt(b []byte, name string, v int) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, int64(v), 10)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Control characters, the quote and the backslash
// are escaped, and so are U+2028 and U+2029 (JavaScript line terminators); bytes that are not
// UTF-8 become U+FFFD, as encoding/json does.
// AppendJSONString appends s as a JSON string, escaped as the JSON Lines writer escapes it
// (invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped): for writers of other JSON that want
// its speed.
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Reader reads a JSON Lines trace, one event at a time, with memory bounded by MaxLine.
type Reader struct {
	sc     *bufio.Scanner
	h      Header
	line   int   // lines read so far: the number of the last line read
	next   int64 // the seq the next event must have
	blank  int   // the first of a run of blank lines, 0 if none
	err    error // sticky error
	parser lineParser
	// lookups are the lookups begun and not yet ended: their result "0" is a value found
	// (SymValue), not an update's or a delete's success.
	lookups map[int32]bool
}

// maxOpenOps bounds the operations a trace may have open at once (begun, not ended): a few per
// CPU in any real trace; a hostile one cannot grow the reader's memory with them.
const maxOpenOps = 1 << 16

// NewReader reads and checks the header line of a trace. The header must be an object of kind
// "trace" and version Version; a newer version is an error that names it.
func NewReader(r io.Reader) (*Reader, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine+2) // room for "\r\n"
	tr := &Reader{sc: sc}
	line, err := tr.readLine()
	if err == io.EOF {
		return nil, errors.New("line 1: empty trace: no header line")
	}
	if err != nil {
		return nil, err
	}
	var kv struct {
		Kind    any `json:"kind"`
		Version any `json:"version"`
	}
	if err := json.Unmarshal(line, &kv); err != nil {
		return nil, fmt.Errorf("line 1: header: %v", err)
	}
	if kv.Kind != "trace" {
		return nil, fmt.Errorf("line 1: not a trace header: kind is %s, want \"trace\"", jsonText(kv.Kind))
	}
	v, ok := kv.Version.(float64)
	switch {
	case !ok || v != float64(int(v)):
		return nil, fmt.Errorf("line 1: header: version is %s, want a number", jsonText(kv.Version))
	case v > Version:
		return nil, fmt.Errorf("line 1: trace version %d is newer than this reader's (%d)", int(v), Version)
	case v != Version:
		return nil, fmt.Errorf("line 1: unsupported trace version %d (this reader reads %d)", int(v), Version)
	}
	if err := json.Unmarshal(line, &tr.h); err != nil {
		return nil, fmt.Errorf("line 1: header: %v", err)
	}
	// Empty lists read as nil, as the writer omits them.
	if len(tr.h.About) == 0 {
		tr.h.About = nil
	}
	if len(tr.h.Ops) == 0 {
		tr.h.Ops = nil
	}
	for i := range tr.h.Ops {
		if len(tr.h.Ops[i].Say) == 0 {
			tr.h.Ops[i].Say = nil
		}
	}
	return tr, nil
}

// jsonText formats a decoded JSON value for an error message.
func jsonText(v any) string {
	if v == nil {
		return "missing"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Header returns the trace's header.
func (r *Reader) Header() Header { return r.h }

// readLine returns the next line, or io.EOF.
func (r *Reader) readLine() ([]byte, error) {
	if !r.sc.Scan() {
		if err := r.sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return nil, fmt.Errorf("line %d: longer than %d bytes", r.line+1, MaxLine)
			}
			return nil, fmt.Errorf("line %d: %w", r.line+1, err)
		}
		return nil, io.EOF
	}
	r.line++
	l := r.sc.Bytes()
	if len(l) > MaxLine {
		return nil, fmt.Errorf("line %d: longer than %d bytes", r.line, MaxLine)
	}
	return l, nil
}

// Next returns the next event, or io.EOF after the last one. Any other error names the line
// (1-based, the header being line 1) and is returned again by every later call.
func (r *Reader) Next() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	for {
		line, err := r.readLine()
		if err == io.EOF {
			return Event{}, io.EOF // blank lines at the end are fine
		}
		if err != nil {
			r.err = err
			return Event{}, err
		}
		if isBlank(line) {
			if r.blank == 0 {
				r.blank = r.line
			}
			continue
		}
		if r.blank != 0 {
			r.err = fmt.Errorf("line %d: blank line inside the trace", r.blank)
			return Event{}, r.err
		}
		ev, err := r.parser.parse(line)
		if err == nil && ev.Seq != r.next {
			err = fmt.Errorf("seq is %d, want %d", ev.Seq, r.next)
		}
		if err == nil {
			err = r.lookupValue(&ev)
		}
		if err != nil {
			r.err = fmt.Errorf("line %d: %v", r.line, err)
			return Event{}, r.err
		}
		r.next++
		return ev, nil
	}
}

// lookupValue makes the result "0" of a lookup the value 0 it found: JSON writes both alike.
func (r *Reader) lookupValue(ev *Event) error {
	switch ev.Kind {
	case KindOpBegin:
		if ev.a == symLookup || ev.a == symSysLookup {
			if r.lookups == nil {
				r.lookups = map[int32]bool{}
			}
			if len(r.lookups) >= maxOpenOps {
				return fmt.Errorf("more than %d lookups begun and not ended", maxOpenOps)
			}
			r.lookups[ev.Op] = true
		}
	case KindOpEnd:
		if r.lookups[ev.Op] {
			delete(r.lookups, ev.Op)
			if ev.b == symZero {
				ev.b, ev.Value = SymValue, 0
			}
		}
	}
	return nil
}

func isBlank(l []byte) bool {
	for _, c := range l {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// ReadAll reads a whole trace.
func ReadAll(r io.Reader) (Header, []Event, error) {
	tr, err := NewReader(r)
	if err != nil {
		return Header{}, nil, err
	}
	var evs []Event
	for {
		ev, err := tr.Next()
		if err == io.EOF {
			return tr.h, evs, nil
		}
		if err != nil {
			return tr.h, evs, err
		}
		evs = append(evs, ev)
	}
}

// Event fields as bits, to check which required fields a line has.
const (
	fSeq uint32 = 1 << iota
	fCPU
	fOp
	fKind
	fName
	fKey
	fValue
	fFlags
	fResult
	fNode
	fReason
	fLock
	fClass
	fElem
	fFrom
	fTo
	fRef
	fBucket
	fList
	fIdle
	fCheck
)

var fieldNames = [...]string{"seq", "cpu", "op", "kind", "name", "key", "value", "flags", "result",
	"node", "reason", "lock", "class", "elem", "from", "to", "ref", "bucket", "list", "idle", "check"}

const fCommon = fSeq | fCPU | fOp | fKind

// required lists the fields an event of each kind must have (op_begin of an update also needs
// value and flags).
var required = [kindCount]uint32{
	KindOpBegin:    fCommon | fName | fKey,
	KindOpEnd:      fCommon | fResult,
	KindNode:       fCommon | fNode,
	KindGap:        fCommon | fReason,
	KindLock:       fCommon | fLock | fClass,
	KindUnlock:     fCommon | fLock | fClass,
	KindLockWait:   fCommon | fLock | fClass,
	KindLockFailed: fCommon | fLock | fClass | fResult,
	KindMove:       fCommon | fElem | fKey | fFrom | fTo | fRef,
	KindRef:        fCommon | fElem | fKey,
	KindLink:       fCommon | fElem | fKey | fValue | fBucket,
	KindUnlink:     fCommon | fElem | fKey | fBucket,
	KindValue:      fCommon | fElem | fKey | fValue,
	KindRotation:   fCommon | fList | fElem,
	KindNextSteal:  fCommon | fValue,
	KindNote:       fCommon | fReason,
	KindScan:       fCommon | fElem | fKey | fList | fRef,
}

// lineParser parses one event line: a flat JSON object. Fields that are not meaningful for the
// event's kind, known or not, are checked for syntax and otherwise ignored, so that an event
// reads back exactly as AppendEvent writes it.
type lineParser struct {
	s    []byte
	i    int
	buf  []byte // scratch for unescaping strings
	strs map[string]string
}

type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

func (p *lineParser) fail(format string, args ...any) {
	panic(&syntaxError{fmt.Sprintf(format, args...)})
}

// parse parses line into an event. Errors do not name the line: the Reader adds it.
func (p *lineParser) parse(line []byte) (out Event, err error) {
	var ev Fields
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*syntaxError)
			if !ok {
				panic(r)
			}
			err = se
		}
	}()
	p.s, p.i = line, 0
	// Values are kept raw until the kind is known: raw[f] is the value's text.
	var raw [len(fieldNames)][]byte
	var seen uint32
	p.ws()
	p.expect('{')
	p.ws()
	if p.peek() == '}' {
		p.i++
	} else {
		for {
			p.ws()
			f := fieldIndex(p.strBytes()) // before the value reuses the scratch buffer
			p.ws()
			p.expect(':')
			p.ws()
			start := p.i
			p.skipValue(0)
			if f >= 0 {
				raw[f] = p.s[start:p.i]
				seen |= 1 << f
			}
			p.ws()
			c := p.next()
			if c == '}' {
				break
			}
			if c != ',' {
				p.back()
				p.fail("want , or } at column %d, got %s", p.i+1, p.what())
			}
		}
	}
	p.ws()
	if p.i < len(p.s) {
		p.fail("trailing data at column %d after the object", p.i+1)
	}
	if seen&fKind == 0 {
		p.fail("no kind")
	}
	ev.Kind = kindOf(p.strFieldBytes(raw[3], "kind"))
	if ev.Kind == KindInvalid {
		p.fail("unknown kind %s", raw[3])
	}
	want := required[ev.Kind]
	if ev.Kind == KindOpBegin && seen&fName != 0 && p.strField(raw[4], "name") == "update" {
		want |= fValue | fFlags
	}
	if miss := want &^ seen; miss != 0 {
		for f := range fieldNames {
			if miss&(1<<f) != 0 {
				p.fail("%s event without %s", ev.Kind, fieldNames[f])
			}
		}
	}
	ev.Seq = p.intField(raw[0], "seq", 0, 1<<63-1)
	ev.CPU = int(p.intField(raw[1], "cpu", 0, MaxCPUs-1))
	ev.Op = int(p.intField(raw[2], "op", 0, 1<<30))
	use := want
	switch ev.Kind {
	case KindNode:
		use |= seen & fIdle // optional
	case KindLockFailed:
		use |= seen & fCheck // optional
	}
	for f := 4; f < len(fieldNames); f++ {
		if use&(1<<f) == 0 {
			continue
		}
		v, n := raw[f], fieldNames[f]
		switch uint32(1) << f {
		case fName:
			ev.Name = p.strField(v, n)
		case fKey:
			ev.Key = p.uintField(v, n)
		case fValue:
			ev.Value = p.uintField(v, n)
		case fFlags:
			ev.Flags = p.strField(v, n)
		case fResult:
			ev.Result = p.strField(v, n)
		case fNode:
			ev.Node = p.strField(v, n)
		case fReason:
			ev.Reason = p.strField(v, n)
		case fLock:
			ev.Lock = p.strField(v, n)
		case fClass:
			ev.Class = p.strField(v, n)
		case fElem:
			ev.Elem = int(p.intField(v, n, -1, 1<<30))
		case fFrom:
			ev.From = p.strField(v, n)
		case fTo:
			ev.To = p.strField(v, n)
		case fRef:
			ev.Ref = p.boolField(v, n)
		case fBucket:
			ev.Bucket = int(p.intField(v, n, 0, 1<<30))
		case fList:
			ev.List = p.strField(v, n)
		case fIdle:
			ev.Idle = p.boolField(v, n)
		case fCheck:
			ev.Check = p.strField(v, n)
		}
	}
	out, err = ev.Event()
	if err != nil {
		p.fail("%v", err)
	}
	return out, nil
}

// kindOf returns the kind named b, or KindInvalid.
func kindOf(b []byte) Kind {
	for k, n := range kindNames {
		if string(b) == n && Kind(k) != KindInvalid {
			return Kind(k)
		}
	}
	return KindInvalid
}

// fieldIndex returns the bit index of an event field, or -1.
func fieldIndex(name []byte) int {
	for i, n := range fieldNames {
		if string(name) == n {
			return i
		}
	}
	return -1
}

func (p *lineParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *lineParser) next() byte {
	if p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		return c
	}
	p.i++
	return 0
}

func (p *lineParser) back() { p.i-- }

// what describes the byte at the cursor for an error message.
func (p *lineParser) what() string {
	if p.i >= len(p.s) {
		return "end of line"
	}
	return strconv.QuoteRune(rune(p.s[p.i]))
}

func (p *lineParser) expect(c byte) {
	if p.peek() != c {
		p.fail("want %q at column %d, got %s", c, p.i+1, p.what())
	}
	p.i++
}

func (p *lineParser) ws() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// maxDepth bounds the nesting of ignored values.
const maxDepth = 64

// skipValue moves past one JSON value, checking its syntax.
func (p *lineParser) skipValue(depth int) {
	if depth > maxDepth {
		p.fail("value nested deeper than %d at column %d", maxDepth, p.i+1)
	}
	switch c := p.peek(); {
	case c == '"':
		p.strBytes()
	case c == '-' || c >= '0' && c <= '9':
		p.number()
	case c == 't':
		p.word("true")
	case c == 'f':
		p.word("false")
	case c == 'n':
		p.word("null")
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.i++
		p.ws()
		if p.peek() == end {
			p.i++
			return
		}
		for {
			p.ws()
			if c == '{' {
				p.strBytes()
				p.ws()
				p.expect(':')
				p.ws()
			}
			p.skipValue(depth + 1)
			p.ws()
			d := p.next()
			if d == end {
				return
			}
			if d != ',' {
				p.back()
				p.fail("want , or %c at column %d, got %s", end, p.i+1, p.what())
			}
		}
	default:
		p.fail("want a value at column %d, got %s", p.i+1, p.what())
	}
}

func (p *lineParser) word(w string) {
	if len(p.s)-p.i < len(w) || string(p.s[p.i:p.i+len(w)]) != w {
		p.fail("want a value at column %d, got %s", p.i+1, p.what())
	}
	p.i += len(w)
}

// number moves past a JSON number.
func (p *lineParser) number() {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	switch c := p.peek(); {
	case c == '0':
		p.i++
	case c >= '1' && c <= '9':
		p.digits()
	default:
		p.fail("bad number at column %d", start+1)
	}
	if p.peek() == '.' {
		p.i++
		if !isDigit(p.peek()) {
			p.fail("bad number at column %d", start+1)
		}
		p.digits()
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if !isDigit(p.peek()) {
			p.fail("bad number at column %d", start+1)
		}
		p.digits()
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *lineParser) digits() {
	for p.i < len(p.s) && isDigit(p.s[p.i]) {
		p.i++
	}
}

// str parses a JSON string at the cursor and returns its value.
func (p *lineParser) str() string { return p.intern(p.strBytes()) }

// strBytes parses a JSON string at the cursor and returns its value, valid until the next call.
// Text that is not UTF-8 is an error; a lone surrogate escape becomes U+FFFD, as in
// encoding/json.
func (p *lineParser) strBytes() []byte {
	if p.peek() != '"' {
		p.fail("want a string at column %d, got %s", p.i+1, p.what())
	}
	start := p.i
	p.i++
	// Fast path: no escapes, all ASCII.
	for j := p.i; j < len(p.s); j++ {
		c := p.s[j]
		if c == '"' {
			s := p.s[p.i:j]
			p.i = j + 1
			return s
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	b := p.buf[:0]
	for {
		if p.i >= len(p.s) {
			p.fail("unterminated string at column %d", start+1)
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			p.buf = b
			return b
		case c < 0x20:
			p.fail("control character in string at column %d", p.i+1)
		case c == '\\':
			p.i++
			e := p.next()
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := p.hex4()
				if utf16IsSurrogate(r) {
					r2 := rune(-1)
					if p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
						save := p.i
						p.i += 2
						r2 = p.hex4()
						if dec := utf16Decode(r, r2); dec != utf8.RuneError {
							b = utf8.AppendRune(b, dec)
							continue
						}
						p.i = save
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				p.back()
				p.fail("bad escape in string at column %d", p.i)
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.i++
		default:
			r, size := utf8.DecodeRune(p.s[p.i:])
			if r == utf8.RuneError && size == 1 {
				p.fail("invalid UTF-8 in string at column %d", p.i+1)
			}
			b = append(b, p.s[p.i:p.i+size]...)
			p.i += size
		}
	}
}

func (p *lineParser) hex4() rune {
	if len(p.s)-p.i < 4 {
		p.fail("bad \\u escape at column %d", p.i+1)
	}
	var r rune
	for _, c := range p.s[p.i : p.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			p.fail("bad \\u escape at column %d", p.i+1)
		}
	}
	p.i += 4
	return r
}

func utf16IsSurrogate(r rune) bool { return r >= 0xd800 && r < 0xe000 }

// utf16Decode combines a surrogate pair, or returns U+FFFD if r1, r2 are not one.
func utf16Decode(r1, r2 rune) rune {
	if r1 >= 0xd800 && r1 < 0xdc00 && r2 >= 0xdc00 && r2 < 0xe000 {
		return (r1-0xd800)<<10 | (r2 - 0xdc00) + 0x10000
	}
	return utf8.RuneError
}

// Typed field values, from the raw text skipValue has already checked.

func (p *lineParser) strField(v []byte, name string) string {
	return p.intern(p.strFieldBytes(v, name))
}

func (p *lineParser) strFieldBytes(v []byte, name string) []byte {
	if len(v) == 0 || v[0] != '"' {
		p.fail("%s is %s, want a string", name, short(v))
	}
	s, i := p.s, p.i
	p.s, p.i = v, 0
	out := p.strBytes()
	p.s, p.i = s, i
	return out
}

// Short strings are interned, up to a bound, as traces repeat the same node ids, lock ids and
// list names over and over.
const (
	maxInterned   = 4096
	maxInternSize = 64
)

func (p *lineParser) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxInternSize {
		return string(b)
	}
	if s, ok := p.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(p.strs) < maxInterned {
		if p.strs == nil {
			p.strs = map[string]string{}
		}
		p.strs[s] = s
	}
	return s
}

func (p *lineParser) uintField(v []byte, name string) uint64 {
	n, ok := parseUint(v)
	if !ok {
		p.fail("%s is %s, want an unsigned 64-bit integer", name, short(v))
	}
	return n
}

func (p *lineParser) intField(v []byte, name string, lo, hi int64) int64 {
	neg := len(v) > 0 && v[0] == '-'
	digits := v
	if neg {
		digits = v[1:]
	}
	u, ok := parseUint(digits)
	var n int64
	switch {
	case !ok:
	case neg && u <= 1<<63:
		n = int64(-u) // -(1<<63) wraps to itself
	case !neg && u < 1<<63:
		n = int64(u)
	default:
		ok = false
	}
	if !ok || n < lo || n > hi {
		want := "an integer"
		if lo == 0 {
			want = "a non-negative integer"
		}
		p.fail("%s is %s, want %s", name, short(v), want)
	}
	return n
}

func (p *lineParser) boolField(v []byte, name string) bool {
	switch string(v) {
	case "true":
		return true
	case "false":
		return false
	}
	p.fail("%s is %s, want true or false", name, short(v))
	return false
}

// parseUint parses a decimal integer without sign, as JSON writes it (no leading zeros, which
// the syntax check has already refused).
func parseUint(v []byte) (uint64, bool) {
	if len(v) == 0 || len(v) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// short quotes a value's text for an error message, cut to a readable length.
func short(v []byte) string {
	if len(v) > 40 {
		return string(v[:40]) + "..."
	}
	return string(v)
}
