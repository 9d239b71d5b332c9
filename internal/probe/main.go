package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/lruviz/lruviz/web"
)

func main() {
	t, err := web.Bundled(os.Args[1])
	if err != nil {
		panic(err)
	}
	from, _ := strconv.Atoi(os.Args[2])
	to, _ := strconv.Atoi(os.Args[3])
	tl := t.Timeline
	for i := from; i < to && i < tl.Len(); i++ {
		fmt.Printf("%d: %s\n", i+1, tl.Describe(i))
	}
}
