// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

// decodeAll reads a scenario with a Decoder into a File, as Parse would return it, or the
// Decoder's first error.
func decodeAll(name string, r io.Reader) (*File, error) {
	d := NewDecoder(name, r)
	f, err := d.Header()
	if err != nil {
		return nil, err
	}
	for {
		st, err := d.Next()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return nil, err
		}
		f.Body = append(f.Body, st)
	}
}

// sameAsParse checks that a Decoder reads src as Parse does: the same statements, or the same
// error at the same place.
func sameAsParse(t *testing.T, src []byte, r io.Reader) {
	t.Helper()
	pf, perr := Parse("t.lru", src)
	df, derr := decodeAll("t.lru", r)
	switch {
	case perr != nil && derr != nil:
		if perr.Error() != derr.Error() {
			t.Fatalf("Parse: %v\nDecoder: %v", perr, derr)
		}
		var e *Error
		if !errors.As(derr, &e) {
			t.Fatalf("Decoder's error %v is a %T, not an *Error", derr, derr)
		}
	case perr != nil || derr != nil:
		t.Fatalf("Parse: %v\nDecoder: %v\nsource %q", perr, derr, src)
	default:
		if p, d := dump(pf), dump(df); p != d {
			t.Fatalf("Parse:\n%s\nDecoder:\n%s", p, d)
		}
		if len(df.Ops) != 0 {
			t.Fatalf("the Decoder kept %d operations", len(df.Ops))
		}
	}
}

// TestDecoderMatchesParse: every bundled scenario and every fuzz seed reads the same through a
// Decoder, also when the reader hands over a byte at a time.
func TestDecoderMatchesParse(t *testing.T) {
	var srcs []string
	for _, n := range scenarios.Names() {
		b, _ := scenarios.Source(n)
		srcs = append(srcs, string(b))
	}
	srcs = append(srcs, fuzzSeeds...)
	srcs = append(srcs, "\ufeff"+hdr+"cpu 0 lookup 1\r\n", hdr+"cpu 0 lookup 1", hdr+"say x\n", hdr+"cpu 0 lookup 1\n\n\n")
	for _, src := range srcs {
		sameAsParse(t, []byte(src), strings.NewReader(src))
		sameAsParse(t, []byte(src), iotest.OneByteReader(strings.NewReader(src)))
	}
}

// TestDecoderNoLimits: the Decoder has neither Parse's size limit nor its operation limit, and
// refuses a line longer than MaxLine where it starts.
func TestDecoderNoLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString(hdr)
	for b.Len() <= MaxSize {
		b.WriteString("cpu 0 update 1 1 # a comment to make the line longer\n")
	}
	if _, err := Parse("t.lru", []byte(b.String())); err == nil {
		t.Fatal("Parse took more than MaxSize")
	}
	f, err := decodeAll("t.lru", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n") - 1; len(f.Body) != n {
		t.Fatalf("%d statements, want %d", len(f.Body), n)
	}
	if last := f.Body[len(f.Body)-1].(*Op); last.Index != len(f.Body)-1 {
		t.Fatalf("the last operation has index %d", last.Index)
	}
	long := hdr + "cpu 0 lookup 1\n" + strings.Repeat("#", MaxLine+1) + "\n"
	_, err = decodeAll("t.lru", strings.NewReader(long))
	if want := "t.lru:3:1: line longer than 64 KiB"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestDecoderReadError: a reader that fails is an error naming the line it was reading.
func TestDecoderReadError(t *testing.T) {
	r := io.MultiReader(strings.NewReader(hdr+"cpu 0 lookup 1\n"), iotest.ErrReader(errors.New("disk on fire")))
	_, err := decodeAll("t.lru", r)
	if want := "t.lru:3:1: reading: disk on fire"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// FuzzDecoder checks that the Decoder reads anything Parse can read (text up to MaxSize) as
// Parse does.
func FuzzDecoder(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > MaxSize {
			return
		}
		sameAsParse(t, src, strings.NewReader(string(src)))
	})
}

// TestRunDecoderMatchesRun: every bundled scenario run as it is read gives the same results,
// the same failure and the same trace as run whole.
func TestRunDecoderMatchesRun(t *testing.T) {
	type outcome struct {
		results []string
		fail    string
		events  []trace.Event
	}
	runOne := func(t *testing.T, name string, src []byte, stream bool) outcome {
		var o outcome
		done := func(op *Op, r string) { o.results = append(o.results, op.String()+" -> "+r) }
		rec := &trace.Recorder{}
		var fail *Failure
		if stream {
			d := NewDecoder(name, strings.NewReader(string(src)))
			f, err := d.Header()
			if err != nil {
				t.Fatal(err)
			}
			m, err := NewMap(f, rec)
			if err != nil {
				t.Fatal(err)
			}
			if fail, err = RunDecoder(d, m, done); err != nil {
				t.Fatal(err)
			}
		} else {
			f, err := Parse(name, src)
			if err != nil {
				t.Fatal(err)
			}
			m, err := NewMap(f, rec)
			if err != nil {
				t.Fatal(err)
			}
			fail = Run(f, m, done)
		}
		if fail != nil {
			o.fail = fail.Error()
		}
		o.events = rec.Events
		return o
	}
	srcs := map[string][]byte{
		// A failure in the middle: the rest does not run.
		"failing.lru": []byte(hdr + "cpu 0 update 1 1\nexpect keys 2\ncpu 0 update 2 2\n"),
	}
	for _, n := range scenarios.Names() {
		srcs[n], _ = scenarios.Source(n)
	}
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			whole, streamed := runOne(t, name, src, false), runOne(t, name, src, true)
			if !slices.Equal(whole.results, streamed.results) || whole.fail != streamed.fail {
				t.Fatalf("run whole: %v %q\nas read: %v %q", whole.results, whole.fail, streamed.results, streamed.fail)
			}
			if !slices.Equal(whole.events, streamed.events) {
				t.Fatalf("%d events run whole, %d as read, or they differ", len(whole.events), len(streamed.events))
			}
		})
	}
}

// TestRunDecoderParseError: a statement that does not parse stops the run there, after the
// statements before it ran.
func TestRunDecoderParseError(t *testing.T) {
	d := NewDecoder("t.lru", strings.NewReader(hdr+"cpu 0 update 1 1\ncpu 0 update 2 2\ncpu 0 frob\ncpu 0 update 3 3\n"))
	f, _ := d.Header()
	m, err := NewMap(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ran []string
	fail, err := RunDecoder(d, m, func(op *Op, r string) { ran = append(ran, op.String()) })
	if fail != nil || err == nil || !strings.HasPrefix(err.Error(), "t.lru:4:") {
		t.Fatalf("failure %v, error %v", fail, err)
	}
	// Both updates before the bad line ran; the one after it did not.
	if len(ran) != 2 {
		t.Fatalf("ran %v", ran)
	}
}
