// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

var testHeader = Header{Kind: "trace", Version: Version, Profile: "6.8", CPUs: 2,
	Map: MapInfo{Type: LRUHash, Entries: 4}, Elems: 4, Buckets: 4, TargetFree: 128, NrScans: 128,
	Title: "A <test> & \"title\"", About: []string{"line one", "line\ttwo"}, Source: "t.lru",
	Ops: []OpInfo{{Index: 0, CPU: 0, Text: "cpu 0 update 1 2 any", Line: 3, Say: []string{"hi"}}}}

// everyKind holds one event of each kind with every meaningful field set, and the line
// AppendEvent must write for it.
var everyKind = []struct {
	ev   Event
	line string
}{
	{MustEvent(Fields{Kind: KindOpBegin, Name: "update", Key: 1<<64 - 1, Value: 1 << 63, Flags: "noexist"}),
		`"kind":"op_begin","name":"update","key":18446744073709551615,"value":9223372036854775808,"flags":"noexist"}`},
	{MustEvent(Fields{Kind: KindOpBegin, Name: "lookup", Key: 7}),
		`"kind":"op_begin","name":"lookup","key":7}`},
	{MustEvent(Fields{Kind: KindOpEnd, Result: "-EEXIST"}), `"kind":"op_end","result":"-EEXIST"}`},
	{MustEvent(Fields{Kind: KindNode, Node: "begin"}), `"kind":"node","node":"begin"}`},
	{MustEvent(Fields{Kind: KindNode, Node: "fn_x", Idle: true}), `"kind":"node","node":"fn_x","idle":true}`},
	{MustEvent(Fields{Kind: KindGap, Reason: "M4: \"quoted\"\n\\ é \u2028 \x01"}),
		`"kind":"gap","reason":"M4: \"quoted\"\n\\ é \u2028 \u0001"}`},
	{MustEvent(Fields{Kind: KindLock, Lock: "htab.bucket[3]", Class: ClassHashtab}), `"kind":"lock","lock":"htab.bucket[3]","class":"hashtab"}`},
	{MustEvent(Fields{Kind: KindUnlock, Lock: "lru.global", Class: ClassLRU}), `"kind":"unlock","lock":"lru.global","class":"lru"}`},
	{MustEvent(Fields{Kind: KindLockWait, Lock: "cpu0.local", Class: ClassLocal}), `"kind":"lock_wait","lock":"cpu0.local","class":"local"}`},
	{MustEvent(Fields{Kind: KindLockFailed, Lock: "htab.bucket[0]", Class: ClassHashtab, Result: "-EBUSY"}),
		`"kind":"lock_failed","lock":"htab.bucket[0]","class":"hashtab","result":"-EBUSY"}`},
	{MustEvent(Fields{Kind: KindLockFailed, Lock: "lru.global", Class: ClassLRU, Result: "-EDEADLK", Check: CheckABBA}),
		`"kind":"lock_failed","lock":"lru.global","class":"lru","result":"-EDEADLK","check":"ABBA"}`},
	{MustEvent(Fields{Kind: KindMove, Elem: 3, Key: 9, From: "cpu1.pending", To: "", Ref: true}),
		`"kind":"move","elem":3,"key":9,"from":"cpu1.pending","to":"","ref":true}`},
	{MustEvent(Fields{Kind: KindMove, Elem: 0, From: "", To: "global.free"}),
		`"kind":"move","elem":0,"key":0,"from":"","to":"global.free","ref":false}`},
	{Event{Kind: KindRef, Elem: 2, Key: 5}, `"kind":"ref","elem":2,"key":5}`},
	{Event{Kind: KindLink, Elem: 2, Key: 5, Value: 6, Bucket: 1}, `"kind":"link","elem":2,"key":5,"value":6,"bucket":1}`},
	{Event{Kind: KindUnlink, Elem: 2, Key: 5, Bucket: 1}, `"kind":"unlink","elem":2,"key":5,"bucket":1}`},
	{Event{Kind: KindValue, Elem: 2, Key: 5, Value: 8}, `"kind":"value","elem":2,"key":5,"value":8}`},
	{MustEvent(Fields{Kind: KindRotation, List: "global.inactive", Elem: -1}), `"kind":"rotation","list":"global.inactive","elem":-1}`},
	{Event{Kind: KindNextSteal, Value: 1}, `"kind":"next_steal","value":1}`},
	{MustEvent(Fields{Kind: KindNote, Reason: "M1: a label"}), `"kind":"note","reason":"M1: a label"}`},
	{MustEvent(Fields{Kind: KindScan, Elem: 3, Key: 7, List: "cpu0.pending", Ref: true}),
		`"kind":"scan","elem":3,"key":7,"list":"cpu0.pending","ref":true}`},
	{MustEvent(Fields{Kind: KindScan, Elem: 0, Key: 0, List: "global.free"}),
		`"kind":"scan","elem":0,"key":0,"list":"global.free","ref":false}`},
}

// TestEveryKindCovered checks that each kind has a test event and a rule for its fields, so
// that a kind added to event.go cannot be forgotten here.
func TestEveryKindCovered(t *testing.T) {
	for k := KindOpBegin; k < kindCount; k++ {
		if required[k]&^fCommon == 0 && k != KindOpEnd {
			t.Errorf("kind %s: no required fields listed in jsonl.go", k)
		}
		found := false
		for _, e := range everyKind {
			found = found || e.ev.Kind == k
		}
		if !found {
			t.Errorf("kind %s: no event in everyKind", k)
		}
	}
}

func everyKindTrace() []Event {
	var evs []Event
	for i, k := range everyKind {
		ev := k.ev
		ev.Seq, ev.CPU, ev.Op = int64(i), int32(i%2), int32(i/3)
		evs = append(evs, ev)
	}
	return evs
}

func TestAppendEvent(t *testing.T) {
	for i, k := range everyKindTrace() {
		got := string(AppendEvent(nil, &k))
		prefix := `{"seq":` + itoa(int64(i)) + `,"cpu":` + itoa(int64(i%2)) + `,"op":` + itoa(int64(i/3)) + ","
		if want := prefix + everyKind[i].line; got != want {
			t.Errorf("event %d:\n got %s\nwant %s", i, got, want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("event %d: invalid JSON %s", i, got)
		}
	}
}

func itoa(n int64) string { return string(appendInt(nil, "", int(n))[4:]) }

// TestStringEscaping checks appendJSONString against encoding/json's decoder.
func TestStringEscaping(t *testing.T) {
	for _, s := range []string{"", "plain", "\"\\/", "\x00\x1f\x7f", "é€😀", "\u2028\u2029", "bad \xff utf8 \xc3",
		"<html>&amp;", strings.Repeat("x", 1000)} {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("%q: %s: %v", s, b, err)
			continue
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if got != want {
			t.Errorf("%q: wrote %s, reads back as %q", s, b, got)
		}
		// Our own reader agrees.
		var p lineParser
		p.s = b
		if r := p.str(); r != want {
			t.Errorf("%q: our reader reads %s as %q", s, b, r)
		}
	}
}

func TestRoundTripEveryKind(t *testing.T) {
	evs := everyKindTrace()
	var buf bytes.Buffer
	if err := WriteAll(&buf, testHeader, evs); err != nil {
		t.Fatal(err)
	}
	h, got, err := ReadAll(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(h, testHeader) {
		t.Errorf("header:\n got %+v\nwant %+v", h, testHeader)
	}
	if !reflect.DeepEqual(got, evs) {
		t.Errorf("events:\n got %+v\nwant %+v", got, evs)
	}
}

// TestFieldsNotWritten checks that fields a kind does not use are neither written nor read.
func TestFieldsNotWritten(t *testing.T) {
	ev := MustEvent(Fields{Kind: KindOpBegin, Name: "lookup", Key: 1, Value: 99, Flags: "any", Node: "x", Elem: 4})
	var buf bytes.Buffer
	if err := WriteAll(&buf, testHeader, []Event{ev}); err != nil {
		t.Fatal(err)
	}
	_, got, err := ReadAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := MustEvent(Fields{Kind: KindOpBegin, Name: "lookup", Key: 1})
	if got[0] != want {
		t.Errorf("got %+v, want %+v", got[0], want)
	}
	// Fields of other kinds, and unknown ones, in a line are ignored.
	in := `{"kind":"trace","version":1}` + "\n" +
		`{"seq":0,"cpu":0,"op":0,"kind":"ref","elem":1,"key":2,"node":"x","extra":{"a":[1,2,{"b":null}]},"bucket":"not a number"}` + "\n"
	_, got, err = ReadAll(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Event{Kind: KindRef, Elem: 1, Key: 2}); got[0] != want {
		t.Errorf("got %+v, want %+v", got[0], want)
	}
}

// TestReadScanAndCheck reads the scan kind and lock_failed's optional check as a trace from
// elsewhere may write them: fields in any order, check left out or on a kind that has none.
func TestReadScanAndCheck(t *testing.T) {
	in := `{"kind":"trace","version":1}` + "\n" +
		`{"ref":true,"list":"global.active","key":9,"elem":2,"kind":"scan","op":0,"cpu":1,"seq":0}` + "\n" +
		`{"seq":1,"cpu":1,"op":0,"kind":"lock_failed","lock":"cpu1.local","class":"local","result":"-EBUSY"}` + "\n" +
		`{"seq":2,"cpu":1,"op":0,"kind":"lock_wait","lock":"lru.global","class":"lru","check":"AA"}` + "\n" +
		`{"seq":3,"cpu":1,"op":0,"kind":"lock_failed","lock":"lru.global","class":"lru","result":"-ETIMEDOUT","check":"timeout"}` + "\n"
	_, got, err := ReadAll(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := mustEvents([]Fields{
		{Seq: 0, CPU: 1, Kind: KindScan, Elem: 2, Key: 9, List: "global.active", Ref: true},
		{Seq: 1, CPU: 1, Kind: KindLockFailed, Lock: "cpu1.local", Class: ClassLocal, Result: "-EBUSY"},
		{Seq: 2, CPU: 1, Kind: KindLockWait, Lock: "lru.global", Class: ClassLRU},
		{Seq: 3, CPU: 1, Kind: KindLockFailed, Lock: "lru.global", Class: ClassLRU, Result: "-ETIMEDOUT", Check: CheckTimeout},
	})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestNewWriterHeader(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{CPUs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `{"kind":"trace","version":1,"profile":"","cpus":1,`) {
		t.Errorf("header line %s", buf.String())
	}
	if _, err := NewWriter(&buf, Header{Kind: "other"}); err == nil {
		t.Error("NewWriter accepts kind other")
	}
	if _, err := NewWriter(&buf, Header{Version: 2}); err == nil {
		t.Error("NewWriter accepts version 2")
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	w, err := NewWriter(&failWriter{}, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	long := RegisterReason("M4: " + strings.Repeat("x", 1000))
	ev := ReasonEvent(KindGap, long, LockRef{}, 0, 0, 0)
	for i := 0; i < 200; i++ {
		ev.Seq = int64(i)
		w.Event(&ev)
	}
	if w.Err() == nil || w.Flush() == nil || !strings.Contains(w.Flush().Error(), "disk full") {
		t.Errorf("Err = %v, Flush = %v; want disk full", w.Err(), w.Flush())
	}

	w, _ = NewWriter(io.Discard, testHeader)
	w.Event(&Event{Seq: 5})
	if w.Err() == nil || !strings.Contains(w.Err().Error(), "seq 5") {
		t.Errorf("an event of no kind: Err = %v", w.Err())
	}
}

func TestWriterAllocs(t *testing.T) {
	w, _ := NewWriter(io.Discard, testHeader)
	evs := everyKindTrace()
	allocs := testing.AllocsPerRun(100, func() {
		for i := range evs {
			w.Event(&evs[i])
		}
	})
	if allocs != 0 {
		t.Errorf("Writer.Event allocates %v times per %d events", allocs, len(evs))
	}
}

const hdr = `{"kind":"trace","version":1,"cpus":1}` + "\n"

func TestReaderErrors(t *testing.T) {
	ok0 := `{"seq":0,"cpu":0,"op":0,"kind":"op_end","result":"0"}` + "\n"
	for _, tc := range []struct{ in, want string }{
		{"", "line 1: empty trace"},
		{"\n", "line 1: header"},
		{"[1]\n", "line 1: header"},
		{`{"kind":"event","version":1}` + "\n", `line 1: not a trace header: kind is "event"`},
		{`{"version":1}` + "\n", `line 1: not a trace header: kind is missing`},
		{`{"kind":"trace","version":2}` + "\n", "line 1: trace version 2 is newer"},
		{`{"kind":"trace","version":0}` + "\n", "line 1: unsupported trace version 0"},
		{`{"kind":"trace","version":"1"}` + "\n", "line 1: header: version is \"1\""},
		{`{"kind":"trace","version":1} x` + "\n", "line 1: header"},
		{`{"kind":"trace","version":1,"cpus":"2"}` + "\n", "line 1: header"},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"nope"}`, `line 2: unknown kind "nope"`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"invalid"}`, `line 2: unknown kind "invalid"`},
		{hdr + `{"seq":0,"cpu":0,"op":0}`, `line 2: no kind`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":7}`, `line 2: kind is 7, want a string`},
		{hdr + `{"seq":0,"cpu":0,"kind":"op_end","result":"0"}`, `line 2: op_end event without op`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"op_end"}`, `line 2: op_end event without result`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"op_begin","name":"update","key":1,"value":2}`, `line 2: op_begin event without flags`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"op_end","result":0}`, `line 2: result is 0, want a string`},
		{hdr + `{"seq":0,"cpu":-1,"op":0,"kind":"op_end","result":"0"}`, `line 2: cpu is -1, want a non-negative integer`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"ref","elem":1,"key":-1}`, `line 2: key is -1, want an unsigned 64-bit integer`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"ref","elem":1,"key":18446744073709551616}`, `line 2: key is 18446744073709551616`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"ref","elem":1.5,"key":1}`, `line 2: elem is 1.5, want an integer`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"ref","elem":1,"key":1e3}`, `line 2: key is 1e3`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"move","elem":1,"key":1,"from":"","to":"","ref":1}`, `line 2: ref is 1, want true or false`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"node","node":"x","idle":"yes"}`, `line 2: idle is "yes"`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"scan","elem":1,"key":1,"list":"global.free"}`, `line 2: scan event without ref`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"scan","elem":1,"key":1,"ref":false}`, `line 2: scan event without list`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"lock_failed","lock":"l","class":"lru","result":"-EDEADLK","check":1}`, `line 2: check is 1, want a string`},
		{hdr + `{"seq":1,"cpu":0,"op":0,"kind":"op_end","result":"0"}`, `line 2: seq is 1, want 0`},
		{hdr + ok0 + ok0, `line 3: seq is 0, want 1`},
		{hdr + ok0[:len(ok0)-1] + " x\n", `line 2: trailing data`},
		{hdr + ok0[:len(ok0)-1] + "{}\n", `line 2: trailing data`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"op_end","result":"0"`, `line 2: want , or }`},
		{hdr + `{"seq":0 "cpu":0}`, `line 2: want , or }`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"op_end","result":"0}`, `line 2: unterminated string`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"gap","reason":"\x"}`, `line 2: bad escape`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"gap","reason":"\u12"}`, `line 2: bad \u escape`},
		{hdr + "{\"seq\":0,\"cpu\":0,\"op\":0,\"kind\":\"gap\",\"reason\":\"\xff\"}", `line 2: invalid UTF-8`},
		{hdr + "{\"seq\":0,\"cpu\":0,\"op\":0,\"kind\":\"gap\",\"reason\":\"a\tb\"}", `line 2: control character`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"gap","reason":"r","x":01}`, `line 2: want , or }`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"gap","reason":"r","x":tru}`, `line 2: want a value`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"gap","reason":"r","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, `line 2: value nested deeper`},
		{hdr + `[]`, `line 2: want '{'`},
		{hdr + `null`, `line 2: want '{'`},
		{hdr + "\n" + ok0, `line 2: blank line inside the trace`},
		{hdr + ok0 + " \n\t\n" + ok0, `line 3: blank line inside the trace`},
		{hdr + `{"seq":0,"cpu":0,"op":0,"kind":"gap","reason":"` + strings.Repeat("x", MaxLine) + `"}`, "line 2: longer than"},
	} {
		_, _, err := ReadAll(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			in := tc.in
			if len(in) > 200 {
				in = in[:200] + "..."
			}
			t.Errorf("%q:\n got error %v\nwant one containing %q", in, err, tc.want)
		}
	}
}

func TestReaderAccepts(t *testing.T) {
	for _, in := range []string{
		hdr,
		hdr + "\n\n  \n",
		hdr + "\r\n",
		strings.TrimSuffix(hdr, "\n"),
		hdr + ` { "op" : 0 , "kind":"op_end" ,"result":"\u0030" , "cpu":0,"seq":0 } ` + "\r\n",
		hdr + `{"seq":0,"cpu":0,"op":0,"kind":"op_end","result":"0"}`, // no final newline
		`{"kind":"trace","version":1,"future":{"x":[1]}}` + "\n",
	} {
		if _, _, err := ReadAll(strings.NewReader(in)); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// TestReaderSticky checks that an error is returned again, and that Next after EOF is EOF.
func TestReaderSticky(t *testing.T) {
	r, err := NewReader(strings.NewReader(hdr + "oops\n" + `{"seq":0,"cpu":0,"op":0,"kind":"op_end","result":"0"}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err1 := r.Next()
	_, err2 := r.Next()
	if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
		t.Errorf("errors %v, then %v", err1, err2)
	}
	r, _ = NewReader(strings.NewReader(hdr))
	for i := 0; i < 2; i++ {
		if _, err := r.Next(); err != io.EOF {
			t.Errorf("Next = %v, want EOF", err)
		}
	}
	if r.Header().CPUs != 1 {
		t.Errorf("Header = %+v", r.Header())
	}
}

// TestSurrogates checks \u escapes outside the basic plane and lone surrogates.
func TestSurrogates(t *testing.T) {
	for in, want := range map[string]string{
		`"\ud83d\ude00"`: "😀",
		`"\ud83d"`:       "\ufffd",
		`"\ude00x"`:      "\ufffdx",
		`"\ud83d\u0041"`: "\ufffdA",
		`"\u00e9\/"`:     "é/",
	} {
		var p lineParser
		p.s = []byte(in)
		if got := p.str(); got != want {
			t.Errorf("%s reads as %q, want %q", in, got, want)
		}
		var std string
		if err := json.Unmarshal([]byte(in), &std); err != nil || std != want {
			t.Errorf("%s: encoding/json reads %q (%v), want %q", in, std, err, want)
		}
	}
}

// TestEscapedNames checks field names and values written with escapes, and that a name the
// vocabulary does not have is an error naming the line.
func TestEscapedNames(t *testing.T) {
	in := hdr + `{"s\u0065q":0,"cpu":0,"op":0,"\u006bind":"\u006fp_end","x":"\u0041","result":"\u002dENOENT"}` + "\n"
	_, evs, err := ReadAll(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := (MustEvent(Fields{Kind: KindOpEnd, Result: "-ENOENT"})); evs[0] != want {
		t.Errorf("got %+v, want %+v", evs[0], want)
	}
	in = hdr + `{"seq":0,"cpu":0,"op":0,"kind":"op_end","result":"\u00e9"}` + "\n"
	if _, _, err := ReadAll(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), `line 2: unknown result "é"`) {
		t.Errorf("an unknown result: %v", err)
	}
}

// TestEventSize: an event in memory is 48 bytes (names are symbols).
func TestEventSize(t *testing.T) {
	if n := unsafe.Sizeof(Event{}); n > 48 {
		t.Errorf("an Event is %d bytes, want at most 48", n)
	}
}
