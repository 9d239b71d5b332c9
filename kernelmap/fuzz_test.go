// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import (
	"encoding/binary"
	"testing"
)

// FuzzDecode: kernel memory read while the map changes, or read wrong, is hostile input to
// Decode: with bytes of a recorded image overwritten anywhere, Decode returns a snapshot or an
// error, and never panics or walks a broken list forever.
func FuzzDecode(f *testing.F) {
	files := append(append([]recording(nil), recordings...), synthetic68, synthetic618)
	images := make([]Image, len(files))
	for i, r := range files {
		images[i] = readRecording(f, r.file).Image
	}
	for i := range images {
		f.Add(uint8(i), uint16(0), uint32(0), []byte{})
		f.Add(uint8(i), uint16(0), uint32(16), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		// A list pointer to itself, and one to the region's start: rings that never close.
		var self [8]byte
		binary.LittleEndian.PutUint64(self[:], uint64(images[i].Regions[0].Addr))
		f.Add(uint8(i), uint16(0), uint32(0), self[:])
		if len(images[i].Regions) > 1 {
			f.Add(uint8(i), uint16(1), uint32(8), self[:])
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, region uint16, off uint32, patch []byte) {
		src := images[int(which)%len(images)]
		img := src
		img.Regions = make([]Region, len(src.Regions))
		for j, r := range src.Regions {
			img.Regions[j] = Region{Addr: r.Addr, Bytes: append(Bytes(nil), r.Bytes...)}
		}
		r := &img.Regions[int(region)%len(img.Regions)]
		if len(r.Bytes) > 0 {
			copy(r.Bytes[int(off)%len(r.Bytes):], patch)
		}
		s, err := Decode(&img)
		if err == nil && s == nil {
			t.Fatal("no snapshot and no error")
		}
	})
}
