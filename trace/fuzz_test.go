// SPDX-License-Identifier: GPL-2.0-only

package trace_test

import (
	"bytes"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

var lineError = regexp.MustCompile(`^line [1-9][0-9]*: `)

// FuzzReader reads arbitrary input as a trace. It must never panic; an error must name a line;
// and whatever reads without error must write and read back to the same header and events.
func FuzzReader(f *testing.F) {
	for _, tr := range traces(f) {
		var buf bytes.Buffer
		if err := trace.WriteAll(&buf, tr.h, tr.evs); err != nil {
			f.Fatal(err)
		}
		// Long traces are cut, to keep the corpus quick to mutate.
		lines := strings.SplitAfter(buf.String(), "\n")
		if len(lines) > 200 {
			lines = lines[:200]
		}
		f.Add([]byte(strings.Join(lines, "")))
	}
	const h = `{"kind":"trace","version":1,"cpus":1}` + "\n"
	for _, s := range []string{
		"",
		h,
		h + "\n\n",
		`{"kind":"trace","version":2}`,
		h + `{"seq":0,"cpu":0,"op":0,"kind":"op_begin","name":"update","key":1,"value":2,"flags":"any"}`,
		h + `{"seq":0,"cpu":0,"op":0,"kind":"gap","reason":"\ud83d\ude00 \u00e9 \ud800"}`,
		h + `{"seq":0,"cpu":0,"op":0,"kind":"node","node":"x","idle":false,"other":[{"a":null}]}`,
		h + `{"seq":0,"cpu":0,"op":0,"kind":"move","elem":-1,"key":18446744073709551615,"from":"","to":"a","ref":true}`,
		h + `{"seq":0,"cpu":0,"op":0,"kind":"unlink","elem":1,"key":1}`,
		h + `{"seq":0,"cpu":0,"op":0,"kind":"op_end","result":"0"} x`,
		h + `{"seq":1}`,
		h + "\n" + `{"seq":0}`,
		`{"kind":"trace","version":1,"about":[],"ops":[{"say":[]}]}`,
		`{"kind":"trace","version":1,"cpus":2,"map":{"type":"lru_percpu_hash","entries":4},"elems":4}`,
		`{"kind":"trace","version":1,"cpus":1,"map":{"type":"array"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, evs, err := trace.ReadAll(bytes.NewReader(data))
		if err != nil {
			if !lineError.MatchString(err.Error()) {
				t.Fatalf("error names no line: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := trace.WriteAll(&buf, h, evs); err != nil {
			t.Fatalf("cannot write what was read: %v", err)
		}
		h2, evs2, err := trace.ReadAll(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("cannot read what was written: %v\n%s", err, buf.Bytes())
		}
		if !reflect.DeepEqual(h, h2) {
			t.Fatalf("header changes:\n%+v\n%+v", h, h2)
		}
		if !reflect.DeepEqual(evs, evs2) {
			t.Fatalf("events change:\n%+v\n%+v", evs, evs2)
		}
		// The Perfetto export of whatever reads does not panic, and does not fail on a trace
		// that the Timeline accepts: both derive it with a Deriver.
		perr := trace.WritePerfetto(&bytes.Buffer{}, h, chart.Trace(), evs)
		if _, terr := trace.NewTimeline(h, evs, chart.Trace(), trace.TimelineOptions{}); terr == nil && perr != nil {
			t.Fatalf("perfetto refuses a trace the Timeline accepts: %v", perr)
		}
	})
}
