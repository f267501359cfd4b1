package interop

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
)

// benchSeconds is how long each pair runs (INTEROP_BENCH_SECONDS, default
// 1: CI only checks the lane works; numbers are not asserted).
func benchSeconds() float64 {
	if s, err := strconv.ParseFloat(os.Getenv("INTEROP_BENCH_SECONDS"), 64); err == nil && s > 0 {
		return s
	}
	return 1
}

const (
	benchInflight = 64
	benchSize     = 64
)

var benchPayload = []byte(`"` + strings.Repeat("x", benchSize) + `"`)

// goBenchClient keeps benchInflight 64-byte "ping" events in flight against
// an echo server and returns round trips per second.
func goBenchClient(t *testing.T, addr string, secs float64, opts ...goipc.Option) float64 {
	t.Helper()
	cl, err := goipc.NewClient(addr, append(opts, goipc.WithCodec(goipc.JSONCodec()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var n atomic.Int64
	var running atomic.Bool
	running.Store(true)
	cl.Handle("ping", func(m goipc.Message) {
		n.Add(1)
		if running.Load() {
			cl.Emit("ping", benchPayload)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range benchInflight {
		cl.Emit("ping", benchPayload)
	}
	time.Sleep(time.Duration(secs * float64(time.Second)))
	running.Store(false)
	return float64(n.Load()) / time.Since(start).Seconds()
}

// goEchoServer is a goipc JSON server answering "ping" with "ping".
func goEchoServer(t *testing.T, tr transport) map[string]any {
	_, node := goServer(t, tr, func(s *goipc.Server) {
		s.Handle("ping", func(c *goipc.Conn, m goipc.Message) { c.Emit("ping", m.Data) })
	}, goipc.WithCodec(goipc.JSONCodec()))
	return node
}

// nodeBenchClient runs a node-ipc client against the server node config
// describes and returns its round trips per second.
func nodeBenchClient(t *testing.T, v nodeIPC, node map[string]any, secs float64) float64 {
	t.Helper()
	cfg := merge(map[string]any{}, node)
	cfg["role"] = "client"
	cfg["quiet"] = true
	cfg["bench"] = map[string]any{"seconds": secs, "inflight": benchInflight, "size": benchSize}
	p := startPeer(t, v, cfg)
	return p.wait("bench").Rate
}

// TestBenchLane compares round trips per second (64 B payload, 64 in
// flight, JSON events) over unix and tcp for node-ipc↔node-ipc,
// goipc↔goipc and the mixed pairs, in one run. See docs/BENCHMARKS.md.
func TestBenchLane(t *testing.T) {
	needNode(t)
	secs := benchSeconds()
	v := versions[0] // node-ipc 14 on Node 22
	v9 := versions[1]
	type row struct {
		pair string
		tr   string
		rate float64
	}
	var rows []row
	for _, trName := range []string{"unix", "tcp4"} {
		tr := transportNamed(trName)
		// node ↔ node (14, then 9)
		for _, nv := range []nodeIPC{v, v9} {
			srvCfg, _, _ := nodeServerCfg(t, tr)
			merge(srvCfg, map[string]any{"echo": true, "quiet": true})
			startPeer(t, nv, srvCfg)
			cli := merge(map[string]any{}, srvCfg)
			delete(cli, "echo")
			rows = append(rows, row{"node-ipc " + nv.name + " client → node-ipc " + nv.name + " server", trName, nodeBenchClient(t, nv, cli, secs)})
		}
		// Go ↔ Go
		node := goEchoServer(t, tr)
		addr, opts := goAddrOf(t, tr, node)
		rows = append(rows, row{"goipc client → goipc server", trName, goBenchClient(t, addr, secs, opts...)})
		// Go client → node server
		p, addr, opts := startNodeServer(t, v, tr, map[string]any{"echo": true, "quiet": true}, nil)
		_ = p
		rows = append(rows, row{"goipc client → node-ipc 14 server", trName, goBenchClient(t, addr, secs, opts...)})
		// node client → Go server
		rows = append(rows, row{"node-ipc 14 client → goipc server", trName, nodeBenchClient(t, v, goEchoServer(t, tr), secs)})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| pair (64 B, %d in flight, JSON, %.0fs) | transport | round trips/s |\n|---|---|---|\n", benchInflight, secs)
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %.0f |\n", r.pair, r.tr, r.rate)
	}
	t.Log(b.String())
	if os.Getenv("INTEROP_BENCH_OUT") != "" {
		os.WriteFile(os.Getenv("INTEROP_BENCH_OUT"), []byte(b.String()), 0o644)
	}
}

// goAddrOf turns the node client config of a goServer into the goipc
// address a Go client dials.
func goAddrOf(t *testing.T, tr transport, node map[string]any) (string, []goipc.Option) {
	if tr.net == "unix" {
		c := node["config"].(map[string]any)
		_, ns := nodeNamespace(t)
		ns.Root = c["socketRoot"].(string)
		return "ipc://goserver", []goipc.Option{goipc.WithNamespace(ns)}
	}
	return fmt.Sprintf("tcp://%s:%d", tr.host, node["port"]), nil
}
