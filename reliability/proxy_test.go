//go:build linux

package reliability

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/internal/faultproxy"
)

// Writes split into random small chunks (seeded) and delayed, both ways,
// are decoded whole and in order by the server and by the client.
func TestProxySplitDelayed(t *testing.T) {
	forNetCodec(t, func(t *testing.T, network string, codec goipc.Codec) {
		srv := newServer(t, listenAddr(t, network), goipc.WithCodec(codec))
		var got collector
		srv.HandleAny(func(c *goipc.Conn, m goipc.Message) {
			got.add(m)
			if err := c.Emit(m.Event, m.Data); err != nil {
				t.Errorf("echo: %v", err)
			}
		})
		start(t, srv)
		p, addr := proxyFor(t, srv)
		// Up: chunks of 1–24 bytes, each delayed; down: 1–5 bytes, back
		// to back (a timer per 3-byte chunk would make the test slow, not
		// better).
		p.SplitRandom(faultproxy.Up, 24, 1)
		p.Delay(faultproxy.Up, 50*time.Microsecond)
		p.SplitRandom(faultproxy.Down, 5, 2)
		var echoed collector
		cl := dialClient(t, addr, func(cl *goipc.Client) { cl.HandleAny(echoed.add) }, goipc.WithCodec(codec))
		const n = 60
		var want []string
		for i := range n {
			b := body("split", i, 12+(i*37)%200)
			want = append(want, string(b))
			if err := cl.Emit(fmt.Sprintf("ev%d", i%3), b); err != nil {
				t.Fatal(err)
			}
		}
		waitUntil(t, 30*time.Second, "echoes through the split proxy", func() bool { return echoed.len() >= n })
		for name, c := range map[string]*collector{"server": &got, "client": &echoed} {
			d := c.data()
			if len(d) != n {
				t.Fatalf("%s got %d messages, want %d", name, len(d), n)
			}
			for i := range d {
				if d[i] != want[i] {
					t.Fatalf("%s message %d: %q, want %q", name, i, d[i], want[i])
				}
			}
		}
		for i, m := range echoed.msgs {
			if m.Event != fmt.Sprintf("ev%d", i%3) {
				t.Fatalf("message %d event %q", i, m.Event)
			}
		}
		st := p.Stats()
		t.Logf("forwarded up %d B, down %d B in random chunks of 1–24 B (delayed) / 1–5 B", st.Bytes[faultproxy.Up], st.Bytes[faultproxy.Down])
	})
}

// A frame that stops arriving half-way (the proxy stalls after a few of
// its bytes) is cut off after the partial-frame timeout with
// ErrPartialTimeout; the client reconnects and later emits get through.
func TestProxyStallPartialTimeout(t *testing.T) {
	forNetCodec(t, func(t *testing.T, network string, codec goipc.Codec) {
		const timeout = 150 * time.Millisecond
		srv := newServer(t, listenAddr(t, network), goipc.WithCodec(codec), goipc.WithPartialTimeout(timeout))
		var got collector
		srv.HandleAny(func(c *goipc.Conn, m goipc.Message) { got.add(m) })
		closed := make(chan error, 4)
		srv.OnDisconnect(func(c *goipc.Conn, err error) { closed <- err })
		start(t, srv)
		p, addr := proxyFor(t, srv)
		cl := dialClient(t, addr, nil, goipc.WithCodec(codec), goipc.WithRetry(10*time.Millisecond, goipc.Forever))
		if err := cl.Emit("m", body("warm", 0, 20)); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 5*time.Second, "warm-up message", func() bool { return got.len() == 1 })

		fired := p.StallAfter(faultproxy.Up, 6)
		begin := time.Now()
		if err := cl.Emit("m", body("stalled", 1, 100)); err != nil {
			t.Fatal(err)
		}
		<-fired
		select {
		case err := <-closed:
			if !errors.Is(err, goipc.ErrPartialTimeout) {
				t.Fatalf("server closed the stalled conn with %v, want ErrPartialTimeout", err)
			}
			if el := time.Since(begin); el < timeout {
				t.Fatalf("closed after %v, before the %v timeout", el, timeout)
			}
			t.Logf("stalled conn closed after %v (timeout %v)", time.Since(begin).Round(time.Millisecond), timeout)
		case <-time.After(10 * time.Second):
			t.Fatal("stalled conn not closed")
		}
		p.Resume(faultproxy.Up)
		waitUntil(t, 10*time.Second, "reconnect", func() bool { return cl.Connects() >= 2 && cl.Connected() })
		for i := range 10 {
			if err := cl.Emit("m", body("after", i, 30)); err != nil {
				t.Fatal(err)
			}
		}
		waitUntil(t, 10*time.Second, "emits after the stall", func() bool { return got.len() >= 11 })
		d := got.data()
		for i := range 10 {
			if want := string(body("after", i, 30)); d[1+i] != want {
				t.Fatalf("after the stall, message %d: %q want %q", i, d[1+i], want)
			}
		}
		if len(d) != 11 {
			t.Fatalf("%d messages; the stalled partial frame must not be delivered", len(d))
		}
	})
}

// The connection is cut (closed, or reset with SO_LINGER 0 on TCP) in the
// middle of a frame: the server drops the partial frame, the client
// reconnects, and what it emits after the reconnect arrives whole, in
// order, with nothing corrupt in between.
func TestProxyCutMidFrame(t *testing.T) {
	for _, act := range []faultproxy.Action{faultproxy.ActCut, faultproxy.ActReset} {
		name := map[faultproxy.Action]string{faultproxy.ActCut: "cut", faultproxy.ActReset: "reset"}[act]
		t.Run(name, func(t *testing.T) {
			forNetCodec(t, func(t *testing.T, network string, codec goipc.Codec) {
				testCutMidFrame(t, network, codec, act)
			})
		})
	}
}

func testCutMidFrame(t *testing.T, network string, codec goipc.Codec, act faultproxy.Action) {
	srv := newServer(t, listenAddr(t, network), goipc.WithCodec(codec))
	var got collector
	srv.HandleAny(func(c *goipc.Conn, m goipc.Message) { got.add(m) })
	closed := make(chan error, 4)
	srv.OnDisconnect(func(c *goipc.Conn, err error) { closed <- err })
	start(t, srv)
	p, addr := proxyFor(t, srv)
	var disconnects atomic.Int32
	cl := dialClient(t, addr, func(cl *goipc.Client) {
		cl.OnDisconnect(func(error) { disconnects.Add(1) })
	}, goipc.WithCodec(codec), goipc.WithRetry(10*time.Millisecond, goipc.Forever))

	const pre, post = 20, 20
	var want []string
	for i := range pre {
		b := body("pre", i, 40)
		want = append(want, string(b))
		if err := cl.Emit("m", b); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, 5*time.Second, "messages before the cut", func() bool { return got.len() == pre })

	// The victim frame is ~200 bytes: 60 of them pass, then the cut.
	fired := p.After(faultproxy.Up, 60, act)
	if err := cl.Emit("m", body("victim", 0, 200)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("cut not fired")
	}
	select {
	case err := <-closed:
		t.Logf("server side closed with: %v", err)
		if act == faultproxy.ActReset && network == "tcp" && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("reset: server saw %v, want ECONNRESET", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not notice the cut")
	}
	waitUntil(t, 10*time.Second, "client reconnect", func() bool { return cl.Connects() >= 2 && cl.Connected() })
	for i := range post {
		b := body("post", i, 40)
		want = append(want, string(b))
		if err := cl.Emit("m", b); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, 10*time.Second, "messages after the reconnect", func() bool { return got.len() >= pre+post })
	d := got.data()
	if len(d) != pre+post {
		t.Fatalf("server got %d messages, want %d (the cut frame must be dropped)", len(d), pre+post)
	}
	for i := range d {
		if d[i] != want[i] {
			t.Fatalf("message %d: %q, want %q", i, d[i], want[i])
		}
	}
	if disconnects.Load() != 1 {
		t.Fatalf("client saw %d disconnects, want 1", disconnects.Load())
	}
}
