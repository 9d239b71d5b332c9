// SPDX-License-Identifier: GPL-2.0-only

package engine

import "math/bits"

// jhashInitval is the kernel's JHASH_INITVAL.
const jhashInitval = 0xdeadbeef

// jhash2Key is the kernel's jhash2() over an 8-byte key, i.e. two 32-bit words in memory
// order (little endian), as htab_map_hash() computes it for key_size 8.
func jhash2Key(key uint64, seed uint32) uint32 {
	a := uint32(jhashInitval) + (2 << 2) + seed
	b, c := a, a
	b += uint32(key >> 32)
	a += uint32(key)
	// __jhash_final
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return c
}

// roundupPowOfTwo is the kernel's roundup_pow_of_two for n >= 1.
func roundupPowOfTwo(n uint32) uint32 {
	if n <= 1 {
		return 1
	}
	return 1 << (32 - bits.LeadingZeros32(n-1))
}
