package interop

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/tlsconn"
	"github.com/seed-fc4a2f4b/goipc/unix"
)

// transport is one way node-ipc and goipc can meet.
type transport struct {
	name string
	net  string // unix, tcp, udp4, udp6 (tls is tcp + tls)
	host string
	tls  string // "", "server" (server certificate only), "mutual"
}

func (tr transport) udp() bool { return tr.net == "udp4" || tr.net == "udp6" }

var transports = []transport{
	{name: "unix", net: "unix"},
	{name: "tcp4", net: "tcp", host: "127.0.0.1"},
	{name: "tcp6", net: "tcp", host: "::1"},
	{name: "tls-server-only", net: "tcp", host: "127.0.0.1", tls: "server"},
	{name: "tls-mutual", net: "tcp", host: "127.0.0.1", tls: "mutual"},
	{name: "udp4", net: "udp4", host: "127.0.0.1"},
	{name: "udp6", net: "udp6", host: "::1"},
}

func transportNamed(name string) transport {
	for _, tr := range transports {
		if tr.name == name {
			return tr
		}
	}
	panic(name)
}

// nodeNamespace is the node-ipc socketRoot/appspace pair and the goipc
// Namespace that resolves ipc://id to the same path.
func nodeNamespace(t testing.TB) (map[string]any, unix.Namespace) {
	dir := shortDir(t) + "/"
	return map[string]any{"socketRoot": dir, "appspace": "app."}, unix.Namespace{Root: dir, AppSpace: "app."}
}

// rawConfig is the node-ipc config for rawBuffer mode. node-ipc 9 decodes
// what it reads with config.encoding before handing a Buffer back, so only
// a one-byte-per-char encoding (latin1) is byte-exact there; its UDP path
// always decodes datagrams as UTF-8 (see docs/NODE-IPC.md).
func rawConfig(v nodeIPC, tr transport) map[string]any {
	c := map[string]any{"rawBuffer": true}
	if v.is9() && !tr.udp() {
		c["encoding"] = "latin1"
	}
	return c
}

func merge(dst map[string]any, src map[string]any) map[string]any {
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// goServer listens on tr with opts, serves until the test ends, and
// returns the node-ipc client config that reaches it.
func goServer(t testing.TB, tr transport, srvSetup func(*goipc.Server), opts ...goipc.Option) (*goipc.Server, map[string]any) {
	t.Helper()
	node := map[string]any{"role": "client", "net": tr.net, "id": "goserver", "config": map[string]any{}}
	var addr string
	switch {
	case tr.net == "unix":
		nc, ns := nodeNamespace(t)
		node["config"] = nc
		opts = append(opts, goipc.WithNamespace(ns))
		addr = "ipc://goserver"
	case tr.udp():
		addr = "udp://" + net.JoinHostPort(tr.host, "0")
		node["host"] = tr.host
		node["port"] = freePort(t, "udp", tr.host)
	case tr.tls != "":
		p := newPKI(t)
		cert, key := p.issue(t, "server")
		cfg := tlsconn.Config{CertFile: cert, KeyFile: key}
		ntls := map[string]any{"trustedConnections": []string{p.caFile}, "rejectUnauthorized": true}
		if tr.tls == "mutual" {
			cfg.CAFile = p.caFile
			ccert, ckey := p.issue(t, "node-client")
			ntls["public"], ntls["private"] = ccert, ckey
		}
		opts = append(opts, goipc.WithTLS(cfg))
		node["config"] = map[string]any{"tls": ntls}
		node["host"] = tr.host
		addr = "tls://" + net.JoinHostPort(tr.host, "0")
	default:
		addr = "tcp://" + net.JoinHostPort(tr.host, "0")
		node["host"] = tr.host
	}
	srv, err := goipc.Listen(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if srvSetup != nil {
		srvSetup(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	if tr.net != "unix" {
		a := srv.Addr()
		_, port, _ := net.SplitHostPort(a[strings.Index(a, "://")+3:])
		n, _ := strconv.Atoi(port)
		if tr.udp() {
			node["target"] = map[string]any{"address": tr.host, "port": n}
		} else {
			node["port"] = n
		}
	}
	return srv, node
}

// nodeServerCfg returns the config of a node-ipc server on tr and the goipc
// address and options of a client that reaches it.
func nodeServerCfg(t testing.TB, tr transport) (node map[string]any, addr string, opts []goipc.Option) {
	t.Helper()
	node = map[string]any{"role": "server", "net": tr.net, "id": "nodeserver", "config": map[string]any{}}
	switch {
	case tr.net == "unix":
		nc, ns := nodeNamespace(t)
		node["config"] = nc
		return node, "ipc://nodeserver", []goipc.Option{goipc.WithNamespace(ns)}
	case tr.udp():
		port := freePort(t, "udp", tr.host)
		node["host"], node["port"] = tr.host, port
		return node, "udp://" + net.JoinHostPort(tr.host, strconv.Itoa(port)), nil
	}
	port := freePort(t, "tcp", tr.host)
	node["host"], node["port"] = tr.host, port
	hp := net.JoinHostPort(tr.host, strconv.Itoa(port))
	if tr.tls == "" {
		return node, "tcp://" + hp, nil
	}
	p := newPKI(t)
	cert, key := p.issue(t, "node-server")
	ntls := map[string]any{"public": cert, "private": key}
	cfg := tlsconn.Config{CAFile: p.caFile}
	if tr.tls == "mutual" {
		ntls["trustedConnections"] = []string{p.caFile}
		ntls["requestCert"] = true
		ntls["rejectUnauthorized"] = true
		cfg.CertFile, cfg.KeyFile = p.issue(t, "go-client")
	}
	node["config"] = map[string]any{"tls": ntls}
	return node, "tls://" + hp, []goipc.Option{goipc.WithTLS(cfg)}
}

// startNodeServer starts a node-ipc server on tr.
func startNodeServer(t testing.TB, v nodeIPC, tr transport, extra map[string]any, config map[string]any) (*peer, string, []goipc.Option) {
	t.Helper()
	node, addr, opts := nodeServerCfg(t, tr)
	merge(node, extra)
	merge(node["config"].(map[string]any), config)
	return startPeer(t, v, node), addr, opts
}

// goMsg is a message a Go endpoint received.
type goMsg struct {
	conn  *goipc.Conn
	event string
	data  []byte
}

// dialGo connects a goipc client to addr, recording every event (HandleAny)
// and raw chunk (OnData) into the returned channel.
func dialGo(t testing.TB, addr string, opts ...goipc.Option) (*goipc.Client, chan goMsg) {
	t.Helper()
	ch := make(chan goMsg, 4096)
	cl, err := goipc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	cl.HandleAny(func(m goipc.Message) {
		m = m.Clone()
		ch <- goMsg{event: m.Event, data: m.Data}
	})
	cl.OnData(func(b []byte) { ch <- goMsg{data: append([]byte(nil), b...)} })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl, ch
}

// recv returns the next message, failing after the wait limit.
func recv(t testing.TB, ch chan goMsg, what string) goMsg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(waitLimit):
		t.Fatalf("Go side: no %s within %v", what, waitLimit)
	}
	return goMsg{}
}

// recvEvent returns the next message for event, skipping others.
func recvEvent(t testing.TB, ch chan goMsg, event string) goMsg {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		select {
		case m := <-ch:
			if m.event == event {
				return m
			}
		case <-deadline:
			t.Fatalf("Go side: no event %q within %v", event, waitLimit)
		}
	}
}

// recvBytes collects n bytes of raw chunks.
func recvBytes(t testing.TB, ch chan goMsg, n int) []byte {
	t.Helper()
	var got []byte
	for len(got) < n {
		got = append(got, recv(t, ch, "raw bytes").data...)
	}
	return got
}
