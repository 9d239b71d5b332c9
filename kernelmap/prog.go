// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// Programs receive their arguments in the packet data of a SCHED_CLS test run
// rather than through an argument map, so that a program-side operation costs
// exactly one syscall and touches no map besides the LRU map under test.
//
// Packet layout (pktLen bytes, little-endian host order):
//
//	[0, 14)   Ethernet header, kept zero so that eth_type_trans in the
//	          test-run code sees protocol 0 and does no L3 parsing
//	[16, 24)  key
//	[24, 32)  value (input of update, output of lookup)
//	[32, 40)  update flags
//	[40, 48)  helper return value of update (s64, 0 or -errno)
const (
	pktLen       = 64
	offKey       = 16
	offValue     = 24
	offFlags     = 32
	offResult    = 40
	pktNeedBytes = 48
)

// Offsets of data and data_end in struct __sk_buff (UAPI, stable).
const (
	skbData    = 76
	skbDataEnd = 80
)

// Return codes of the programs. 42 follows the kernel selftest's
// bpf_map_lookup_elem_with_ref_bit; any other value means the program did not
// reach the helper's success path.
const (
	retFound = 42 // lookup: key found, value copied; update: helper was called
	retMiss  = 1  // lookup: key not found
	retShort = 2  // packet shorter than pktNeedBytes (harness bug)
)

// prologue loads the packet pointer into R7 and bounds-checks it so that the
// verifier allows access to the first pktNeedBytes bytes.
func prologue() asm.Instructions {
	return asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, skbData, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, skbDataEnd, asm.Word),
		asm.Mov.Reg(asm.R7, asm.R2),
		asm.Add.Imm(asm.R2, pktNeedBytes),
		asm.JGT.Reg(asm.R2, asm.R3, "short"),
		// Helpers take the key from the stack, as a C program would.
		asm.LoadMem(asm.R1, asm.R7, offKey, asm.DWord),
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
	}
}

// epilogue is the shared exit for a too-short packet.
func epilogue() asm.Instructions {
	return asm.Instructions{
		asm.Mov.Imm(asm.R0, retShort).WithSymbol("short"),
		asm.Return(),
	}
}

// lookupProgram calls bpf_map_lookup_elem on the map and copies the (current
// CPU's) value into the packet. Like the selftest, it relies on the helper
// call marking the element referenced; for LRU_HASH the verifier inlines the
// lookup, including the ref-bit update.
func lookupProgram(mapFD int) asm.Instructions {
	insns := prologue()
	insns = append(insns,
		asm.LoadMapPtr(asm.R1, mapFD),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "miss"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.StoreMem(asm.R7, offValue, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, retFound),
		asm.Return(),
		asm.Mov.Imm(asm.R0, retMiss).WithSymbol("miss"),
		asm.Return(),
	)
	return append(insns, epilogue()...)
}

// updateProgram calls bpf_map_update_elem(map, &key, &value, flags) and
// stores the helper's return value in the packet.
func updateProgram(mapFD int) asm.Instructions {
	insns := prologue()
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.R7, offValue, asm.DWord),
		asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord),
		asm.LoadMem(asm.R4, asm.R7, offFlags, asm.DWord),
		asm.LoadMapPtr(asm.R1, mapFD),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -16),
		asm.FnMapUpdateElem.Call(),
		asm.StoreMem(asm.R7, offResult, asm.R0, asm.DWord),
		asm.Mov.Imm(asm.R0, retFound),
		asm.Return(),
	)
	return append(insns, epilogue()...)
}

// loadProgram loads insns as a SCHED_CLS program. SCHED_CLS is what the
// kernel selftest uses, it supports BPF_PROG_TEST_RUN and, unlike socket
// filters, it may read and write packet data directly.
func loadProgram(name string, insns asm.Instructions) (*ebpf.Program, error) {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         name,
		Type:         ebpf.SchedCLS,
		Instructions: insns,
		License:      "GPL",
	})
	if err != nil {
		return nil, fmt.Errorf("load %s program: %w", name, err)
	}
	return prog, nil
}
