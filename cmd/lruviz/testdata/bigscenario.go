// SPDX-License-Identifier: GPL-2.0-only

//go:build ignore

// Bigscenario writes a scenario whose trace is long, for measuring the memory and time of
// `lruviz trace` and `lruviz export` on it (README, "Speed"). Its output is not committed:
//
//	go run ./cmd/lruviz/testdata/bigscenario.go -blocks 9000 > /tmp/big.lru
//	/usr/bin/time -v lruviz trace /tmp/big.lru --format perfetto -o /tmp/big.json
//
// Each block is an update interrupted just before it links its node, whose handler finds no
// node anywhere and goes round every CPU's lists before it returns -ENOMEM: with 128 CPUs that is
// about 950 events a block, so 9,000 blocks make about 8.56 million events from about 19,700
// operations (a scenario may have at most 100,000). Every 16th block adds a few ordinary
// updates and a lookup on another CPU.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
)

func main() {
	blocks := flag.Int("blocks", 9000, "interrupted updates, about 950 events each")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	const cpus = 128
	fmt.Fprintln(w, "title A long generated run (bigscenario.go)")
	fmt.Fprintf(w, "map lru_hash entries=1 cpus=%d\n", cpus)
	key := uint64(1)
	for b := range *blocks {
		cpu := b % cpus
		fmt.Fprintln(w, "interrupt at=fn_htab_lru_map_update_elem4 {")
		fmt.Fprintf(w, "cpu %d update %d %d\n", cpu, key, b)
		fmt.Fprintf(w, "cpu %d update %d %d\n", cpu, key+1, b)
		fmt.Fprintln(w, "}")
		key += 2
		if b%16 == 15 {
			other := (cpu + 1) % cpus
			fmt.Fprintf(w, "cpu %d update %d %d\n", other, key, b)
			fmt.Fprintf(w, "cpu %d lookup %d\n", other, key)
			fmt.Fprintf(w, "cpu %d update %d %d\n", other, key, b+1)
			key++
		}
	}
}
