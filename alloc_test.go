//go:build !race

package goipc

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// Steady-state messaging allocates nothing: not the client's emit, not the
// server's receive and reply, not a broadcast per recipient. Each run is a
// whole round trip through real sockets, so these measure the process:
// both ends and every goroutine in between.

func allocAddrs(t *testing.T) map[string]string {
	return map[string]string{
		"unix": "unix://" + shortTempDir(t) + "/a.sock",
		"tcp":  "tcp://127.0.0.1:0",
	}
}

// waitFor waits for a signal with a timer that is reused, so the wait
// itself allocates nothing.
type waitFor struct {
	ch    chan struct{}
	timer *time.Timer
}

func newWaitFor() *waitFor {
	w := &waitFor{ch: make(chan struct{}, 1), timer: time.NewTimer(time.Hour)}
	w.timer.Stop()
	return w
}

func (w *waitFor) wait(t *testing.T) {
	w.timer.Reset(10 * time.Second)
	select {
	case <-w.ch:
		w.timer.Stop()
	case <-w.timer.C:
		t.Fatal("timed out")
	}
}

func (w *waitFor) signal() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// allocPingPong starts a server at addr that answers every message on its
// event loop ("ping" with "pong" in the event codecs, the same bytes in
// the others) and returns a client, connected and closed at the end of
// the test, that calls onReply for each answer.
func allocPingPong(t *testing.T, addr string, codec Codec, onReply func()) *Client {
	t.Helper()
	srv, err := Listen(addr, WithCodec(codec))
	if err != nil {
		t.Fatal(err)
	}
	if codec.events() {
		srv.Handle("ping", func(c *Conn, m Message) { c.Emit("pong", m.Data) })
	} else {
		srv.OnData(func(c *Conn, b []byte) { c.Send(b) })
	}
	startServer(t, srv)
	cl, err := NewClient(srv.Addr(), WithCodec(codec))
	if err != nil {
		t.Fatal(err)
	}
	if codec.events() {
		cl.Handle("pong", func(Message) { onReply() })
	} else {
		cl.OnData(func([]byte) { onReply() })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func TestAllocsRoundTrip(t *testing.T) {
	for name, codec := range map[string]Codec{
		"event":  EventCodec(),
		"length": LengthCodec(frame.LengthFieldConfig{}),
		"json":   JSONCodec(),
	} {
		payload := make([]byte, 64)
		if codec.Mode() == ModeJSON {
			payload = payload[:0]
			payload = append(payload, `{"seq":12345,"text":"a 64-byte JSON value, validated on send"}`...)
		}
		for tname, addr := range allocAddrs(t) {
			t.Run(name+"/"+tname, func(t *testing.T) {
				w := newWaitFor()
				cl := allocPingPong(t, addr, codec, w.signal)
				roundTrip := func() {
					var err error
					if codec.events() {
						err = cl.Emit("ping", payload)
					} else {
						err = cl.Send(payload)
					}
					if err != nil {
						t.Fatal(err)
					}
					w.wait(t)
				}
				for range 100 { // warm up: rings, buffers, pools
					roundTrip()
				}
				if a := testing.AllocsPerRun(500, roundTrip); a != 0 {
					t.Fatalf("%.2f allocations per round trip, want 0", a)
				}
			})
		}
	}
}

func TestAllocsBroadcast(t *testing.T) {
	for tname, addr := range allocAddrs(t) {
		t.Run(tname, func(t *testing.T) {
			srv, err := Listen(addr)
			if err != nil {
				t.Fatal(err)
			}
			joined := make(chan struct{}, 10)
			srv.Handle("join", func(c *Conn, m Message) { joined <- struct{}{} })
			startServer(t, srv)
			const clients = 10
			var got atomic.Int32
			w := newWaitFor()
			for range clients {
				cl, err := Dial(context.Background(), srv.Addr())
				if err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
				cl.Handle("tick", func(m Message) {
					if got.Add(1) == clients {
						w.signal()
					}
				})
				cl.Emit("join", nil)
				<-joined
			}
			payload := make([]byte, 64)
			broadcast := func() {
				got.Store(0)
				if n, err := srv.Broadcast("tick", payload); err != nil || n != clients {
					t.Fatalf("Broadcast reached %d: %v", n, err)
				}
				w.wait(t)
			}
			for range 100 {
				broadcast()
			}
			// Per broadcast to 10 recipients: any allocation per recipient
			// would show as at least 10.
			if a := testing.AllocsPerRun(300, broadcast); a != 0 {
				t.Fatalf("%.2f allocations per broadcast to %d clients, want 0", a, clients)
			}
		})
	}
}

// A batch of 64 messages, flushed and echoed back whole, allocates
// nothing: not the batch's encoding, not the flush, not the echo. On UDP
// the flush is one sendmmsg. Nor does a batch of 1000 on a stream, whose
// full buffer is handed to the queue and replaced (poller.Buffer).
func TestAllocsBatch(t *testing.T) {
	addrs := allocAddrs(t)
	addrs["udp"] = "udp://127.0.0.1:0"
	for name, codec := range map[string]Codec{
		"event":  EventCodec(),
		"length": LengthCodec(frame.LengthFieldConfig{}),
	} {
		for tname, addr := range addrs {
			for _, n := range []int32{64, 1000} {
				if n > 64 && tname == "udp" {
					continue
				}
				t.Run(fmt.Sprint(name, "/", tname, "/", n), func(t *testing.T) { allocsBatch(t, addr, codec, n) })
			}
		}
	}
}

func allocsBatch(t *testing.T, addr string, codec Codec, n int32) {
	w := newWaitFor()
	var got atomic.Int32
	cl := allocPingPong(t, addr, codec, func() {
		if got.Add(1) == n {
			w.signal()
		}
	})
	b := cl.NewBatch()
	payload := make([]byte, 64)
	round := func() {
		got.Store(0)
		for range n {
			var err error
			if codec.events() {
				err = b.Emit("ping", payload)
			} else {
				err = b.Send(payload)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Flush(); err != nil {
			t.Fatal(err)
		}
		w.wait(t)
	}
	for range 50 { // warm up
		round()
	}
	if a := testing.AllocsPerRun(200, round); a != 0 {
		t.Fatalf("%.2f allocations per batch of %d, want 0", a, n)
	}
}
