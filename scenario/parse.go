// SPDX-License-Identifier: GPL-2.0-only

// Package scenario parses lruviz's scenario language, the .lru files.
//
// The language is line-oriented: one statement a line, words separated by
// spaces or tabs, blank lines ignored. `#` starts a comment, except inside
// the text of `title`, `about` and `say`, which runs to the end of the line
// (trimmed). Integers are decimal or 0x hex; keys, values and flags are
// unsigned 64-bit. Keywords are lower case.
//
//	title TEXT                  # at most once, before the map statement
//	about TEXT                  # repeatable, before the map statement
//	map TYPE entries=N [cpus=N] [no_common_lru] [kernel=PROFILE] [seed=N] [virt_spin_lock]
//	say TEXT                    # narration for the next operation
//	cpu N update KEY VALUE [any|noexist|exist|flags=N] [expect RESULT]
//	cpu N lookup KEY [expect VALUE|-ENOENT|DEADLOCK]
//	cpu N sys_lookup KEY [expect VALUE|-ENOENT|DEADLOCK]
//	cpu N delete KEY [expect RESULT]
//	expect keys [KEY...]        # the exact key set; not inside blocks, nor are these:
//	expect evicted [KEY...]     # the keys the operation or group before evicted
//	expect list LIST [KEY|-]... # the elements on LIST, head to tail (-: no key)
//	expect count LIST N         # how many elements LIST holds
//	expect ref KEY...           # these keys' elements have the reference bit set
//	expect noref KEY...         # ... clear
//	expect next_steal CPU N     # CPU's next_steal (common LRU)
//	                            # the lock events of the operation or group before:
//	expect took CPU LOCK [as CLASS] [holding LOCK...]  # CPU took LOCK (inside those)
//	expect waited CPU LOCK      # CPU spun on LOCK
//	expect failed CPU LOCK RESULT [CHECK]  # taking LOCK failed on CPU
//	expect waits N              # lock waits in all
//	expect untaken LOCK         # no CPU took LOCK or spun on it
//	expect order LOCK CPU...    # the CPUs that took LOCK, in order
//	parallel [seed=S] [schedule=STEPS] {
//	  operations and interrupt blocks
//	}
//	interrupt at=ID [nth=K] [optional] {   # at top level or inside parallel
//	  cpu N ...                 # the victim
//	  cpu N ...                 # the handler: one or more, same CPU
//	}
//	goal result RESULT [cpu N] [nonempty LIST]  # top level; checked on the whole trace:
//	goal visit NODE [cpu N]     # an operation ends so, a CPU reaches NODE,
//	goal cycle                  # two CPUs spin at once, each on a lock the other holds
//
// The say lines right before a goal are its narration: what it asks, in words.
//
// TYPE is lru_hash or lru_percpu_hash; cpus is 1 to 128 (default 4); PROFILE
// is 6.8 (the default), 6.18 or 6.18-lru-rqspinlock; the hash seed fits in 32
// bits (default 0). RESULT is 0, DEADLOCK or one of
// -EEXIST -ENOENT -ENOMEM -EBUSY -EDEADLK -ETIMEDOUT -EINVAL -E2BIG. The
// options of map, parallel and interrupt come in any order, each at most
// once.
//
// A parallel group's STEPS are comma-separated without spaces: `N` runs
// CPU N one step, `NxK` K steps, `N@ID` until it emits the trace point ID,
// `N*` to the end of its work in the group. Every CPU a step names must have
// an operation in the group. A trace point ID (in steps and in at=) is a
// node id such as fn_bpf_lru_list_pop_free_to_local, a lock id such as
// htab.bucket[3] (the point right after it is taken), wait:LOCK (where the
// CPU begins to spin on LOCK) or scan:LIST (where a list walk has read an
// element of LIST); an id that names no node of the diagrams, or a lock or
// list this map does not have, is an error at its place.
//
// virt_spin_lock makes the kernel a guest without paravirtual spinlocks:
// its spinlocks are test-and-set locks, with no queue.
//
// Parse reports the first error as an *Error, whose text is
// FILE:LINE:COL: message.
package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

// Limits on what Parse accepts, so that a scenario typed into the web UI
// cannot make the server build an unbounded trace.
const (
	MaxSize = 1 << 20 // bytes of scenario text
	MaxOps  = 100000  // operations in one scenario
)

// maxCount bounds nth= and schedule step counts: they are ints in the AST,
// and 32 bits keeps them ints on every platform.
const maxCount = 1<<31 - 1

// Error is a syntax error in a scenario, at a position.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

// Error formats the error as FILE:LINE:COL: message.
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Parse parses the scenario src; name is the file name used in errors. It
// returns the first error found, as an *Error, and never panics.
func Parse(name string, src []byte) (*File, error) {
	return parse(name, src, MaxOps)
}

// parse is Parse with the operation limit as a parameter: 1 MiB of text
// cannot hold MaxOps+1 operations, so only a lower limit lets a test reach
// that error.
func parse(name string, src []byte, maxOps int) (*File, error) {
	p := &parser{f: &File{Name: name}, maxOps: maxOps}
	if len(src) > MaxSize {
		return nil, p.errorf(Pos{1, 1}, "scenario is larger than 1 MiB")
	}
	if err := p.parse(src); err != nil {
		return nil, err
	}
	return p.f, nil
}

// A token is one word of a line.
type token struct {
	text string
	pos  Pos
}

// A frame is a block being read: the top level, a parallel group or an
// interrupt block.
type frame struct {
	kind string // "", "parallel" or "interrupt"
	par  *Parallel
	intr *Interrupt
}

type parser struct {
	f       *File
	maxOps  int
	nops    int  // operations so far
	stream  bool // a Decoder's: File.Ops is not kept
	ran     bool // the body so far has something that runs (hasRun)
	haveMap bool
	title   bool
	stack   []*frame
	says    []string
	sayPos  Pos // position of the first pending say
	lineEnd Pos // position just past the last word of the current line
}

func (p *parser) errorf(pos Pos, format string, args ...any) *Error {
	return &Error{File: p.f.Name, Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) top() *frame { return p.stack[len(p.stack)-1] }

func (p *parser) parse(src []byte) error {
	p.stack = []*frame{{}}
	text := string(src)
	for line := 1; ; line++ {
		l, rest, more := strings.Cut(text, "\n")
		if err := p.rawLine(l, line); err != nil {
			return err
		}
		if !more {
			break
		}
		text = rest
	}
	return p.finish()
}

// rawLine parses line n as read, its newline cut off.
func (p *parser) rawLine(l string, n int) error {
	if n == 1 {
		// A byte order mark that some editors write first is not part of the text.
		l = strings.TrimPrefix(l, "\ufeff")
	}
	// A CRLF file reads the same as an LF one.
	l = strings.TrimSuffix(l, "\r")
	// A control character (but the tab) has no place in a scenario, and would carry into
	// the outputs that quote the text (an SVG, JSON): refuse it where it is.
	if i := strings.IndexFunc(l, isControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(l[i:])
		return p.errorf(Pos{n, i + 1}, "control character %U", r)
	}
	return p.line(l, n)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// isControl reports the control characters a scenario may not hold: C0 (but the tab), DEL and
// C1.
func isControl(r rune) bool { return r != '\t' && (r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0) }

// line parses one line.
func (p *parser) line(l string, n int) error {
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
	first := token{l[i:j], Pos{n, i + 1}}
	switch first.text {
	case "title", "about", "say":
		// The text runs to the end of the line: `#` is text there, so
		// that narration can say "bucket #3".
		k := j
		for k < len(l) && isSpace(l[k]) {
			k++
		}
		txt := strings.TrimRight(l[k:], " \t")
		if !utf8.ValidString(txt) {
			bad := k
			for bad < len(l) {
				r, size := utf8.DecodeRuneInString(l[bad:])
				if r == utf8.RuneError && size <= 1 {
					break
				}
				bad += size
			}
			return p.errorf(Pos{n, bad + 1}, "text is not valid UTF-8")
		}
		return p.text(first, txt, Pos{n, k + 1})
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
	last := toks[len(toks)-1]
	p.lineEnd = Pos{n, last.pos.Col + len(last.text)}
	return p.stmt(toks)
}

// text handles title, about and say; at is where the text starts.
func (p *parser) text(kw token, txt string, at Pos) error {
	switch kw.text {
	case "title", "about":
		if p.haveMap {
			return p.errorf(kw.pos, "%s must come before the map statement", kw.text)
		}
		if kw.text == "about" {
			p.f.About = append(p.f.About, txt)
			return nil
		}
		if p.title {
			return p.errorf(kw.pos, "only one title is allowed")
		}
		if txt == "" {
			return p.errorf(at, "title needs text")
		}
		p.title = true
		p.f.Title = txt
		return nil
	}
	if !p.haveMap {
		return p.errorf(kw.pos, "the map statement must come first")
	}
	if txt == "" {
		return p.errorf(at, "say needs text")
	}
	if len(p.says) == 0 {
		p.sayPos = kw.pos
	}
	p.says = append(p.says, txt)
	return nil
}

// noSay reports a pending say at a statement that is not an operation:
// narration belongs to the operation right after it.
func (p *parser) noSay() error {
	if len(p.says) > 0 {
		return p.errorf(p.sayPos, "say must be followed by an operation")
	}
	return nil
}

func (p *parser) stmt(toks []token) error {
	kw := toks[0]
	switch kw.text {
	case "map":
		return p.mapStmt(toks)
	case "cpu", "expect", "parallel", "interrupt", "goal", "}":
	default:
		return p.errorf(kw.pos, "unknown statement %q", kw.text)
	}
	if !p.haveMap {
		return p.errorf(kw.pos, "the map statement must come first")
	}
	switch kw.text {
	case "cpu":
		op, err := p.op(toks)
		if err != nil {
			return err
		}
		return p.addOp(op)
	case "expect":
		return p.expect(toks)
	case "parallel":
		return p.parallel(toks)
	case "interrupt":
		return p.interrupt(toks)
	case "goal":
		return p.goal(toks)
	}
	return p.closeBlock(toks)
}

func (p *parser) finish() error {
	if !p.haveMap {
		return p.errorf(Pos{1, 1}, "the scenario has no map statement")
	}
	if err := p.noSay(); err != nil {
		return err
	}
	if fr := p.top(); fr.kind == "parallel" {
		return p.errorf(fr.par.Pos, "parallel block opened here is not closed")
	} else if fr.kind == "interrupt" {
		// An unclosed parallel group around it is reported once this
		// is fixed: the innermost block is the one the reader is in.
		return p.errorf(fr.intr.Pos, "interrupt block opened here is not closed")
	}
	return nil
}

// option splits a name=value word. ok is false for a word without '='.
func option(t token) (name string, val token, ok bool) {
	name, v, ok := strings.Cut(t.text, "=")
	return name, token{v, Pos{t.pos.Line, t.pos.Col + len(name) + 1}}, ok
}

// number parses a decimal or 0x hex integer of at most 64 bits.
func number(s string) (uint64, error) {
	base, digits := 10, s
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		base, digits = 16, s[2:]
	}
	if digits == "" {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		ok := '0' <= c && c <= '9' ||
			base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F')
		if !ok {
			return 0, strconv.ErrSyntax
		}
	}
	v, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return 0, strconv.ErrRange // the digits were checked above
	}
	return v, nil
}

// num parses t as a number; what names it in errors ("key", "value", ...).
func (p *parser) num(t token, what string) (uint64, error) {
	v, err := number(t.text)
	if err == strconv.ErrRange {
		return 0, p.errorf(t.pos, "%s %s does not fit in 64 bits", what, t.text)
	}
	if err != nil {
		return 0, p.errorf(t.pos, "invalid %s %q (want a decimal or 0x hex number)", what, t.text)
	}
	return v, nil
}

// count parses a positive count such as nth=K or a step's K.
func (p *parser) count(t token, what string) (int, error) {
	v, err := number(t.text)
	if err == strconv.ErrSyntax {
		return 0, p.errorf(t.pos, "invalid %s %q (want a decimal or 0x hex number)", what, t.text)
	}
	if err != nil || v < 1 || v > maxCount {
		return 0, p.errorf(t.pos, "%s must be 1 to %d", what, maxCount)
	}
	return int(v), nil
}

// cpu parses a CPU number, which must name one of the map's CPUs.
func (p *parser) cpu(t token) (int, error) {
	v, err := number(t.text)
	if err == strconv.ErrSyntax {
		return 0, p.errorf(t.pos, "invalid cpu %q (want a decimal or 0x hex number)", t.text)
	}
	if err != nil || v >= uint64(p.f.Map.CPUs) {
		return 0, p.errorf(t.pos, "cpu %s is outside 0..%d", t.text, p.f.Map.CPUs-1)
	}
	return int(v), nil
}

// pointKinds are the prefixes of trace point ids that name something other
// than a node or the taking of a lock: wait:LOCK is where a CPU starts to
// spin on LOCK, scan:LIST where a list walk has read an element of LIST.
var pointKinds = []string{"wait", "scan"}

// traceID checks a trace point id: a node id, a lock id, or KIND:ID for a kind of pointKinds,
// against the map: a node of the diagrams (the engine marks every one it passes), a lock or a
// list this map has. A point that exists but that no operation passes (a per-CPU LRU's node in
// a common one's run) is a matter for run time: the interrupt that never happens.
func (p *parser) traceID(t token) error {
	if t.text == "" {
		return p.errorf(t.pos, "missing trace point id")
	}
	kind, rest, ok := strings.Cut(t.text, ":")
	if ok {
		if !slices.Contains(pointKinds, kind) {
			return p.errorf(t.pos, "unknown kind of trace point %q (want %s:ID, or a node or lock id)", kind, strings.Join(pointKinds, ":ID, "))
		}
		t = token{rest, Pos{t.pos.Line, t.pos.Col + len(kind) + 1}}
		if t.text == "" {
			return p.errorf(t.pos, "missing id after %s:", kind)
		}
	}
	for i := 0; i < len(t.text); i++ {
		c := t.text[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '_' || c == '.' || c == '[' || c == ']' || c == '-'
		if !ok {
			return p.errorf(t.pos, "invalid trace point id %q (want a node id or a lock id)", t.text)
		}
	}
	switch {
	case kind == "wait" && ok:
		return p.lockID(t)
	case kind == "scan" && ok:
		return p.listName(t)
	case isTracePoint(t.text):
		return nil
	case strings.Contains(t.text, "."):
		return p.lockID(t)
	}
	return p.errorf(t.pos, "unknown trace point %q (want a node id such as %s, a lock id such as %s, wait:LOCK or scan:LIST)",
		t.text, chart.PopFreeToLocal, p.exampleLock())
}

// isTracePoint reports whether id is a node the engine marks when an operation passes it: any
// node of the diagrams but the push-back drawing's end, which stands for no code.
func isTracePoint(id string) bool {
	_, ok := chart.Lookup(id)
	return ok && id != chart.PushFreeDone
}

// exampleLock is a lock id this map has, for messages.
func (p *parser) exampleLock() string {
	if p.f.Map.NoCommonLRU {
		return "cpu0.lru"
	}
	return "lru.global"
}

// errRepeated reports a second use of a block or map option.
func (p *parser) errRepeated(stmt string, t token, name string) error {
	return p.errorf(t.pos, "%s option %s given twice", stmt, name)
}

func (p *parser) mapStmt(toks []token) error {
	kw := toks[0]
	if p.haveMap {
		return p.errorf(kw.pos, "only one map statement is allowed (the first is on line %d)", p.f.Map.Pos.Line)
	}
	if len(p.stack) > 1 || p.nops > 0 {
		// Unreachable, as nothing but title and about may precede
		// the map; kept so that a later change cannot break it silently.
		return p.errorf(kw.pos, "the map statement must come first")
	}
	m := &p.f.Map
	m.Pos = kw.pos
	m.CPUs = DefaultCPUs
	m.Kernel = DefaultKernel
	if len(toks) < 2 || strings.Contains(toks[1].text, "=") || toks[1].text == "no_common_lru" || toks[1].text == "virt_spin_lock" {
		at := p.lineEnd
		if len(toks) >= 2 {
			at = toks[1].pos
		}
		return p.errorf(at, "map needs a type (%s)", trace.MapTypeNames(" or "))
	}
	t := toks[1]
	typ, err := trace.ParseMapType(t.text)
	if err != nil {
		return p.errorf(t.pos, "%v", err)
	}
	m.Type, m.TypePos = typ, t.pos
	seen := map[string]bool{}
	for _, t := range toks[2:] {
		name, val, hasVal := option(t)
		switch name {
		case "entries", "cpus", "kernel", "seed":
			if !hasVal {
				return p.errorf(t.pos, "map option %s needs a value (%s=...)", name, name)
			}
		case "no_common_lru", "virt_spin_lock":
			if hasVal {
				return p.errorf(t.pos, "map option %s takes no value", name)
			}
		default:
			return p.errorf(t.pos, "unknown map option %q (want entries=, cpus=, no_common_lru, kernel=, seed= or virt_spin_lock)", t.text)
		}
		if seen[name] {
			return p.errRepeated("map", t, name)
		}
		seen[name] = true
		switch name {
		case "entries":
			v, err := p.num(val, "entries")
			if err != nil {
				return err
			}
			m.Entries, m.EntriesPos = v, val.pos
		case "cpus":
			v, err := number(val.text)
			if err == strconv.ErrSyntax {
				return p.errorf(val.pos, "invalid cpus %q (want a decimal or 0x hex number)", val.text)
			}
			if err != nil || v < 1 || v > MaxCPUs {
				return p.errorf(val.pos, "cpus must be 1 to %d", MaxCPUs)
			}
			m.CPUs, m.CPUsPos = int(v), val.pos
		case "kernel":
			if !slices.Contains(Kernels, val.text) {
				return p.errorf(val.pos, "unknown kernel profile %q (want %s)", val.text, strings.Join(Kernels, ", "))
			}
			m.Kernel, m.KernelPos = val.text, val.pos
		case "seed":
			v, err := number(val.text)
			if err == strconv.ErrSyntax {
				return p.errorf(val.pos, "invalid seed %q (want a decimal or 0x hex number)", val.text)
			}
			if err != nil || v > 1<<32-1 {
				return p.errorf(val.pos, "seed %s does not fit in 32 bits", val.text)
			}
			m.Seed, m.SeedPos = uint32(v), val.pos
		case "no_common_lru":
			m.NoCommonLRU = true
		case "virt_spin_lock":
			m.VirtSpinLock = true
		}
	}
	if !seen["entries"] {
		return p.errorf(kw.pos, "map needs entries=N")
	}
	p.haveMap = true
	return nil
}

// updateResults are the results an update or a delete may expect, in the
// order error messages list them.
var updateResults = []string{"0", "-EEXIST", "-ENOENT", "-ENOMEM", "-EBUSY",
	"-EDEADLK", "-ETIMEDOUT", "-EINVAL", "-E2BIG", "DEADLOCK"}

func (p *parser) op(toks []token) (*Op, error) {
	op := &Op{Pos: toks[0].pos}
	if len(toks) < 2 {
		return nil, p.errorf(p.lineEnd, "cpu needs a CPU number and an operation")
	}
	cpu, err := p.cpu(toks[1])
	if err != nil {
		return nil, err
	}
	op.CPU, op.CPUPos = cpu, toks[1].pos
	if len(toks) < 3 {
		return nil, p.errorf(p.lineEnd, "cpu %d needs an operation (update, lookup, sys_lookup or delete)", cpu)
	}
	name := toks[2]
	args := 1
	switch name.text {
	case OpUpdate:
		args = 2
	case OpLookup, OpSysLookup, OpDelete:
	default:
		return nil, p.errorf(name.pos, "unknown operation %q (want update, lookup, sys_lookup or delete)", name.text)
	}
	op.Name = name.text
	rest := toks[3:]
	if len(rest) < args || rest[0].text == "expect" || args == 2 && rest[1].text == "expect" {
		at := p.lineEnd
		for _, t := range rest {
			if t.text == "expect" {
				at = t.pos
				break
			}
		}
		if args == 2 {
			return nil, p.errorf(at, "update needs a key and a value")
		}
		return nil, p.errorf(at, "%s needs a key", op.Name)
	}
	if op.Key, err = p.num(rest[0], "key"); err != nil {
		return nil, err
	}
	if args == 2 {
		if op.Value, err = p.num(rest[1], "value"); err != nil {
			return nil, err
		}
	}
	rest = rest[args:]
	if op.Name == OpUpdate {
		op.FlagsText = FlagsText(FlagAny)
		if len(rest) > 0 && rest[0].text != "expect" {
			t := rest[0]
			switch name, val, hasVal := option(t); {
			case t.text == "any":
				op.Flags = FlagAny
			case t.text == "noexist":
				op.Flags = FlagNoExist
			case t.text == "exist":
				op.Flags = FlagExist
			case name == "flags" && hasVal:
				if op.Flags, err = p.num(val, "flags"); err != nil {
					return nil, err
				}
			default:
				return nil, p.errorf(t.pos, "unexpected %q (want any, noexist, exist, flags=N or expect)", t.text)
			}
			op.FlagsText = FlagsText(op.Flags)
			rest = rest[1:]
		}
	}
	if len(rest) == 0 {
		return op, nil
	}
	if rest[0].text != "expect" {
		return nil, p.errorf(rest[0].pos, "unexpected %q (want expect)", rest[0].text)
	}
	if len(rest) < 2 {
		return nil, p.errorf(p.lineEnd, "expect needs a result")
	}
	if len(rest) > 2 {
		return nil, p.errorf(rest[2].pos, "unexpected %q after the expected result", rest[2].text)
	}
	ex := &Expect{Pos: rest[0].pos}
	r := rest[1]
	switch op.Name {
	case OpLookup, OpSysLookup:
		switch r.text {
		case "-ENOENT", "DEADLOCK":
			ex.Text = r.text
		default:
			v, err := number(r.text)
			if err == strconv.ErrRange {
				return nil, p.errorf(r.pos, "value %s does not fit in 64 bits", r.text)
			}
			if err != nil {
				return nil, p.errorf(r.pos, "unknown result %q (a %s gives a value, -ENOENT or DEADLOCK)", r.text, op.Name)
			}
			ex.IsValue, ex.Value, ex.Text = true, v, strconv.FormatUint(v, 10)
		}
	default:
		if slices.Contains(updateResults, r.text) {
			ex.Text = r.text
		} else if v, err := number(r.text); err == nil && v == 0 {
			ex.Text = "0" // 0x0 and 00 are 0 too
		} else {
			return nil, p.errorf(r.pos, "unknown result %q (want %s or %s)", r.text,
				strings.Join(updateResults[:len(updateResults)-1], ", "), updateResults[len(updateResults)-1])
		}
	}
	op.Expect = ex
	return op, nil
}

// addOp files a parsed operation in its block and in File.Ops.
func (p *parser) addOp(op *Op) error {
	if p.nops >= p.maxOps {
		return p.errorf(op.Pos, "too many operations (at most %d)", p.maxOps)
	}
	op.Index = p.nops
	p.nops++
	op.Say, p.says = p.says, nil
	if !p.stream {
		p.f.Ops = append(p.f.Ops, op)
	}
	switch fr := p.top(); fr.kind {
	case "parallel":
		fr.par.Body = append(fr.par.Body, op)
	case "interrupt":
		in := fr.intr
		if in.Victim == nil {
			in.Victim = op
			break
		}
		if op.CPU != in.Victim.CPU {
			return p.errorf(op.CPUPos, "cpu %d differs from the interrupted operation's cpu %d (line %d): an interrupt runs on the CPU it interrupts",
				op.CPU, in.Victim.CPU, in.Victim.Pos.Line)
		}
		in.Handler = append(in.Handler, op)
	default:
		p.f.Body = append(p.f.Body, op)
		p.ran = true
	}
	return nil
}

// expectKinds are the words that may follow a statement's `expect`.
var expectKinds = []string{"keys", AssertEvicted, AssertList, AssertCount, AssertRef, AssertNoRef, AssertNextSteal,
	AssertTook, AssertWaited, AssertFailed, AssertWaits, AssertUntaken, AssertOrder}

// expect parses a statement that starts with expect: `expect keys` or an Assert.
func (p *parser) expect(toks []token) error {
	kw := toks[0]
	if len(toks) < 2 || !slices.Contains(expectKinds, toks[1].text) {
		at := p.lineEnd
		if len(toks) >= 2 {
			at = toks[1].pos
		}
		return p.errorf(at, `a statement starting with expect must be "expect %s ..." (an operation's expect goes on its line)`,
			strings.Join(expectKinds, "|"))
	}
	if err := p.noSay(); err != nil {
		return err
	}
	kind := toks[1]
	switch p.top().kind {
	case "parallel":
		return p.errorf(kw.pos, "expect %s is not allowed inside a parallel group", kind.text)
	case "interrupt":
		return p.errorf(kw.pos, "expect %s is not allowed inside an interrupt block", kind.text)
	}
	args := toks[2:]
	if kind.text == "keys" {
		keys, err := p.keySet(args)
		if err != nil {
			return err
		}
		slices.Sort(keys)
		p.f.Body = append(p.f.Body, &ExpectKeys{Pos: kw.pos, Keys: keys})
		return nil
	}
	a := &Assert{Pos: kw.pos, Kind: kind.text}
	var err error
	switch kind.text {
	case AssertTook, AssertWaited, AssertFailed, AssertWaits, AssertUntaken, AssertOrder:
		if !p.hasRun() {
			return p.errorf(kw.pos, "expect %s must follow an operation, an interrupt block or a parallel group", kind.text)
		}
		if err := p.lockAssert(a, args); err != nil {
			return err
		}
	case AssertEvicted:
		if !p.hasRun() {
			return p.errorf(kw.pos, "expect evicted must follow an operation, an interrupt block or a parallel group")
		}
		if a.Keys, err = p.keySet(args); err != nil {
			return err
		}
		slices.Sort(a.Keys)
	case AssertRef, AssertNoRef:
		if len(args) == 0 {
			return p.errorf(p.lineEnd, "expect %s needs at least one key", kind.text)
		}
		if a.Keys, err = p.keySet(args); err != nil {
			return err
		}
	case AssertList, AssertCount:
		if len(args) == 0 {
			return p.errorf(p.lineEnd, "expect %s needs a list name", kind.text)
		}
		if err := p.listName(args[0]); err != nil {
			return err
		}
		a.List, a.ListPos = args[0].text, args[0].pos
		if kind.text == AssertCount {
			if len(args) != 2 {
				return p.errorf(p.lineEnd, "expect count needs a list name and a number")
			}
			if a.N, err = p.small(args[1], "count"); err != nil {
				return err
			}
			break
		}
		a.Elems = []ListElem{}
		for _, t := range args[1:] {
			if t.text == "-" {
				a.Elems = append(a.Elems, ListElem{NoKey: true})
				continue
			}
			k, err := p.num(t, "key")
			if err != nil {
				return err
			}
			a.Elems = append(a.Elems, ListElem{Key: k})
		}
	case AssertNextSteal:
		if p.f.Map.NoCommonLRU {
			return p.errorf(kind.pos, "expect next_steal needs a common LRU (this map has no_common_lru)")
		}
		if len(args) != 2 {
			return p.errorf(p.lineEnd, "expect next_steal needs a CPU and a CPU number")
		}
		if a.CPU, err = p.cpu(args[0]); err != nil {
			return err
		}
		if a.N, err = p.cpu(args[1]); err != nil {
			return err
		}
	}
	p.f.Body = append(p.f.Body, a)
	return nil
}

// lockClasses and lockChecks are the words of took's `as CLASS` and failed's CHECK.
var (
	lockClasses = []string{"local", "lru", "hashtab", "remote"}
	lockChecks  = []string{"AA", "ABBA", "timeout", "queue"}
	lockResults = []string{"-EBUSY", "-EDEADLK", "-ETIMEDOUT"}
)

// lockAssert parses the words after took, waited, failed or waits.
func (p *parser) lockAssert(a *Assert, args []token) error {
	var err error
	if a.Kind == AssertWaits {
		if len(args) != 1 {
			return p.errorf(p.lineEnd, "expect waits needs a number")
		}
		a.N, err = p.small(args[0], "waits")
		return err
	}
	if a.Kind == AssertUntaken {
		if len(args) != 1 {
			return p.errorf(p.lineEnd, "expect untaken needs one lock")
		}
		if err := p.lockID(args[0]); err != nil {
			return err
		}
		a.Lock, a.LockPos = args[0].text, args[0].pos
		return nil
	}
	if a.Kind == AssertOrder {
		if len(args) < 2 {
			return p.errorf(p.lineEnd, "expect order needs a lock and at least one CPU")
		}
		if err := p.lockID(args[0]); err != nil {
			return err
		}
		a.Lock, a.LockPos = args[0].text, args[0].pos
		for _, t := range args[1:] {
			c, err := p.cpu(t)
			if err != nil {
				return err
			}
			a.CPUs = append(a.CPUs, c)
		}
		return nil
	}
	if len(args) < 2 {
		return p.errorf(p.lineEnd, "expect %s needs a CPU and a lock", a.Kind)
	}
	if a.CPU, err = p.cpu(args[0]); err != nil {
		return err
	}
	if err := p.lockID(args[1]); err != nil {
		return err
	}
	a.Lock, a.LockPos = args[1].text, args[1].pos
	rest := args[2:]
	switch a.Kind {
	case AssertWaited:
		if len(rest) > 0 {
			return p.errorf(rest[0].pos, "unexpected %q after the lock", rest[0].text)
		}
	case AssertFailed:
		if len(rest) == 0 {
			return p.errorf(p.lineEnd, "expect failed needs a result (%s)", strings.Join(lockResults, ", "))
		}
		if !slices.Contains(lockResults, rest[0].text) {
			return p.errorf(rest[0].pos, "unknown lock result %q (want %s)", rest[0].text, strings.Join(lockResults, ", "))
		}
		a.Result = rest[0].text
		if len(rest) > 1 {
			if !slices.Contains(lockChecks, rest[1].text) {
				return p.errorf(rest[1].pos, "unknown check %q (want %s)", rest[1].text, strings.Join(lockChecks, ", "))
			}
			a.Check = rest[1].text
		}
		if len(rest) > 2 {
			return p.errorf(rest[2].pos, "unexpected %q after the check", rest[2].text)
		}
	case AssertTook:
		if len(rest) >= 1 && rest[0].text == "as" {
			if len(rest) < 2 {
				return p.errorf(p.lineEnd, "as needs a lock class (%s)", strings.Join(lockClasses, ", "))
			}
			if !slices.Contains(lockClasses, rest[1].text) {
				return p.errorf(rest[1].pos, "unknown lock class %q (want %s)", rest[1].text, strings.Join(lockClasses, ", "))
			}
			a.Class = rest[1].text
			rest = rest[2:]
		}
		if len(rest) > 0 {
			if rest[0].text != "holding" {
				return p.errorf(rest[0].pos, "unexpected %q (want as CLASS or holding LOCK...)", rest[0].text)
			}
			if len(rest) < 2 {
				return p.errorf(p.lineEnd, "holding needs at least one lock")
			}
			for _, t := range rest[1:] {
				if err := p.lockID(t); err != nil {
					return err
				}
				a.Holding = append(a.Holding, t.text)
			}
		}
	}
	return nil
}

// lockID checks a lock id against the map: cpuN.local and lru.global in a common LRU,
// cpuN.lru in a per-CPU LRU, htab.bucket[I] in both.
func (p *parser) lockID(t token) error {
	want := "cpuN.local, lru.global or htab.bucket[I]"
	if p.f.Map.NoCommonLRU {
		want = "cpuN.lru or htab.bucket[I]: this map has no_common_lru"
	}
	id := t.text
	switch {
	case id == "lru.global" && !p.f.Map.NoCommonLRU:
		return nil
	case strings.HasPrefix(id, "htab.bucket[") && strings.HasSuffix(id, "]"):
		n := id[len("htab.bucket[") : len(id)-1]
		if v, err := strconv.Atoi(n); err == nil && strconv.Itoa(v) == n {
			if nb := p.buckets(); uint64(v) >= nb {
				return p.errorf(t.pos, "lock %s: this map has %d buckets, htab.bucket[0] to htab.bucket[%d]", id, nb, nb-1)
			}
			return nil
		}
	case strings.HasPrefix(id, "cpu"):
		n, which, ok := strings.Cut(id[3:], ".")
		if ok && (which == "local" && !p.f.Map.NoCommonLRU || which == "lru" && p.f.Map.NoCommonLRU) {
			if v, err := strconv.Atoi(n); err == nil && strconv.Itoa(v) == n {
				if v >= p.f.Map.CPUs {
					return p.errorf(t.pos, "lock %s: cpu %d is outside 0..%d", id, v, p.f.Map.CPUs-1)
				}
				return nil
			}
		}
	}
	return p.errorf(t.pos, "unknown lock %q (want %s)", id, want)
}

// buckets is the number of hash buckets of the map: roundup_pow_of_two(max_entries), as
// htab_map_alloc has it (at least 1; a map the kernel refuses is the engine's to report).
func (p *parser) buckets() uint64 {
	nb := uint64(1)
	for nb < p.f.Map.Entries && nb < 1<<40 {
		nb <<= 1
	}
	return nb
}

// keySet parses keys, refusing a key listed twice.
func (p *parser) keySet(toks []token) ([]uint64, error) {
	keys := []uint64{}
	seen := map[uint64]bool{}
	for _, t := range toks {
		v, err := p.num(t, "key")
		if err != nil {
			return nil, err
		}
		if seen[v] {
			return nil, p.errorf(t.pos, "key %d is listed twice", v)
		}
		seen[v] = true
		keys = append(keys, v)
	}
	return keys, nil
}

// small parses a count that fits an int: 0 to maxCount.
func (p *parser) small(t token, what string) (int, error) {
	v, err := number(t.text)
	if err == strconv.ErrSyntax {
		return 0, p.errorf(t.pos, "invalid %s %q (want a decimal or 0x hex number)", what, t.text)
	}
	if err != nil || v > maxCount {
		return 0, p.errorf(t.pos, "%s must be 0 to %d", what, maxCount)
	}
	return int(v), nil
}

// hasRun reports whether the body so far has something that runs: an
// operation, an interrupt block or a parallel group.
func (p *parser) hasRun() bool { return p.ran }

// listName checks a list name against the map: global.active, global.inactive, global.free,
// cpuN.local_free and cpuN.pending in a common LRU; cpuN.active, cpuN.inactive and cpuN.free
// in a per-CPU LRU (BPF_F_NO_COMMON_LRU).
func (p *parser) listName(t token) error {
	want := "global.active, global.inactive, global.free, cpuN.local_free or cpuN.pending"
	cpuLists := []string{"local_free", "pending"}
	if p.f.Map.NoCommonLRU {
		want = "cpuN.active, cpuN.inactive or cpuN.free: this map has no_common_lru"
		cpuLists = []string{"active", "inactive", "free"}
	}
	owner, list, ok := strings.Cut(t.text, ".")
	switch {
	case !ok:
	case owner == "global":
		if !p.f.Map.NoCommonLRU && slices.Contains([]string{"active", "inactive", "free"}, list) {
			return nil
		}
	case strings.HasPrefix(owner, "cpu") && slices.Contains(cpuLists, list):
		n := owner[3:]
		if v, err := strconv.Atoi(n); err == nil && strconv.Itoa(v) == n {
			if v >= p.f.Map.CPUs {
				return p.errorf(t.pos, "list %s: cpu %d is outside 0..%d", t.text, v, p.f.Map.CPUs-1)
			}
			return nil
		}
	}
	return p.errorf(t.pos, "unknown list %q (want %s)", t.text, want)
}

// openBrace checks that a block's opening line ends with `{` and returns
// the words between the keyword and the brace.
func (p *parser) openBrace(toks []token) ([]token, error) {
	for i, t := range toks {
		if t.text == "{" {
			if i != len(toks)-1 {
				return nil, p.errorf(toks[i+1].pos, "{ must end the line (put each statement on a line of its own)")
			}
			return toks[1:i], nil
		}
	}
	return nil, p.errorf(p.lineEnd, "%s must end its line with {", toks[0].text)
}

func (p *parser) parallel(toks []token) error {
	kw := toks[0]
	if err := p.noSay(); err != nil {
		return err
	}
	switch p.top().kind {
	case "parallel":
		return p.errorf(kw.pos, "parallel groups cannot be nested")
	case "interrupt":
		return p.errorf(kw.pos, "a parallel group cannot be inside an interrupt block")
	}
	opts, err := p.openBrace(toks)
	if err != nil {
		return err
	}
	par := &Parallel{Pos: kw.pos}
	fr := &frame{kind: "parallel", par: par}
	seen := map[string]bool{}
	for _, t := range opts {
		name, val, hasVal := option(t)
		if !hasVal || name != "seed" && name != "schedule" {
			return p.errorf(t.pos, "unknown parallel option %q (want seed=S or schedule=STEPS)", t.text)
		}
		if seen[name] {
			return p.errRepeated("parallel", t, name)
		}
		seen[name] = true
		if name == "seed" {
			if par.Seed, err = p.num(val, "seed"); err != nil {
				return err
			}
			continue
		}
		if par.Schedule, err = p.schedule(val); err != nil {
			return err
		}
		par.SchedulePos, par.ScheduleLen = t.pos, len(t.text)
	}
	p.stack = append(p.stack, fr)
	return nil
}

// schedule parses the value of schedule=.
func (p *parser) schedule(val token) ([]SchedStep, error) {
	if val.text == "" {
		return nil, p.errorf(val.pos, "empty schedule (want steps such as 0,1x3,0@ID,1*)")
	}
	var steps []SchedStep
	off := 0
	for s := range strings.SplitSeq(val.text, ",") {
		t := token{s, Pos{val.pos.Line, val.pos.Col + off}}
		off += len(s) + 1
		st, err := p.step(t)
		if err != nil {
			return nil, err
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// step parses one schedule step: N, NxK, N@ID or N*.
func (p *parser) step(t token) (SchedStep, error) {
	st := SchedStep{Pos: t.pos, Count: 1}
	if t.text == "" {
		return st, p.errorf(t.pos, "empty schedule step (steps are separated by single commas)")
	}
	cpuText, tail := t.text, ""
	if i := strings.IndexAny(t.text, "x@*"); i >= 0 {
		cpuText, tail = t.text[:i], t.text[i:]
	}
	// "0x3" is cpu 0 three times, not hex 3: in a step, x always
	// separates the count, so the CPU number is plain decimal here.
	if cpuText == "" {
		return st, p.errorf(t.pos, "invalid schedule step %q (want N, NxK, N@ID or N*)", t.text)
	}
	for i := 0; i < len(cpuText); i++ {
		if cpuText[i] < '0' || cpuText[i] > '9' {
			return st, p.errorf(t.pos, "invalid schedule step %q (want N, NxK, N@ID or N*)", t.text)
		}
	}
	cpu, err := p.cpu(token{cpuText, t.pos})
	if err != nil {
		return st, err
	}
	st.CPU = cpu
	rest := token{"", Pos{t.pos.Line, t.pos.Col + len(cpuText) + 1}}
	if tail != "" {
		rest.text = tail[1:]
	}
	switch {
	case tail == "":
	case tail == "*":
		st.ToEnd, st.Count = true, 0
	case tail[0] == 'x':
		if st.Count, err = p.count(rest, "step count"); err != nil {
			return st, err
		}
	case tail[0] == '@':
		if err := p.traceID(rest); err != nil {
			return st, err
		}
		st.Until, st.Count = rest.text, 0
	default:
		return st, p.errorf(t.pos, "invalid schedule step %q (want N, NxK, N@ID or N*)", t.text)
	}
	return st, nil
}

func (p *parser) interrupt(toks []token) error {
	kw := toks[0]
	if err := p.noSay(); err != nil {
		return err
	}
	parent := p.top()
	if parent.kind == "interrupt" {
		return p.errorf(kw.pos, "interrupt blocks cannot be nested")
	}
	opts, err := p.openBrace(toks)
	if err != nil {
		return err
	}
	in := &Interrupt{Pos: kw.pos, Nth: 1}
	seen := map[string]bool{}
	for _, t := range opts {
		name, val, hasVal := option(t)
		if t.text == "optional" {
			if in.Optional {
				return p.errRepeated("interrupt", t, "optional")
			}
			in.Optional = true
			continue
		}
		if !hasVal || name != "at" && name != "nth" {
			return p.errorf(t.pos, "unknown interrupt option %q (want at=ID, nth=K or optional)", t.text)
		}
		if seen[name] {
			return p.errRepeated("interrupt", t, name)
		}
		seen[name] = true
		if name == "nth" {
			if in.Nth, err = p.count(val, "nth"); err != nil {
				return err
			}
			continue
		}
		if err := p.traceID(val); err != nil {
			return err
		}
		in.At, in.AtPos = val.text, val.pos
	}
	if !seen["at"] {
		return p.errorf(kw.pos, "interrupt needs at=ID (the trace point where the interrupt comes)")
	}
	p.stack = append(p.stack, &frame{kind: "interrupt", intr: in})
	return nil
}

func (p *parser) closeBlock(toks []token) error {
	kw := toks[0]
	if len(toks) > 1 {
		return p.errorf(toks[1].pos, "} must stand alone on its line")
	}
	fr := p.top()
	if fr.kind == "" {
		return p.errorf(kw.pos, "} without an open block")
	}
	if err := p.noSay(); err != nil {
		return err
	}
	p.stack = p.stack[:len(p.stack)-1]
	parent := p.top()
	if fr.kind == "interrupt" {
		in := fr.intr
		in.End = kw.pos
		if len(in.Handler) == 0 {
			return p.errorf(in.Pos, "an interrupt block needs at least two operations: the one interrupted and the handler's")
		}
		if parent.kind == "parallel" {
			parent.par.Body = append(parent.par.Body, in)
		} else {
			p.f.Body = append(p.f.Body, in)
			p.ran = true
		}
		return nil
	}
	par := fr.par
	par.End = kw.pos
	if len(par.Body) == 0 {
		return p.errorf(par.Pos, "a parallel group needs at least one operation")
	}
	// A step on a CPU with nothing to do in the group is surely a typo;
	// report it here rather than as a stuck schedule at run time.
	busy := map[int]bool{}
	for _, s := range par.Body {
		switch s := s.(type) {
		case *Op:
			busy[s.CPU] = true
		case *Interrupt:
			busy[s.Victim.CPU] = true
		}
	}
	for _, st := range par.Schedule {
		if !busy[st.CPU] {
			return p.errorf(st.Pos, "schedule step names cpu %d, which has no operation in this group", st.CPU)
		}
	}
	p.f.Body = append(p.f.Body, par)
	p.ran = true
	return nil
}
