// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"strconv"

	"github.com/lruviz/lruviz/trace"
)

// A frame is written after every move of every page, so it is encoded by hand, field for field
// as its json tags say (encoding/json took three quarters of a view's cost). frame_test checks
// that the two agree.

// MarshalJSON writes the frame as JSON.
func (f *Frame) MarshalJSON() ([]byte, error) { return f.appendJSON(make([]byte, 0, 4096)), nil }

// appendViewJSON appends the view message of a frame.
func appendViewJSON(b []byte, f *Frame) []byte {
	b = append(b, `{"type":"view","position":`...)
	b = strconv.AppendInt(b, int64(f.Position), 10)
	b = append(b, `,"frame":`...)
	b = f.appendJSON(b)
	return append(b, '}')
}

type jw struct{ b []byte }

func (w *jw) key(first bool, k string) {
	if !first {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}
func (w *jw) int(first bool, k string, v int) {
	w.key(first, k)
	w.b = strconv.AppendInt(w.b, int64(v), 10)
}
func (w *jw) str(first bool, k, v string) { w.key(first, k); w.b = trace.AppendJSONString(w.b, v) }
func (w *jw) bool(first bool, k string, v bool) {
	w.key(first, k)
	w.b = strconv.AppendBool(w.b, v)
}

// optional fields (omitempty)
func (w *jw) ostr(k, v string) {
	if v != "" {
		w.str(false, k, v)
	}
}
func (w *jw) obool(k string, v bool) {
	if v {
		w.bool(false, k, true)
	}
}
func (w *jw) oint(k string, v int) {
	if v != 0 {
		w.int(false, k, v)
	}
}

func (w *jw) strs(vs []string) {
	w.b = append(w.b, '[')
	for i, v := range vs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = trace.AppendJSONString(w.b, v)
	}
	w.b = append(w.b, ']')
}

func (w *jw) ints(vs []int) {
	w.b = append(w.b, '[')
	for i, v := range vs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = strconv.AppendInt(w.b, int64(v), 10)
	}
	w.b = append(w.b, ']')
}

func (w *jw) chips(cs []Chip) {
	w.b = append(w.b, '[')
	for i := range cs {
		c := &cs[i]
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, '{')
		w.int(true, "e", c.Elem)
		if c.Key != nil {
			w.key(false, "k")
			w.b = strconv.AppendUint(w.b, *c.Key, 10)
		}
		w.ostr("v", c.Value)
		w.obool("r", c.Ref)
		w.obool("c", c.Changed)
		w.obool("rot", c.Rot)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
}

func (f *Frame) appendJSON(b []byte) []byte {
	w := &jw{b: b}
	w.b = append(w.b, '{')
	w.int(true, "position", f.Position)
	w.int(false, "events", f.Events)
	w.key(false, "cpus")
	w.b = append(w.b, '[')
	for i := range f.CPUs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.cpu(&f.CPUs[i])
	}
	w.b = append(w.b, ']')
	w.key(false, "lists")
	w.b = append(w.b, '[')
	for i := range f.Lists {
		l := &f.Lists[i]
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, '{')
		w.str(true, "name", l.Name)
		w.str(false, "title", l.Title)
		w.int(false, "count", l.Count)
		w.key(false, "head")
		w.chips(l.Head)
		if len(l.Tail) > 0 {
			w.key(false, "tail")
			w.chips(l.Tail)
		}
		w.int(false, "rotation", l.Rotation)
		w.obool("hands", l.Hands)
		w.obool("touched", l.Touched)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
	w.key(false, "buckets")
	w.b = append(w.b, '{')
	w.int(true, "used", f.Buckets.Used)
	w.int(false, "total", f.Buckets.Total)
	w.key(false, "rows")
	w.b = append(w.b, '[')
	for i := range f.Buckets.Rows {
		r := &f.Buckets.Rows[i]
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, '{')
		w.int(true, "bucket", r.Bucket)
		w.obool("locked", r.Locked)
		w.key(false, "chips")
		w.chips(r.Chips)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
	w.oint("more", f.Buckets.More)
	w.b = append(w.b, '}')
	w.key(false, "ops")
	w.b = append(w.b, '[')
	for i := range f.Ops {
		o := &f.Ops[i]
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, '{')
		w.int(true, "op", o.Op)
		w.str(false, "status", o.Status)
		w.ostr("result", o.Result)
		w.obool("ok", o.OK)
		w.obool("expected", o.Expected)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
	if f.OpsAll != nil {
		w.key(false, "ops_all")
		w.b = f.OpsAll.appendJSON(w.b)
	}
	if f.OpsFrom != nil {
		w.key(false, "ops_from")
		w.b = strconv.AppendInt(w.b, int64(*f.OpsFrom), 10)
	}
	w.key(false, "paths")
	w.b = append(w.b, '[')
	for i := range f.Paths {
		p := &f.Paths[i]
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, '{')
		w.int(true, "cpu", p.CPU)
		w.int(false, "op", p.Op)
		w.key(false, "nodes")
		w.strs(p.Nodes)
		w.key(false, "edges")
		w.strs(p.Edges)
		w.key(false, "last")
		w.strs(p.Last)
		if len(p.Jumps) > 0 {
			w.key(false, "jumps")
			w.b = append(w.b, '[')
			for j := range p.Jumps {
				jv := &p.Jumps[j]
				if j > 0 {
					w.b = append(w.b, ',')
				}
				w.b = append(w.b, '{')
				w.str(true, "diagram", jv.Diagram)
				w.str(false, "from", jv.From)
				w.str(false, "to", jv.To)
				w.str(false, "reason", jv.Reason)
				w.b = append(w.b, '}')
			}
			w.b = append(w.b, ']')
		}
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
	w.key(false, "lines")
	w.b = append(w.b, '[')
	for i := range f.Lines {
		l := &f.Lines[i]
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, '{')
		w.int(true, "pos", l.Pos)
		w.int(false, "cpu", l.CPU)
		w.str(false, "text", l.Text)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
	n := &f.Narration
	w.key(false, "narration")
	w.b = append(w.b, '{')
	first := true
	if len(n.Ops) > 0 {
		w.key(true, "ops")
		w.ints(n.Ops)
		first = false
	}
	if len(n.Texts) > 0 {
		w.key(first, "texts")
		w.strs(n.Texts)
		first = false
	}
	w.key(first, "paras")
	if n.Paras == nil {
		w.b = append(w.b, "null"...)
	} else {
		w.strs(n.Paras)
	}
	w.obool("stale", n.Stale)
	w.b = append(w.b, '}')
	if len(f.Changed) > 0 {
		w.key(false, "changed")
		w.ints(f.Changed)
	}
	w.b = append(w.b, '}')
	return w.b
}

func (w *jw) cpu(c *CPUView) {
	w.b = append(w.b, '{')
	w.int(true, "cpu", c.CPU)
	w.key(false, "stack")
	w.b = append(w.b, '[')
	for i := range c.Stack {
		s := &c.Stack[i]
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, '{')
		w.int(true, "op", s.Op)
		w.str(false, "text", s.Text)
		w.ostr("node", s.Node)
		w.ostr("title", s.Title)
		w.ostr("gap", s.Gap)
		w.ostr("wait", s.Wait)
		w.obool("interrupted", s.Interrupted)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
	w.ostr("node", c.Node)
	w.ostr("title", c.Title)
	w.obool("idle", c.Idle)
	w.key(false, "held")
	w.b = append(w.b, '[')
	for i := range c.Held {
		l := &c.Held[i]
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, '{')
		w.str(true, "lock", l.Lock)
		w.str(false, "class", l.Class)
		w.int(false, "cpu", l.CPU)
		w.int(false, "op", l.Op)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
	w.ostr("expected", c.Expected)
	w.obool("m7", c.M7)
	w.ostr("wait", c.Wait)
	w.int(false, "wait_holder", c.WaitHolder)
	w.obool("stuck", c.Stuck)
	if s := c.StuckWhy; s != nil {
		w.key(false, "stuck_why")
		w.b = append(w.b, '{')
		w.str(true, "why", s.Why)
		w.str(false, "lock", s.Lock)
		w.int(false, "op", s.Op)
		w.int(false, "ahead", s.Ahead)
		w.int(false, "behind", s.Behind)
		w.int(false, "since", s.Since)
		w.str(false, "band", s.Band)
		w.str(false, "text", s.Text)
		w.b = append(w.b, '}')
	}
	w.ostr("failed", c.Failed)
	w.ostr("failed_lock", c.FailedLock)
	w.int(false, "next_steal", c.NextSteal)
	w.str(false, "callout", c.Callout)
	w.b = append(w.b, '}')
}
