//go:build linux

package poller

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// spinCount returns how many times c's reader (a goroutine engine's) or
// its loop (an event loop's) began a spin, or -1 when it has no busy
// polling.
func spinCount(c *Conn) int64 {
	switch t := c.tr.(type) {
	case *gnetConn:
		if t.spin != nil {
			return int64(t.spin.spins.Load())
		}
	case *goConn:
		if t.sock != nil && t.sock.gov.budget > 0 {
			return int64(t.sock.spins.Load())
		}
	}
	return -1
}

// TestBusyPoll runs a busy-polling server whose spins would last a minute
// and checks that everything that must end a spin does: input on the
// connection and on another one of the same loop, a new connection, a
// write queued from another goroutine, closing a connection from either
// side, and closing the engine. Each is given 5 s, so a spin that one of
// them fails to end fails the test.
func TestBusyPoll(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	cfg := Config{Codec: codec, BusyPoll: time.Minute, PartialTimeout: -1}
	for _, name := range []string{"loop", "goroutine"} {
		for _, network := range []string{"unix", "tcp"} {
			t.Run(name+"/"+network, func(t *testing.T) {
				h := &openTracker{echo: echo{codec}, opened: make(chan *Conn, 4), closed: make(chan error, 4)}
				var e Engine
				var err error
				if name == "loop" {
					e, err = NewLoopEngine(cfg, h, 1) // one loop: both connections share its spin
				} else {
					e, err = NewGoEngine(cfg, h)
				}
				if err != nil {
					t.Fatal(err)
				}
				closed := false
				defer func() {
					if !closed {
						e.Close()
					}
				}()
				addr := serve(t, network, e)
				dial := func() (net.Conn, *Conn) { return h.dial(t, addr) }
				frameOf := func(s string) []byte { b, _ := codec.Append(nil, []byte(s)); return b }
				expect := func(nc net.Conn, s, what string) {
					t.Helper()
					want := frameOf(s)
					got := make([]byte, len(want))
					nc.SetReadDeadline(time.Now().Add(5 * time.Second))
					if _, err := io.ReadFull(nc, got); err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("%s: got %q, want %q", what, got, want)
					}
				}

				a, ca := dial()
				if spinCount(ca) < 0 {
					t.Fatal("the connection does not busy-poll")
				}
				// Having answered, the server spins for its next input. (Not
				// necessarily after the first answer: while the engine still
				// sets the connection up, a loop does not spin.)
				deadline := time.Now().Add(5 * time.Second)
				for i := 0; spinCount(ca) < 1; i++ {
					if time.Now().After(deadline) {
						t.Fatalf("no spin began within 5 s (%d round trips)", i)
					}
					if _, err := a.Write(frameOf("a1")); err != nil {
						t.Fatal(err)
					}
					expect(a, "a1", "echo on a")
				}

				b, cb := dial() // the loop enrols it while it spins
				if _, err := b.Write(frameOf("b1")); err != nil {
					t.Fatal(err)
				}
				expect(b, "b1", "echo on b, whose input must end a's spin")
				if _, err := a.Write(frameOf("a2")); err != nil {
					t.Fatal(err)
				}
				expect(a, "a2", "echo on a after b's")

				// A write from another goroutine.
				if err := ca.Write(frameOf("push")); err != nil {
					t.Fatal(err)
				}
				expect(a, "push", "a write queued from outside the loop")

				// Closing from the server side, then from the client's.
				go cb.CloseNow(nil) // on a goroutine: a close that waits for the spin fails below, not hangs
				b.SetReadDeadline(time.Now().Add(5 * time.Second))
				if n, err := b.Read(make([]byte, 1)); err != io.EOF {
					t.Fatalf("b after the server closed it: %d bytes, %v, want EOF", n, err)
				}
				c, _ := dial()
				if _, err := c.Write(frameOf("c1")); err != nil {
					t.Fatal(err)
				}
				expect(c, "c1", "echo on c")
				c.Close()
				for i := 0; i < 2; i++ {
					select {
					case <-h.closed:
					case <-time.After(5 * time.Second):
						t.Fatalf("%d of 2 closes reported within 5 s", i)
					}
				}

				// Closing the engine while a spins.
				n := spinCount(ca)
				for i := 0; spinCount(ca) == n; i++ {
					if i == 1000 {
						t.Fatalf("%d spins after 1000 more round trips", n)
					}
					if _, err := a.Write(frameOf("a3")); err != nil {
						t.Fatal(err)
					}
					expect(a, "a3", "echo on a")
				}
				done := make(chan struct{})
				go func() { e.Close(); close(done) }()
				select {
				case <-done:
					closed = true
				case <-time.After(5 * time.Second):
					t.Fatal("the engine did not close within 5 s")
				}
				a.SetReadDeadline(time.Now().Add(5 * time.Second))
				if n, err := a.Read(make([]byte, 1)); err != io.EOF {
					t.Fatalf("a after the engine closed: %d bytes, %v, want EOF", n, err)
				}
			})
		}
	}
}

// TestBusyPollOff checks that connections spin only when asked to.
func TestBusyPollOff(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	h := opener{make(chan *Conn, 2)} // OnClose must not block: both engines close at cleanup
	for name, e := range engines(t, Config{Codec: codec}, h) {
		nc, err := net.Dial("unix", serve(t, "unix", e).String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if n := spinCount(<-h.conns); n != -1 {
			t.Errorf("%s: spin count %d without BusyPoll, want none", name, n)
		}
	}
}

// TestBusyPollBacksOff checks that a connection whose spins keep running
// out stops spinning: with a 1 µs spin and a pause of twice the longest
// probe before each request (the quiet that makes every spin run out),
// 200 round trips begin one spin each without the governor, and 25 with
// it: 22 before the failures' average passes three in four, then a probe
// after each skip of 16, 32 and 64 waits.
func TestBusyPollBacksOff(t *testing.T) {
	const trips = 200
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	h := &openTracker{echo: echo{codec}, opened: make(chan *Conn, 2), closed: make(chan error, 4)}
	for name, e := range engines(t, Config{Codec: codec, BusyPoll: time.Microsecond}, h) {
		nc, c := h.dial(t, serve(t, "unix", e))
		msg, _ := codec.Append(nil, []byte("ping"))
		got := make([]byte, len(msg))
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		for i := range trips {
			time.Sleep(2 * govProbe)
			if _, err := nc.Write(msg); err != nil {
				t.Fatalf("%s: trip %d: %v", name, i, err)
			}
			if _, err := io.ReadFull(nc, got); err != nil {
				t.Fatalf("%s: trip %d: %v", name, i, err)
			}
		}
		n := spinCount(c)
		t.Logf("%s: %d spins in %d round trips", name, n, trips)
		if n < govWindow || n > trips/4 {
			t.Errorf("%s: %d spins in %d round trips, want from %d (before backing off) to %d", name, n, trips, govWindow, trips/4)
		}
	}
}
