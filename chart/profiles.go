// SPDX-License-Identifier: GPL-2.0-only

package chart

// Our drawings are of kernel 6.8, the kernel's flowchart's. A scenario may run another
// behaviour profile (engine.ProfileByName): the explorer then retitles the drawings and swaps
// the labels that name what that kernel does otherwise (LOCAL_FREE_TARGET became target_free,
// the bucket lock's -EBUSY became -EDEADLK and -ETIMEDOUT), and links a node's kernel code at
// that kernel's version. The page receives this table in its hello message.

// A Profile is what the explorer changes for a kernel behaviour profile.
type Profile struct {
	// Name is the profile's name, as a scenario's map statement gives it (kernel=6.18).
	Name string `json:"name"`
	// Source is the address of a kernel identifier at this version, the identifier appended:
	// a link to where the code of a node is, never fetched by the page.
	Source string `json:"source"`
	// Labels are the lines of the drawings' labels that read otherwise for this kernel.
	Labels []Relabel `json:"labels"`
}

// A Relabel replaces one line of a label: of the node Node of the drawing Diagram ("": the
// drawing's title), the line From reads To.
type Relabel struct {
	Diagram string `json:"diagram"`
	Node    string `json:"node,omitempty"`
	From    string `json:"from"`
	To      string `json:"to"`
}

// Repository is lruviz's home; MismatchesURL is the catalogue there (docs/mismatches.md).
const (
	Repository    = "https://github.com/lruviz/lruviz"
	MismatchesURL = Repository + "/blob/main/docs/mismatches.md"
	GlossaryURL   = Repository + "/blob/main/docs/glossary.md"
)

// elixir is the address of an identifier in the kernel's source at a version.
func elixir(version string) string {
	return "https://elixir.bootlin.com/linux/v" + version + "/C/ident/"
}

// lockFailed gives the lines of the bucket lock's failure on our drawings (6.8 with the
// later kernels' errors in brackets), as a 6.18 kernel reads them.
func lockFailed(diagram, node string) []Relabel {
	return []Relabel{
		{Diagram: diagram, Node: node, From: "return -EBUSY (6.15+:", To: "return -EDEADLK or"},
		{Diagram: diagram, Node: node, From: "-EDEADLK, -ETIMEDOUT)", To: "-ETIMEDOUT (rqspinlock)"},
	}
}

// Profiles lists the profiles, the drawings' own (6.8) first.
var Profiles = []Profile{
	{Name: "6.8", Source: elixir("6.8"), Labels: []Relabel{}},
	{Name: "6.18", Source: elixir("6.18"), Labels: labels618("kernel 6.18")},
	// The LRU rqspinlock backport has no release of its own: its links go to 6.18's code.
	{Name: "6.18-lru-rqspinlock", Source: elixir("6.18"), Labels: labels618("kernel 6.18, LRU rqspinlock")},
}

// labels618 are the lines that read otherwise from v6.16 on, the update drawing titled for
// kernel.
func labels618(kernel string) []Relabel {
	return append(append([]Relabel{
		{Diagram: DiagramUpdate, From: "BPF LRU hash map: update (kernel 6.8)", To: "BPF LRU hash map: update (" + kernel + ")"},
		{Diagram: DiagramUpdate, Node: PopFreeToLocal, From: "LOCAL_FREE_TARGET", To: "target_free"},
		{Diagram: DiagramUpdate, Node: PopFreeToLocal, From: "(6.16+: target_free)", To: "(since 6.16)"},
	}, lockFailed(DiagramUpdate, ReturnEBUSY)...), lockFailed(DiagramDelete, DeleteLockFailed)...)
}

// ProfileByName returns the explorer's table for a profile, and whether there is one.
func ProfileByName(name string) (Profile, bool) {
	for _, p := range Profiles {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}
