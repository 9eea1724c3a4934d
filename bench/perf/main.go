// Command perf measures servebench's own cost: genload against its peers
// (vegeta, hey) on the same zero-delay llmsim, genload holding thousands of
// streams, and summarize over a million records. bench/perf.sh and
// bench/scale.sh build everything and call it; docs/perf.md has the
// figures and how to read them.
//
//	perf peers     [--c 16] [--duration 4s] [--rounds 5] ...   table on stderr, CSV on stdout
//	perf streams   [--streams 5000] ...                        genload's RSS at N concurrent streams
//	perf summarize [--records 1000000] ...                     summarize's wall time and peak RSS
//	perf records   [--records N] [--template FILE] > FILE      records for summarize, from a real run
//	perf floor     [--streams 256,1024,2048] [--floor FILE]    CPU per streamed token: genload beside the C and Go floors
//	perf goreader  HOST:PORT STREAMS WAVES BODY_FILE [loop]    the Go floor readers (run by perf floor)
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: perf peers|streams|summarize|records|floor|goreader [flags]")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"peers": peers, "streams": streams, "summarize": summarizeScale, "records": records,
		"floor": floor, "goreader": goReader,
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "perf: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := cmd(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "perf:", err)
		os.Exit(1)
	}
}
