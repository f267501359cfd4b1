package interop

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/frame"
)

// jsonEcho is a goipc JSON server setup that echoes every event and
// reports disconnections.
func jsonEcho(disc chan error, connects *atomic.Int32) func(*goipc.Server) {
	return func(s *goipc.Server) {
		s.HandleAny(func(c *goipc.Conn, m goipc.Message) { c.Emit(m.Event, m.Data) })
		s.OnConnect(func(*goipc.Conn) {
			if connects != nil {
				connects.Add(1)
			}
		})
		s.OnDisconnect(func(_ *goipc.Conn, err error) {
			if disc != nil {
				disc <- err
			}
		})
	}
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBroadcast: a goipc server broadcasts to several node-ipc clients;
// each gets every event, in order.
func TestBroadcast(t *testing.T) {
	forVersions(t, func(t *testing.T, v nodeIPC) {
		for _, trName := range []string{"unix", "tcp4"} {
			t.Run(trName, func(t *testing.T) {
				tr := transportNamed(trName)
				srv, node := goServer(t, tr, nil, goipc.WithCodec(goipc.JSONCodec()))
				var peers []*peer
				for range 3 {
					p := startPeer(t, v, merge(map[string]any{}, node))
					p.wait("connect")
					peers = append(peers, p)
				}
				waitUntil(t, "3 connections", func() bool { return len(srv.Conns()) == 3 })
				const n = 50
				for i := range n {
					if k, err := srv.Broadcast("tick", []byte(fmt.Sprintf(`{"i":%d,"s":"ü😀"}`, i))); k != 3 || err != nil {
						t.Fatalf("Broadcast reached %d: %v", k, err)
					}
				}
				for pi, p := range peers {
					for i := range n {
						r := p.event("tick")
						if want := fmt.Sprintf(`{"i":%d,"s":"ü😀"}`, i); string(r.Data) != want {
							t.Fatalf("client %d: tick %d = %s, want %s", pi, i, r.Data, want)
						}
					}
				}
			})
		}
	})
}

// TestReconnect: a goipc client (WithRetry) reconnects when the node-ipc
// server restarts, and what it emitted meanwhile (the outbox) reaches the
// new server first.
func TestReconnect(t *testing.T) {
	forVersions(t, func(t *testing.T, v nodeIPC) {
		for _, trName := range []string{"unix", "tcp4"} {
			t.Run(trName, func(t *testing.T) {
				tr := transportNamed(trName)
				node, addr, opts := nodeServerCfg(t, tr)
				node["echo"] = true
				p := startPeer(t, v, merge(map[string]any{}, node))
				cl, ch := dialGo(t, addr, append(opts, goipc.WithCodec(goipc.JSONCodec()), goipc.WithRetry(50*time.Millisecond, goipc.Forever))...)
				var disconnects atomic.Int32
				var lastErr atomic.Value
				var dialErrs atomic.Int32
				cl.OnDisconnect(func(err error) { disconnects.Add(1) })
				cl.OnError(func(err error) { dialErrs.Add(1); lastErr.Store(err.Error()) })
				p.wait("connect")
				cl.Emit("before", []byte(`1`))
				if d := recvEvent(t, ch, "before").data; string(d) != "1" {
					t.Fatalf("echo %s", d)
				}
				p.kill()
				// A dial can still reach the dying listener and be reset (a
				// connection, and a disconnect, more): wait for a refused dial.
				waitUntil(t, "a refused dial", func() bool { return dialErrs.Load() > 0 && !cl.Connected() })
				if err := cl.Emit("queued", []byte(`"while down"`)); err != nil {
					t.Fatalf("Emit while disconnected: %v", err)
				}
				p2 := startPeer(t, v, merge(map[string]any{}, node))
				t.Cleanup(func() {
					t.Logf("connects %d, connected %v, last dial error %v", cl.Connects(), cl.Connected(), lastErr.Load())
				})
				p2.wait("connect")
				waitUntil(t, "reconnected", func() bool { return cl.Connects() >= 2 && cl.Connected() })
				if r := p2.event("queued"); string(r.Data) != `"while down"` {
					t.Errorf("queued event arrived as %s", r.Data)
				}
				cl.Emit("after", []byte(`2`))
				if d := recvEvent(t, ch, "after").data; string(d) != "2" {
					t.Fatalf("echo after reconnect %s", d)
				}
				if d := disconnects.Load(); d != int32(cl.Connects()-1) {
					t.Errorf("OnDisconnect ran %d times for %d connects", d, cl.Connects())
				}
			})
		}
	})
}

var lifecycleNames = frame.ReservedLifecycle

// TestLifecycleNamesFromWire: node-ipc peers emitting "connect", "error",
// … cannot fake goipc's lifecycle: by default the names are ordinary
// events (OnConnect/OnDisconnect/OnError are untouched); with
// frame.ReservedLifecycle the frame is refused and only that connection
// closes.
func TestLifecycleNamesFromWire(t *testing.T) {
	forVersions(t, func(t *testing.T, v nodeIPC) {
		t.Run("goServer/ordinary", func(t *testing.T) {
			got := make(chan goMsg, 64)
			var connects, discs atomic.Int32
			_, node := goServer(t, transportNamed("unix"), func(s *goipc.Server) {
				s.HandleAny(func(c *goipc.Conn, m goipc.Message) { m = m.Clone(); got <- goMsg{c, m.Event, m.Data} })
				s.OnConnect(func(*goipc.Conn) { connects.Add(1) })
				s.OnDisconnect(func(*goipc.Conn, error) { discs.Add(1) })
			}, goipc.WithCodec(goipc.JSONCodec()))
			p := startPeer(t, v, node)
			p.wait("connect")
			for _, name := range lifecycleNames {
				p.do(cmdEmit(name, `{"spoof":true}`))
			}
			for _, name := range lifecycleNames {
				m := recv(t, got, name)
				if m.event != name || string(m.data) != `{"spoof":true}` {
					t.Fatalf("got %q %s, want %q", m.event, m.data, name)
				}
			}
			if connects.Load() != 1 || discs.Load() != 0 {
				t.Errorf("lifecycle spoofed: OnConnect %d times, OnDisconnect %d times", connects.Load(), discs.Load())
			}
		})
		t.Run("goServer/reserved", func(t *testing.T) {
			disc := make(chan error, 4)
			_, node := goServer(t, transportNamed("unix"), jsonEcho(disc, nil),
				goipc.WithCodec(goipc.JSONCodec().WithJSONOptions(frame.JSONOptions{Reserved: frame.ReservedLifecycle})))
			bad := startPeer(t, v, merge(map[string]any{}, node))
			bad.wait("connect")
			good := startPeer(t, v, merge(map[string]any{}, node))
			good.wait("connect")
			bad.do(cmdEmit("connect", `{"spoof":true}`))
			select {
			case err := <-disc:
				if !errors.Is(err, frame.ErrReservedType) {
					t.Errorf("connection closed with %v, want frame.ErrReservedType", err)
				}
			case <-time.After(waitLimit):
				t.Fatal("reserved name did not close the connection")
			}
			bad.wait("disconnect")
			good.do(cmdEmit("still", `"ok"`))
			if r := good.event("still"); string(r.Data) != `"ok"` {
				t.Errorf("other client: %s", r.Data)
			}
		})
		t.Run("goClient", func(t *testing.T) {
			for _, reserved := range []bool{false, true} {
				p, addr, opts := startNodeServer(t, v, transportNamed("unix"), nil, nil)
				codec := goipc.JSONCodec()
				if reserved {
					codec = codec.WithJSONOptions(frame.JSONOptions{Reserved: frame.ReservedLifecycle})
				}
				cl, ch := dialGo(t, addr, append(opts, goipc.WithCodec(codec))...)
				var discs, errs atomic.Int32
				cl.OnDisconnect(func(error) { discs.Add(1) })
				cl.OnError(func(error) { errs.Add(1) })
				p.wait("connect")
				for _, name := range lifecycleNames {
					p.do(cmdEmit(name, `{"spoof":true}`))
				}
				p.do(cmdEmit("end", `0`))
				if reserved {
					// The first reserved frame is a protocol error: the
					// connection closes (and nothing is delivered).
					waitUntil(t, "the client drops the connection", func() bool { return discs.Load() == 1 })
					select {
					case m := <-ch:
						t.Errorf("reserved: delivered %q", m.event)
					default:
					}
					continue
				}
				for _, name := range lifecycleNames {
					if m := recv(t, ch, name); m.event != name {
						t.Fatalf("got %q, want %q", m.event, name)
					}
				}
				recvEvent(t, ch, "end")
				if cl.Connects() != 1 || discs.Load() != 0 || errs.Load() != 0 {
					t.Errorf("lifecycle spoofed: %d connects, %d disconnects, %d errors", cl.Connects(), discs.Load(), errs.Load())
				}
			}
		})
	})
}

// TestNotEnvelope: a frame that is valid JSON but not an event envelope
// closes only the connection that sent it on a goipc server.
func TestNotEnvelope(t *testing.T) {
	forVersions(t, func(t *testing.T, v nodeIPC) {
		disc := make(chan error, 8)
		srv, node := goServer(t, transportNamed("tcp4"), jsonEcho(disc, nil), goipc.WithCodec(goipc.JSONCodec()))
		good := startPeer(t, v, merge(map[string]any{}, node))
		good.wait("connect")
		bad := startPeer(t, v, merge(map[string]any{}, node))
		bad.wait("connect")
		// Written by node-ipc's own socket, bypassing its encoder.
		bad.do(map[string]any{"cmd": "write", "hex": hexEncode([]byte("[1,2]\f"))})
		select {
		case err := <-disc:
			if !errors.Is(err, frame.ErrNotEnvelope) {
				t.Errorf("closed with %v, want frame.ErrNotEnvelope", err)
			}
		case <-time.After(waitLimit):
			t.Fatal("[1,2] did not close the connection")
		}
		bad.wait("disconnect")
		// More shapes, from plain sockets.
		hp := strings.TrimPrefix(srv.Addr(), "tcp://")
		for _, f := range []string{`{"data":1}`, `{"type":5,"data":1}`, `"type"`, `null`, `7`} {
			c, err := net.Dial("tcp", hp)
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte(f + "\f"))
			select {
			case err := <-disc:
				if !errors.Is(err, frame.ErrNotEnvelope) {
					t.Errorf("%s: closed with %v, want frame.ErrNotEnvelope", f, err)
				}
			case <-time.After(waitLimit):
				t.Fatalf("%s did not close the connection", f)
			}
			c.Close()
		}
		good.do(cmdEmit("alive", `true`))
		if r := good.event("alive"); string(r.Data) != "true" {
			t.Errorf("other client: %s", r.Data)
		}
	})
}

// TestNodeIPCOnNotEnvelope documents what node-ipc servers do with the
// same frame: node-ipc 14 crashes the whole process (its event emitter
// throws a TypeError for the undefined type, outside any handler);
// node-ipc 9 publishes an event of type undefined and goes on.
func TestNodeIPCOnNotEnvelope(t *testing.T) {
	forVersions(t, func(t *testing.T, v nodeIPC) {
		p, addr, opts := startNodeServer(t, v, transportNamed("tcp4"), map[string]any{"echo": true}, nil)
		cl, ch := dialGo(t, addr, append(opts, goipc.WithCodec(goipc.JSONCodec()))...)
		p.wait("connect")
		c, err := net.Dial("tcp", strings.TrimPrefix(addr, "tcp://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("[1,2]\f"))
		crashed := p.exitWithin(3 * time.Second)
		t.Logf("node-ipc %s after [1,2]\\f: crashed=%v, stderr: %.300s", v.name, crashed, p.stderrText())
		if v.name == "14" {
			if !crashed || !strings.Contains(p.stderrText(), "TypeError") {
				t.Errorf("expected node-ipc 14 to crash with a TypeError")
			}
			return
		}
		if crashed {
			t.Fatalf("node-ipc 9 crashed")
		}
		cl.Emit("alive", []byte("1"))
		recvEvent(t, ch, "alive")
	})
}

// TestUnterminatedFrame: bytes without the delimiter are bounded by the
// max frame size and by the partial-frame timeout on a goipc server; a
// node-ipc server keeps buffering them.
func TestUnterminatedFrame(t *testing.T) {
	forVersions(t, func(t *testing.T, v nodeIPC) {
		disc := make(chan error, 8)
		const timeout = 300 * time.Millisecond
		_, node := goServer(t, transportNamed("unix"), jsonEcho(disc, nil),
			goipc.WithCodec(goipc.JSONCodec().WithMaxFrame(64<<10)), goipc.WithPartialTimeout(timeout))
		good := startPeer(t, v, merge(map[string]any{}, node))
		good.wait("connect")

		big := startPeer(t, v, merge(map[string]any{}, node))
		big.wait("connect")
		big.do(map[string]any{"cmd": "write", "hex": hexEncode([]byte(`{"type":"x","data":"` + strings.Repeat("a", 100<<10)))})
		select {
		case err := <-disc:
			if !errors.Is(err, frame.ErrFrameTooLarge) {
				t.Errorf("closed with %v, want frame.ErrFrameTooLarge", err)
			}
		case <-time.After(waitLimit):
			t.Fatal("100 KiB without a delimiter did not close the connection")
		}
		big.wait("disconnect")

		slow := startPeer(t, v, merge(map[string]any{}, node))
		slow.wait("connect")
		start := time.Now()
		slow.do(map[string]any{"cmd": "write", "hex": hexEncode([]byte(`{"type":"x","da`))})
		select {
		case err := <-disc:
			el := time.Since(start)
			if !errors.Is(err, goipc.ErrPartialTimeout) {
				t.Errorf("closed with %v, want goipc.ErrPartialTimeout", err)
			}
			if el < timeout-50*time.Millisecond || el > 5*time.Second {
				t.Errorf("closed after %v, partial-frame timeout %v", el, timeout)
			}
		case <-time.After(waitLimit):
			t.Fatal("partial frame not timed out")
		}
		slow.wait("disconnect")
		good.do(cmdEmit("alive", `1`))
		if r := good.event("alive"); string(r.Data) != "1" {
			t.Errorf("other client: %s", r.Data)
		}

		// node-ipc (default "fast" parser) keeps the partial frame and the
		// connection.
		p, addr, _ := startNodeServer(t, v, transportNamed("tcp4"), nil, nil)
		c, err := net.Dial("tcp", strings.TrimPrefix(addr, "tcp://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		p.wait("connect")
		c.Write([]byte(`{"type":"x","da`))
		c.SetReadDeadline(time.Now().Add(1 * time.Second))
		_, err = c.Read(make([]byte, 1))
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("node-ipc %s: read %v; expected the connection to stay open", v.name, err)
		}
	})
}
