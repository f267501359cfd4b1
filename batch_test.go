package goipc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/udp"
)

// batchSend adds a message to b the way send adds it to a client.
func batchSend(b *Batch, codec Codec) func(event string, p []byte) error {
	return func(event string, p []byte) error {
		if codec.events() {
			return b.Emit(event, p)
		}
		return b.Send(p)
	}
}

// A client's batch delivers every message, in order, on every transport
// and codec: across the flushes a full buffer makes (a 4 KiB ring), a
// message larger than the buffer (sent on its own, in its place), and
// on UDP more datagrams than one sendmmsg takes.
func TestConformanceBatch(t *testing.T) {
	forEach(t, func(t *testing.T, tp transport, codec Codec) {
		addr, opts := tp.addr(t)
		srv := echoServer(t, addr, codec, opts...)
		cl, r := dialRecv(t, srv.Addr(), codec, append(opts, WithRingSize(4096))...)
		var payloads [][]byte
		for i := range 150 {
			n := 1 + i%200
			if i == 70 {
				n = 10000 // larger than the batch
			}
			payloads = append(payloads, payload(codec, n, i))
		}
		b := cl.NewBatch()
		checkEchoWith(t, r, codec, payloads, batchSend(b, codec), b.Flush)
		if n := b.Buffered(); n != 0 {
			t.Fatalf("%d messages still buffered after Flush", n)
		}
	})
}

// An event's name may be empty: a batch sends it in the envelope, as
// Emit does, whether it is buffered or too large for the buffer and sent
// alone (it is not a bare frame, which Send makes).
func TestBatchEmitEmptyName(t *testing.T) {
	codec := EventCodec()
	srv, err := Listen("unix://"+shortTempDir(t)+"/b.sock", WithCodec(codec))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 4)
	srv.Handle("", func(c *Conn, m Message) { got <- bytes.Clone(m.Data) })
	srv.HandleAny(func(c *Conn, m Message) { t.Errorf("event %q delivered, want the empty name", m.Event) })
	startServer(t, srv)
	cl, _ := dialRecv(t, srv.Addr(), codec, WithRingSize(4096))
	b := cl.NewBatch()
	want := [][]byte{[]byte("small"), bytes.Repeat([]byte{7}, 10000)}
	for _, p := range want {
		if err := b.Emit("", p); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, p := range want {
		select {
		case g := <-got:
			if !bytes.Equal(g, p) {
				t.Fatalf("message %d: %d bytes, want %d", i, len(g), len(p))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d (%d bytes) not delivered", i, len(p))
		}
	}
}

// A server connection's batch sends to that client.
func TestServerConnBatch(t *testing.T) {
	for _, tp := range transports() {
		if tp.name != "unix" && tp.name != "tcp4" && tp.name != "udp4" {
			continue
		}
		t.Run(tp.name, func(t *testing.T) {
			addr, opts := tp.addr(t)
			codec := EventCodec()
			srv, err := Listen(addr, append(opts, WithCodec(codec))...)
			if err != nil {
				t.Fatal(err)
			}
			const n = 300
			srv.Handle("go", func(c *Conn, m Message) {
				b := c.NewBatch()
				for i := range n {
					if err := b.Emit("m", []byte(fmt.Sprint(i))); err != nil {
						t.Errorf("batch emit %d: %v", i, err)
						return
					}
				}
				if err := b.Flush(); err != nil {
					t.Errorf("flush: %v", err)
				}
			})
			startServer(t, srv)
			cl, r := dialRecv(t, srv.Addr(), codec, opts...)
			if err := cl.Emit("go", nil); err != nil {
				t.Fatal(err)
			}
			r.wait(t, 10*time.Second, "the batch", func() bool { return len(r.msgs) >= n })
			for i, m := range r.msgs[:n] {
				if string(m.Data) != fmt.Sprint(i) {
					t.Fatalf("message %d is %q", i, m.Data)
				}
			}
		})
	}
}

// While the client is disconnected a flush goes to the outbox, one entry
// per message, and is delivered after the reconnect.
func TestBatchWhileDisconnected(t *testing.T) {
	for name, codec := range map[string]Codec{"event": EventCodec(), "length": LengthCodec(frame.LengthFieldConfig{})} {
		t.Run(name, func(t *testing.T) {
			addr := "unix://" + shortTempDir(t) + "/s.sock"
			cl, err := NewClient(addr, WithCodec(codec), WithRetry(5*time.Millisecond, Forever), WithOutbox(10, 1<<20))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			r := newRecv()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go cl.Connect(ctx) // retries until the server exists
			b := cl.NewBatch()
			add := batchSend(b, codec)
			for i := range 8 {
				if err := add("m", []byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Flush(); err != nil {
				t.Fatalf("flush while disconnected: %v", err)
			}
			if got := cl.Outbox(); got != 8 {
				t.Fatalf("outbox holds %d, want 8 messages", got)
			}
			for i := range 3 {
				if err := add("m", []byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Flush(); !errors.Is(err, ErrOutboxFull) {
				t.Fatalf("flush past the outbox bound: %v, want ErrOutboxFull", err)
			}
			if b.Buffered() != 3 {
				t.Fatalf("a failed flush kept %d messages, want 3", b.Buffered())
			}
			b.Reset()

			srv, err := Listen(addr, WithCodec(codec))
			if err != nil {
				t.Fatal(err)
			}
			if codec.events() {
				srv.Handle("m", func(_ *Conn, m Message) { r.add(m) })
			} else {
				srv.OnData(func(_ *Conn, p []byte) { r.add(Message{Data: p}) })
			}
			startServer(t, srv)
			r.wait(t, 10*time.Second, "the outbox", func() bool { return len(r.msgs) >= 8 })
			for i, m := range r.msgs {
				if !bytes.Equal(m.Data, []byte{byte(i)}) {
					t.Fatalf("message %d is % x", i, m.Data)
				}
			}
		})
	}
}

// A failed flush keeps every message; the connection and the batch stay
// usable.
func TestBatchBackpressureKeepsMessages(t *testing.T) {
	dir := shortTempDir(t)
	ln, err := net.Listen("unix", dir+"/s.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c // never read
		}
	}()
	codec := LengthCodec(frame.LengthFieldConfig{Size: 4, MaxFrame: 4096})
	cl, err := NewClient("unix://"+dir+"/s.sock", WithCodec(codec), WithMaxPending(64<<10, Refuse, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	defer peer.Close()
	b := cl.NewBatch()
	p := make([]byte, 1000)
	var ferr error
	for i := 0; i < 10000 && ferr == nil; i++ { // the socket buffer fills first
		if err := b.Send(p); err != nil {
			ferr = err
			break
		}
		if b.Buffered() == 32 {
			ferr = b.Flush()
		}
	}
	if !errors.Is(ferr, ErrBackpressure) {
		t.Fatalf("got %v, want ErrBackpressure", ferr)
	}
	if b.Buffered() == 0 {
		t.Fatal("the refused flush dropped its messages")
	}
	b.Reset()
	if b.Buffered() != 0 {
		t.Fatal("Reset kept messages")
	}
}

// The batch checks what it can at once: the wrong call for the codec, and
// on UDP a datagram too large to send, which leaves the rest of the batch
// to go.
func TestBatchErrors(t *testing.T) {
	srv := echoServer(t, "unix://"+shortTempDir(t)+"/s.sock", LengthCodec(frame.LengthFieldConfig{}))
	cl, _ := dialRecv(t, srv.Addr(), LengthCodec(frame.LengthFieldConfig{}))
	if err := cl.NewBatch().Emit("m", nil); !errors.Is(err, ErrNoEvents) {
		t.Fatalf("Emit in length mode: %v", err)
	}

	codec := EventCodec()
	usrv := echoServer(t, "udp://127.0.0.1:0", codec)
	ucl, r := dialRecv(t, usrv.Addr(), codec)
	b := ucl.NewBatch()
	if err := b.Send([]byte("x")); !errors.Is(err, ErrEvents) {
		t.Fatalf("Send in event mode: %v", err)
	}
	if err := b.Emit("m", []byte("before")); err != nil {
		t.Fatal(err)
	}
	if err := b.Emit("m", make([]byte, 70000)); !errors.Is(err, udp.ErrTooLarge) {
		t.Fatalf("a 70000-byte datagram: %v, want ErrTooLarge", err)
	}
	if err := b.Emit("m", []byte("after")); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 5*time.Second, "two echoes", func() bool { return len(r.msgs) >= 2 })
	if string(r.msgs[0].Data) != "before" || string(r.msgs[1].Data) != "after" {
		t.Fatalf("got %q, %q", r.msgs[0].Data, r.msgs[1].Data)
	}
}

// Send writes the default length header itself: a payload at the codec's
// limit goes, one byte more is refused with ErrFrameTooLarge and leaves
// the batch as it was, a codec with another header still encodes through
// it, and event mode over a stream refuses Send as it does over UDP.
func TestBatchSendLimits(t *testing.T) {
	for _, cfg := range []frame.LengthFieldConfig{
		{MaxFrame: 104},
		{Size: 2, LittleEndian: true, MaxFrame: 102},
	} {
		codec := LengthCodec(cfg)
		srv := echoServer(t, "unix://"+shortTempDir(t)+"/s.sock", codec)
		cl, r := dialRecv(t, srv.Addr(), codec)
		b := cl.NewBatch()
		if err := b.Send([]byte("first")); err != nil {
			t.Fatalf("%+v: %v", cfg, err)
		}
		if err := b.Send(bytes.Repeat([]byte{'m'}, 100)); err != nil {
			t.Fatalf("%+v: a 100-byte payload: %v", cfg, err)
		}
		if err := b.Send(make([]byte, 101)); !errors.Is(err, frame.ErrFrameTooLarge) {
			t.Fatalf("%+v: a 101-byte payload: %v, want ErrFrameTooLarge", cfg, err)
		}
		if n := b.Buffered(); n != 2 {
			t.Fatalf("%+v: %d buffered after the refusal, want 2", cfg, n)
		}
		if err := b.Send([]byte("last")); err != nil {
			t.Fatal(err)
		}
		if err := b.Flush(); err != nil {
			t.Fatal(err)
		}
		r.wait(t, 5*time.Second, "three echoes", func() bool { return len(r.msgs) >= 3 })
		if string(r.msgs[0].Data) != "first" || len(r.msgs[1].Data) != 100 || string(r.msgs[2].Data) != "last" {
			t.Fatalf("%+v: got %q, %d bytes, %q", cfg, r.msgs[0].Data, len(r.msgs[1].Data), r.msgs[2].Data)
		}
	}

	// The event envelope rides on the same default length header; Send
	// is still not for it.
	codec := EventCodec()
	srv := echoServer(t, "unix://"+shortTempDir(t)+"/e.sock", codec)
	cl, _ := dialRecv(t, srv.Addr(), codec)
	if err := cl.NewBatch().Send([]byte("x")); !errors.Is(err, ErrEvents) {
		t.Fatalf("Send in event mode over a stream: %v", err)
	}
}
