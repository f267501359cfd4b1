package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/seed-fc4a2f4b/goipc/bench"
)

const compareExamples = `  goipc bench --compare                                   # every workload and implementation, unpinned, 1s a row
  goipc bench --compare --workloads stream,inflight --impls goipc,std,c --duration 2s
  goipc bench --compare --placements unpinned,same-core,cross-core --json > compare.json
  goipc bench --compare --md                              # the table as Markdown (docs/BENCHMARKS.md)

Runs the same workloads, in one run, through goipc (each codec, both ends in
this process), goipc/procs (inflight and latency: the length codec with the
server in a child process, this repository's 'goipc serve --echo' built with
go build into the user cache directory, the client in this process),
goipc/busy and goipc/procs-busy (goipc/length and goipc/procs with both ends
busy-polling 50µs: goipc.WithBusyPoll), plain Go
net + bufio (std), the C reference (c/bench/bench.c, built with gcc into the
user cache directory) and node-ipc 14 (when interop/setup.sh installed it
under .cache/interop). --impls goipc selects every goipc lane, goipc/procs
included. Workloads: stream (16 B, 64 B, 1 KiB, 64 KiB one way),
inflight (64 round trips of 64 B in flight), latency (one in flight:
p50/p99/p999), udp (64 B datagrams), broadcast (64 B to 1, 10, 100 clients),
idle (10,000 connections: memory per connection, msgs/s with 1% active).

Placements: unpinned; same-core (goipc and std: the whole process on CPU 0
with GOMAXPROCS 1; C and node: both processes under taskset -c 0;
goipc/procs: the server under taskset -c 0, this process, the client, on
CPU 0 with GOMAXPROCS 1); cross-core (C, node and goipc/procs only: server
on CPU 0, client on CPU 1, placed the same ways). ×C and ×std
compare with the C reference and std in the same workload and placement
(throughput; for latency rows the p50, lower is better). allocs/msg counts
the whole process's heap allocations per message (Go implementations;
goipc/procs: the client's only).
Run it from the goipc repository so the C and node lanes find their sources.
`

// runCompare is `goipc bench --compare`.
func runCompare(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("bench --compare", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	workloads := fs.String("workloads", "", "comma-separated `list` of stream, inflight, latency, udp, broadcast, idle (default all)")
	impls := fs.String("impls", "", "comma-separated `list` of goipc (every goipc lane), goipc/event, goipc/length, goipc/procs (server in a child process), goipc/json, goipc/raw, goipc/udp-batch, std, c, node-ipc14 (default all)")
	transports := fs.String("transports", "unix,tcp", "stream transports for stream, inflight and latency")
	sizes := fs.String("sizes", "16,64,1K,64K", "stream frame sizes (K/M suffixes)")
	placements := fs.String("placements", "unpinned", "comma-separated `list` of unpinned, same-core, cross-core")
	duration := fs.Duration("duration", time.Second, "measuring time per row")
	idleConns := fs.Int("idle-conns", 10000, "connections of the idle workload")
	jsonOut := fs.Bool("json", false, "print a JSON report instead of the table")
	md := fs.Bool("md", false, "print the table as Markdown")
	repo := fs.String("repo", "", "goipc repository root (default: found from the working directory)")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(e.stdout, "Usage:\n  goipc bench --compare [--workloads ...] [--impls ...] [--duration D] [--placements ...] [--json]\n\nFlags:\n")
			printFlags(e.stdout, fs, func(string) bool { return true })
			fmt.Fprintf(e.stdout, "\nExamples:\n%s", compareExamples)
			return errHelp
		}
		return usagef("bench --compare: %v (see 'goipc bench --compare -h')", err)
	}
	if fs.NArg() > 0 {
		return usagef("bench --compare: unexpected arguments %q", fs.Args())
	}
	if *duration <= 0 {
		return usagef("bench --compare: --duration must be positive")
	}
	var kinds []bench.Kind
	for _, s := range splitList(*workloads) {
		k, err := bench.ParseKind(s)
		if err != nil {
			return usagef("bench --compare: --workloads: %v", strings.TrimPrefix(err.Error(), "bench: "))
		}
		kinds = append(kinds, k)
	}
	var trs []string
	for _, t := range splitList(*transports) {
		if t != "unix" && t != "tcp" {
			return usagef("bench --compare: --transports: %q (want unix, tcp)", t)
		}
		trs = append(trs, t)
	}
	ss, err := intList("sizes", *sizes, true)
	if err != nil {
		return err
	}
	var pls []bench.Placement
	for _, s := range splitList(*placements) {
		p, err := bench.ParsePlacement(s)
		if err != nil {
			return usagef("bench --compare: --placements: %v", strings.TrimPrefix(err.Error(), "bench: "))
		}
		pls = append(pls, p)
	}
	cfg := bench.Config{
		Workloads:  bench.Workloads(kinds, trs, ss, *idleConns),
		Placements: pls,
		Duration:   *duration,
		Repo:       *repo,
	}
	if *impls != "" {
		if cfg.Impls, err = bench.ImplsNamed(splitList(*impls)); err != nil {
			return usagef("bench --compare: --impls: %v", strings.TrimPrefix(err.Error(), "bench: "))
		}
	}
	if !*quiet {
		cfg.Progress = e.stderr
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *jsonOut {
		return bench.WriteJSON(e.stdout, rep)
	}
	bench.WriteTable(e.stdout, rep, *md)
	for _, r := range rep.Results {
		if r.Error != "" {
			return errors.New("bench --compare: some rows failed")
		}
	}
	return nil
}
