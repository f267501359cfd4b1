//go:build linux

package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// nodeImpl is node-ipc 14 on Node 22 (interop/setup.sh installs both under
// .cache/interop): a node-ipc server and a node-ipc client, two processes,
// JSON events with a string payload.
type nodeImpl struct {
	noWorkloads       // UDP, Broadcast, Idle
	node, lib, script string
}

func (n *nodeImpl) Name() string    { return ImplNode }
func (n *nodeImpl) InProcess() bool { return false }

func (n *nodeImpl) Available(ctx context.Context, env *Env) error {
	if env.Repo == "" {
		return errors.New("not installed: run from the goipc repository (interop/setup.sh)")
	}
	cache := os.Getenv("INTEROP_CACHE")
	if cache == "" {
		cache = filepath.Join(env.Repo, ".cache", "interop")
	}
	f, err := os.Open(filepath.Join(cache, "env"))
	if err != nil {
		return errors.New("not installed (run interop/setup.sh for Node 22 + node-ipc 14)")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "NODE22":
			n.node = v
		case "IPC14":
			n.lib = v
		}
	}
	if n.node == "" || n.lib == "" {
		return errors.New("not installed: .cache/interop/env has no NODE22/IPC14")
	}
	for _, p := range []string{n.node, filepath.Join(n.lib, "node-ipc", "package.json")} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("not installed: %v", err)
		}
	}
	n.script = filepath.Join(env.Repo, "interop", "node", "bench-node.mjs")
	if _, err := os.Stat(n.script); err != nil {
		return fmt.Errorf("not available: %v", err)
	}
	return nil
}

// pair starts a node-ipc server (mode) and returns the config a client
// needs.
func (n *nodeImpl) server(ctx context.Context, env *Env, transport, mode string) (*child, map[string]any, error) {
	cfg := map[string]any{"lib": n.lib, "net": transport, "mode": mode}
	if transport == "unix" {
		d, err := os.MkdirTemp(env.Dir, "n")
		if err != nil {
			return nil, nil, err
		}
		cfg["socketRoot"] = d + "/"
		cfg["id"] = "b"
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		cfg["port"] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	cfg["role"] = "server"
	b, _ := json.Marshal(cfg)
	srv, err := startChild(env.ServerCPU, n.node, n.script, string(b))
	if err != nil {
		return nil, nil, err
	}
	if _, err := srv.line(ctx, `{"ev":"ready"`, 20*time.Second); err != nil {
		srv.kill()
		return nil, nil, err
	}
	cfg["role"] = "client"
	delete(cfg, "mode")
	return srv, cfg, nil
}

type nodeResult struct {
	N    int64   `json:"n"`
	Secs float64 `json:"secs"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
}

func parseNode(l string) (nodeResult, error) {
	var r nodeResult
	err := json.Unmarshal([]byte(l), &r)
	return r, err
}

func (n *nodeImpl) Stream(ctx context.Context, env *Env, w Workload) (Measure, error) {
	if w.Size < 2 {
		return Measure{}, ErrNotApplicable
	}
	srv, cfg, err := n.server(ctx, env, w.Transport, "count")
	if err != nil {
		return Measure{}, err
	}
	defer srv.kill()
	cfg["mode"], cfg["size"], cfg["seconds"] = "stream", w.Size-2, env.Duration.Seconds()
	b, _ := json.Marshal(cfg)
	cl, err := startChild(env.ClientCPU, n.node, n.script, string(b))
	if err != nil {
		return Measure{}, err
	}
	defer cl.kill()
	l, err := srv.line(ctx, `{"ev":"result"`, env.Duration+60*time.Second)
	if err != nil {
		return Measure{}, err
	}
	r, err := parseNode(l)
	if err != nil {
		return Measure{}, err
	}
	return Measure{Msgs: r.N, Elapsed: time.Duration(r.Secs * 1e9), Allocs: -1,
		Note: "JSON events; first to last event at the server"}, nil
}

func (n *nodeImpl) RoundTrips(ctx context.Context, env *Env, w Workload) (Measure, error) {
	srv, cfg, err := n.server(ctx, env, w.Transport, "echo")
	if err != nil {
		return Measure{}, err
	}
	defer srv.kill()
	cfg["mode"], cfg["size"], cfg["window"], cfg["seconds"] = "rtt", max(w.Size-2, 1), w.Window, env.Duration.Seconds()
	b, _ := json.Marshal(cfg)
	cl, err := startChild(env.ClientCPU, n.node, n.script, string(b))
	if err != nil {
		return Measure{}, err
	}
	defer cl.kill()
	l, err := cl.line(ctx, `{"ev":"result"`, env.Duration+60*time.Second)
	if err != nil {
		return Measure{}, err
	}
	r, err := parseNode(l)
	if err != nil {
		return Measure{}, err
	}
	return Measure{Msgs: r.N, Elapsed: time.Duration(r.Secs * 1e9), P50: r.P50, P99: r.P99, P999: r.P999, Allocs: -1,
		Note: "JSON events"}, nil
}
