// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/trace"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/export")

// pngDir is where the export tests leave PNG renderings to look at, when rsvg-convert is found:
// $LRUVIZ_TEST_OUTPUT/export if set (as the web tests keep their screenshots), else a directory
// of the test's own that is removed after it.
func pngDir(t *testing.T) string {
	if dir := os.Getenv("LRUVIZ_TEST_OUTPUT"); dir != "" {
		return filepath.Join(dir, "export")
	}
	return t.TempDir()
}

// scenarioTrace runs the bundled scenario name and returns its header and events.
func scenarioTrace(t testing.TB, name string) (trace.Header, []trace.Event) {
	t.Helper()
	src, ok := scenarios.Source(name)
	if !ok {
		t.Fatalf("no bundled scenario %q", name)
	}
	f, err := scenario.Parse(name+".lru", src)
	if err != nil {
		t.Fatal(err)
	}
	rec := &trace.Recorder{}
	m, err := scenario.NewMap(f, rec)
	if err != nil {
		t.Fatal(err)
	}
	scenario.Run(f, m, nil)
	return scenario.Header(f, m), rec.Events
}

// checkXML decodes the whole document and checks that it is one <svg> element that refers to
// nothing outside it.
func checkXML(t *testing.T, name string, svg []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", name, err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if el.Name.Local != "svg" {
					t.Fatalf("%s: root element %s", name, el.Name.Local)
				}
			}
			depth++
			switch el.Name.Local {
			case "script", "image", "foreignObject", "use", "a", "style":
				t.Errorf("%s: element <%s> in an export", name, el.Name.Local)
			}
			for _, a := range el.Attr {
				if a.Name.Local == "href" || strings.Contains(a.Value, "http:") && a.Name.Local != "xmlns" || strings.Contains(a.Value, "url(") {
					t.Errorf("%s: <%s %s=%q> refers outside the document", name, el.Name.Local, a.Name.Local, a.Value)
				}
			}
		case xml.EndElement:
			depth--
		case xml.ProcInst, xml.Directive:
			t.Errorf("%s: unexpected %T", name, tok)
		}
	}
	if roots != 1 || depth != 0 {
		t.Fatalf("%s: %d root elements, depth %d at the end", name, roots, depth)
	}
}

// toPNG converts svg with rsvg-convert into pngDir(t)/name.png, if rsvg-convert is installed.
func toPNG(t *testing.T, name string, svg []byte) {
	t.Helper()
	rsvg, err := exec.LookPath("rsvg-convert")
	if err != nil {
		return
	}
	dir := pngDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	svgPath := filepath.Join(dir, name+".svg")
	if err := os.WriteFile(svgPath, svg, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rsvg, "-w", "1800", "-o", filepath.Join(dir, name+".png"), svgPath)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("rsvg-convert %s: %v\n%s", name, err, out)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "export", name+".svg")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./diagrams -run Export -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (%d bytes, want %d); if the change is meant, rerun with -update", path, len(got), len(want))
	}
}

// stealStep is the position in steal-pending just after CPU 2, stealing from CPU 0's pending
// list, takes the victim's bucket lock.
func stealStep(t *testing.T) int {
	t.Helper()
	_, evs := scenarioTrace(t, "steal-pending")
	for i, ev := range evs {
		if ev.Kind == trace.KindLock && ev.CPU == 2 && ev.Lock() == "htab.bucket[3]" {
			return i + 1
		}
	}
	t.Fatal("steal-pending: CPU 2 never takes htab.bucket[3]")
	return 0
}

func TestExportGolden(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, scenario string
		opt            ExportOptions
	}{
		{"fast-path", "fast-path", ExportOptions{Step: -1}},
		{"steal-pending-steal", "steal-pending", ExportOptions{Step: stealStep(t)}},
		{"contention-step-40", "contention", ExportOptions{Step: 40}},
		{"reentrancy-ebusy", "reentrancy-ebusy", ExportOptions{Step: -1}},
		{"steal-free-animate", "steal-free", ExportOptions{Step: -1, Animate: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, evs := scenarioTrace(t, c.scenario)
			svg, err := Export(r, h, evs, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkXML(t, c.name, svg)
			toPNG(t, c.name, svg)
			golden(t, c.name, svg)
		})
	}
}

// TestExportAllScenarios exports every bundled scenario as the whole run, at its middle
// position and as an animation, and checks each is well-formed and self-contained.
func TestExportAllScenarios(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range scenarios.Names() {
		h, evs := scenarioTrace(t, name)
		for _, opt := range []ExportOptions{{Step: -1}, {Step: len(evs) / 2}, {Step: 0}, {Step: -1, Animate: true}} {
			svg, err := Export(r, h, evs, opt)
			if err != nil {
				t.Fatalf("%s %+v: %v", name, opt, err)
			}
			checkXML(t, name, svg)
			if opt.Animate {
				checkAnimations(t, name, svg)
			}
		}
	}
}

// TestExportKernelChart draws a trace on the kernel's own chart, which lacks our nodes and the
// M4 edge: the step through the gap is drawn as a jump.
func TestExportKernelChart(t *testing.T) {
	r := renderKernelChart(t)
	h, evs := scenarioTrace(t, "steal-free")
	svg, err := Export(r, h, evs, ExportOptions{Step: -1})
	if err != nil {
		t.Fatal(err)
	}
	checkXML(t, "kernel chart", svg)
	if !bytes.Contains(svg, []byte(">gap M4</text>")) {
		t.Error("the M4 gap is not marked on the kernel's chart")
	}
	toPNG(t, "steal-free-kernel-chart", svg)
}

func TestExportStepClamps(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	h, evs := scenarioTrace(t, "fast-path")
	end, err := Export(r, h, evs, ExportOptions{Step: len(evs)})
	if err != nil {
		t.Fatal(err)
	}
	beyond, err := Export(r, h, evs, ExportOptions{Step: len(evs) + 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(end, beyond) {
		t.Error("a step beyond the end does not show the end")
	}
	if !bytes.Contains(end, []byte(fmt.Sprintf("Position %d of %d", len(evs), len(evs)))) {
		t.Error("the last position is not named")
	}
	start, err := Export(r, h, evs, ExportOptions{Step: 0})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(start, []byte("before the first event")) {
		t.Error("position 0 is not described as the start")
	}
}

func TestExportMarks(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	h, evs := scenarioTrace(t, "steal-pending")
	svg, err := Export(r, h, evs, ExportOptions{Step: -1})
	if err != nil {
		t.Fatal(err)
	}
	s := string(svg)
	for _, want := range []string{
		esc(h.Title), "kernel 6.8", "lru_hash entries=4", "3 CPUs",
		"cpu 1 update 5 5 any <tspan", "→ 0</tspan>", // a result
		"CPU 0 takes all 4 nodes", // narration
		"heat: how often", ">gap M4</text>",
		// The step out of "back at the first CPU?" is never taken: faded.
		`<g id="fn_htab_lru_map_update_elem2->fn_htab_lru_map_update_elem_ENOMEM" class="edge chart" opacity="0.3">`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the export lacks %q", want)
		}
	}
	// At the steal: CPU 2 at "delete it from the hash table", holding the victim's local lock
	// (remote) and the bucket lock.
	step := stealStep(t)
	svg, err = Export(r, h, evs, ExportOptions{Step: step})
	if err != nil {
		t.Fatal(err)
	}
	s = string(svg)
	for _, want := range []string{"Position " + strconv.Itoa(step) + " of", "holds cpu0.local, htab.bucket[3]", "cpu0.pending", "CPU 2 steals"} {
		if !strings.Contains(s, want) {
			t.Errorf("step %d lacks %q", step, want)
		}
	}
}

func TestExportErrors(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	h, evs := scenarioTrace(t, "fast-path")
	if _, err := Export(r, h, evs, ExportOptions{Step: 3, Animate: true}); err == nil {
		t.Error("a step and an animation together are accepted")
	}
	bad := h
	bad.CPUs = 0
	if _, err := Export(r, bad, evs, ExportOptions{Step: -1}); err == nil {
		t.Error("a header of 0 CPUs is accepted")
	}
	broken := append([]trace.Event(nil), evs...)
	broken[3].Seq = 99
	if _, err := Export(r, h, broken, ExportOptions{Step: -1}); err == nil {
		t.Error("an inconsistent trace is accepted")
	}
	if _, err := Export(nil, h, evs, ExportOptions{Step: -1}); err == nil {
		t.Error("no diagram is accepted")
	}
	// An operation index far beyond the others (a trace of a scenario read as it ran has no
	// operations in its header to check it against): listed, and no slot kept per index.
	far := append([]trace.Event(nil), evs...)
	for i := range far {
		if far[i].Op == 0 {
			far[i].Op = 1 << 30
		}
	}
	h2 := h
	h2.Ops = nil
	doc, err := Export(r, h2, far, ExportOptions{Step: -1})
	if err != nil || !strings.Contains(string(doc), "#1073741824") {
		t.Errorf("operation %d: %v", 1<<30, err)
	}
}

var (
	reAnimate  = regexp.MustCompile(`<animate(?:Transform)? [^>]*>`)
	reValues   = regexp.MustCompile(` values="([^"]*)"`)
	reKeyTimes = regexp.MustCompile(` keyTimes="([^"]*)"`)
)

// checkAnimations checks every SMIL animation: as many values as key times, which run from 0
// to 1 without going back.
func checkAnimations(t *testing.T, name string, svg []byte) {
	t.Helper()
	n := 0
	for _, a := range reAnimate.FindAllString(string(svg), -1) {
		n++
		vm, km := reValues.FindStringSubmatch(a), reKeyTimes.FindStringSubmatch(a)
		if vm == nil || km == nil {
			t.Fatalf("%s: %s lacks values or keyTimes", name, a)
		}
		vals, keys := strings.Split(vm[1], ";"), strings.Split(km[1], ";")
		if len(vals) != len(keys) {
			t.Fatalf("%s: %d values, %d key times: %s", name, len(vals), len(keys), a)
		}
		last := -1.0
		for i, k := range keys {
			f, err := strconv.ParseFloat(k, 64)
			if err != nil || f < last || f > 1 || i == 0 && f != 0 {
				t.Fatalf("%s: bad key times %q", name, km[1])
			}
			last = f
		}
		if strings.HasPrefix(a, "<animateTransform") && last != 1 {
			t.Fatalf("%s: a movement that does not end at 1: %q", name, km[1])
		}
	}
	if n == 0 {
		t.Errorf("%s: no animation", name)
	}
}
