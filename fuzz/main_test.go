package fuzz

import (
	"flag"
	"os"
	"testing"
)

// TestMain shortens the fuzzer's minimization of new inputs to
// fuzzMinimizeTime unless -test.fuzzminimizetime is given. Each input of
// the live-server targets costs a connection and a canary round trip, so
// the default 60 s of minimization per interesting input would stall a
// 10 s CI run (.ci/run) after its first new input, at a few hundred execs.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.fuzzminimizetime" })
	if !set {
		if err := flag.Set("test.fuzzminimizetime", fuzzMinimizeTime); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

const fuzzMinimizeTime = "500ms"
