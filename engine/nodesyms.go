// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"errors"
	"syscall"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

// The symbols of the chart's node ids the engine marks its steps with, made once: events carry
// symbols, not strings (trace.Sym).
var (
	nBegin              = trace.Intern(chart.Begin)
	nCommonLRUCheck     = trace.Intern(chart.CommonLRUCheck)
	nCommonLRUCheck2    = trace.Intern(chart.CommonLRUCheck2)
	nDeleteBegin        = trace.Intern(chart.DeleteBegin)
	nDeleteENOENT       = trace.Intern(chart.DeleteENOENT)
	nDeleteLockFailed   = trace.Intern(chart.DeleteLockFailed)
	nDeleteReturn       = trace.Intern(chart.DeleteReturn)
	nDeleteUnlink       = trace.Intern(chart.DeleteUnlink)
	nFreelistCheck2     = trace.Intern(chart.FreelistCheck2)
	nFreelistCheck4     = trace.Intern(chart.FreelistCheck4)
	nIteratedAll        = trace.Intern(chart.IteratedAll)
	nLocalFreelistCheck = trace.Intern(chart.LocalFreelistCheck)
	nLookupBegin        = trace.Intern(chart.LookupBegin)
	nLookupENOENT       = trace.Intern(chart.LookupENOENT)
	nLookupFound        = trace.Intern(chart.LookupFound)
	nLookupSetRef       = trace.Intern(chart.LookupSetRef)
	nMoveToFree         = trace.Intern(chart.MoveToFree)
	nPercpuRotate       = trace.Intern(chart.PercpuRotate)
	nPercpuSkipPop      = trace.Intern(chart.PercpuSkipPop)
	nPopFreeToLocal     = trace.Intern(chart.PopFreeToLocal)
	nPopFreeToLocal2    = trace.Intern(chart.PopFreeToLocal2)
	nPushFreeGlobal     = trace.Intern(chart.PushFreeGlobal)
	nPushFreePending    = trace.Intern(chart.PushFreePending)
	nPushFreePercpu     = trace.Intern(chart.PushFreePercpu)
	nShrink             = trace.Intern(chart.Shrink)
	nShrink2            = trace.Intern(chart.Shrink2)
	nShrink3            = trace.Intern(chart.Shrink3)
	nShrinkInactive     = trace.Intern(chart.ShrinkInactive)
	nStealFree          = trace.Intern(chart.StealFree)
	nStealPending       = trace.Intern(chart.StealPending)
	nStealTryRemove     = trace.Intern(chart.StealTryRemove)
	nStole              = trace.Intern(chart.Stole)
	nUpdateEINVAL       = trace.Intern(chart.UpdateEINVAL)
	nUpdateHashmap      = trace.Intern(chart.UpdateHashmap)
	nUseLocalNode       = trace.Intern(chart.UseLocalNode)
	nUseStolen          = trace.Intern(chart.UseStolen)
)

// opSyms are the operations' names as events carry them.
var opSyms = [...]trace.Sym{
	OpUpdate: trace.Intern("update"), OpLookup: trace.Intern("lookup"),
	OpSysLookup: trace.Intern("sys_lookup"), OpDelete: trace.Intern("delete"),
}

var (
	nReturn0      = trace.Intern(chart.Return0)
	nReturnEEXIST = trace.Intern(chart.ReturnEEXIST)
	nReturnENOENT = trace.Intern(chart.ReturnENOENT)
	nReturnENOMEM = trace.Intern(chart.ReturnENOMEM)
	nReturnEBUSY  = trace.Intern(chart.ReturnEBUSY)
)

var (
	flagSyms  = [...]trace.Sym{UpdateAny: trace.Intern("any"), UpdateNoExist: trace.Intern("noexist"), UpdateExist: trace.Intern("exist")}
	errnoSyms = map[syscall.Errno]trace.Sym{}
	symOK     = trace.Intern("0")
)

func init() {
	for e, n := range errnoNames {
		errnoSyms[e] = trace.Intern(n)
	}
}

// flagsSym is an update's flags as an event carries them: a name, or SymRawFlags.
func flagsSym(f UpdateFlags) trace.Sym {
	if f < UpdateFlags(len(flagSyms)) {
		return flagSyms[f]
	}
	return trace.SymRawFlags
}

// errSym is an operation's error as an event's result: "0", an errno's name, "DEADLOCK".
func errSym(err error) trace.Sym {
	switch {
	case err == nil:
		return symOK
	case err == ErrDeadlock:
		return trace.SymDeadlock
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		if s, ok := errnoSyms[e]; ok {
			return s
		}
	}
	return trace.Intern(ErrName(err)) // an errno outside the table: registered once
}
