package goipc

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/unix"
)

// The conformance suite runs the same checks on every transport × codec,
// in the manner of golang.org/x/net/nettest.

type transport struct {
	name  string
	dgram bool
	// addr returns a fresh address to listen on, and options both ends need.
	addr func(t *testing.T) (string, []Option)
}

func transports() []transport {
	return []transport{
		{name: "unix", addr: func(t *testing.T) (string, []Option) {
			return "unix://" + shortTempDir(t) + "/s.sock", nil
		}},
		{name: "ipc", addr: func(t *testing.T) (string, []Option) {
			return "ipc://world", []Option{WithNamespace(unix.Namespace{Root: shortTempDir(t) + "/", AppSpace: "app."})}
		}},
		{name: "tcp4", addr: func(t *testing.T) (string, []Option) { return "tcp://127.0.0.1:0", nil }},
		{name: "tcp6", addr: func(t *testing.T) (string, []Option) { return "tcp://[::1]:0", nil }},
		tlsTransport("tls4", "127.0.0.1"),
		tlsTransport("tls6", "[::1]"),
		{name: "udp4", dgram: true, addr: func(t *testing.T) (string, []Option) { return "udp://127.0.0.1:0", nil }},
		{name: "udp6", dgram: true, addr: func(t *testing.T) (string, []Option) { return "udp://[::1]:0", nil }},
	}
}

func codecs() map[string]Codec {
	return map[string]Codec{
		"raw":    RawCodec(),
		"length": LengthCodec(frame.LengthFieldConfig{Size: 4, MaxFrame: 2 << 20}),
		"event":  EventCodec().WithMaxFrame(2 << 20),
		"json":   JSONCodec().WithMaxFrame(2 << 20),
	}
}

// shortTempDir keeps socket paths under sun_path's 108 bytes.
func shortTempDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "gi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// payload returns n bytes of a message body valid for codec (a JSON
// string in JSON mode), tagged with i.
func payload(codec Codec, n, i int) []byte {
	if codec.Mode() == ModeJSON {
		if n < 2 {
			n = 2
		}
		b := bytes.Repeat([]byte{'a' + byte(i%26)}, n)
		b[0], b[n-1] = '"', '"'
		return b
	}
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i + j)
	}
	return b
}

// recv is what a test client collects.
type recv struct {
	mu     sync.Mutex
	msgs   []Message
	bytes  []byte // raw mode: the stream
	notify chan struct{}
}

func newRecv() *recv { return &recv{notify: make(chan struct{}, 1)} }

func (r *recv) add(m Message) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m.Clone())
	r.bytes = append(r.bytes, m.Data...)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// wait waits until cond holds, or fails the test after d.
func (r *recv) wait(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		n, nb := len(r.msgs), len(r.bytes)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.notify:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s (have %d messages, %d bytes)", what, n, nb)
		}
	}
}

// echoServer starts a server that sends every message back to its sender.
func echoServer(t *testing.T, addr string, codec Codec, opts ...Option) *Server {
	t.Helper()
	srv, err := Listen(addr, append(opts, WithCodec(codec))...)
	if err != nil {
		t.Fatal(err)
	}
	if codec.events() {
		srv.HandleAny(func(c *Conn, m Message) {
			if err := c.Emit(m.Event, m.Data); err != nil {
				t.Errorf("echo: %v", err)
			}
		})
	} else {
		srv.OnData(func(c *Conn, b []byte) {
			if err := c.Send(b); err != nil {
				t.Errorf("echo: %v", err)
			}
		})
	}
	startServer(t, srv)
	return srv
}

func startServer(t *testing.T, srv *Server) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return")
		}
	})
}

func dialRecv(t *testing.T, addr string, codec Codec, opts ...Option) (*Client, *recv) {
	t.Helper()
	r := newRecv()
	cl, err := NewClient(addr, append(opts, WithCodec(codec))...)
	if err != nil {
		t.Fatal(err)
	}
	if codec.events() {
		cl.HandleAny(r.add)
	} else {
		cl.OnData(func(b []byte) { r.add(Message{Data: b}) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl, r
}

func send(cl *Client, codec Codec, event string, p []byte) error {
	if codec.events() {
		return cl.Emit(event, p)
	}
	return cl.Send(p)
}

func forEach(t *testing.T, fn func(t *testing.T, tp transport, codec Codec)) {
	for _, tp := range transports() {
		for name, codec := range codecs() {
			t.Run(tp.name+"/"+name, func(t *testing.T) {
				if strings.HasSuffix(tp.name, "6") {
					requireIPv6(t)
				}
				fn(t, tp, codec)
			})
		}
	}
}

func requireIPv6(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no IPv6 loopback in CI: %v", err)
		}
		t.Skip("no IPv6 loopback")
	}
	ln.Close()
}

// checkEcho sends the payloads and checks they come back: whole and in
// order, or for raw mode as the same byte stream.
func checkEcho(t *testing.T, cl *Client, r *recv, codec Codec, payloads [][]byte) {
	t.Helper()
	checkEchoWith(t, r, codec, payloads, func(event string, p []byte) error { return send(cl, codec, event, p) }, nil)
}

// checkEchoWith is checkEcho sending with send, then calling flush if not
// nil.
func checkEchoWith(t *testing.T, r *recv, codec Codec, payloads [][]byte, send func(event string, p []byte) error, flush func() error) {
	t.Helper()
	var all []byte
	for i, p := range payloads {
		if err := send(fmt.Sprintf("ev%d", i%3), p); err != nil {
			t.Fatalf("send %d (%d bytes): %v", i, len(p), err)
		}
		all = append(all, p...)
	}
	if flush != nil {
		if err := flush(); err != nil {
			t.Fatalf("flush: %v", err)
		}
	}
	if codec.Mode() == ModeRaw {
		r.wait(t, 20*time.Second, "echoed bytes", func() bool { return len(r.bytes) >= len(all) })
		if !bytes.Equal(r.bytes, all) {
			i := 0
			for i < len(all) && i < len(r.bytes) && all[i] == r.bytes[i] {
				i++
			}
			t.Fatalf("raw stream differs from byte %d: %d bytes back, %d sent; got % x want % x; want found at %d", i, len(r.bytes), len(all), r.bytes[i:i+8], all[i:i+8], bytes.Index(r.bytes, all[i:i+32]))
		}
		return
	}
	r.wait(t, 20*time.Second, "echoes", func() bool { return len(r.msgs) >= len(payloads) })
	for i, p := range payloads {
		m := r.msgs[i]
		if !bytes.Equal(m.Data, p) {
			t.Fatalf("message %d: %d bytes back, sent %d", i, len(m.Data), len(p))
		}
		if codec.events() && m.Event != fmt.Sprintf("ev%d", i%3) {
			t.Fatalf("message %d: event %q", i, m.Event)
		}
	}
}

func TestConformanceRoundTrip(t *testing.T) {
	forEach(t, func(t *testing.T, tp transport, codec Codec) {
		addr, opts := tp.addr(t)
		srv := echoServer(t, addr, codec, opts...)
		cl, r := dialRecv(t, srv.Addr(), codec, opts...)
		sizes := []int{0, 1, 64, 64 << 10, 1 << 20}
		if tp.dgram {
			sizes = []int{0, 1, 64, 1400, 60000}
		}
		if codec.Mode() == ModeRaw {
			sizes = sizes[1:] // an empty raw write sends nothing
		}
		var ps [][]byte
		for i, n := range sizes {
			ps = append(ps, payload(codec, n, i))
		}
		checkEcho(t, cl, r, codec, ps)
	})
}

// Frames split byte by byte, and many frames coalesced in one write, sent
// by a plain socket: the server must see exactly the frames sent.
func TestConformanceSplitAndCoalesced(t *testing.T) {
	forEach(t, func(t *testing.T, tp transport, codec Codec) {
		if tp.dgram {
			t.Skip("datagrams are never split or coalesced")
		}
		addr, opts := tp.addr(t)
		srv, err := Listen(addr, append(opts, WithCodec(codec))...)
		if err != nil {
			t.Fatal(err)
		}
		r := newRecv()
		if codec.events() {
			srv.HandleAny(func(c *Conn, m Message) { r.add(m) })
		} else {
			srv.OnData(func(c *Conn, b []byte) { r.add(Message{Data: b}) })
		}
		startServer(t, srv)
		var stream []byte
		var ps [][]byte
		for i := range 50 {
			p := payload(codec, 1+i*7, i)
			ps = append(ps, p)
			stream, err = srv.ep.appendMessage(stream, kindEvent, "split", 0, p, "")
			if err != nil {
				t.Fatal(err)
			}
		}
		nc := rawDial(t, srv.Addr(), opts...)
		half := len(stream) / 2
		for i := range half { // byte by byte
			if _, err := nc.Write(stream[i : i+1]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := nc.Write(stream[half:]); err != nil { // the rest coalesced
			t.Fatal(err)
		}
		if codec.Mode() == ModeRaw {
			var all []byte
			for _, p := range ps {
				all = append(all, p...)
			}
			r.wait(t, 10*time.Second, "bytes", func() bool { return len(r.bytes) >= len(all) })
			if !bytes.Equal(r.bytes, all) {
				t.Fatal("raw stream differs")
			}
			return
		}
		r.wait(t, 10*time.Second, "frames", func() bool { return len(r.msgs) >= len(ps) })
		for i, p := range ps {
			if !bytes.Equal(r.msgs[i].Data, p) {
				t.Fatalf("frame %d differs", i)
			}
		}
	})
}

// rawDial opens a plain socket to a goipc address — a TLS connection,
// completing the handshake, for tls:// addresses, configured by opts.
func rawDial(t *testing.T, addr string, opts ...Option) net.Conn {
	t.Helper()
	a, err := parseAddr(addr, unix.Namespace{})
	if err != nil {
		t.Fatal(err)
	}
	var nc net.Conn
	if a.scheme == schemeTLS {
		o := buildOptions(opts)
		host, _, _ := net.SplitHostPort(a.addr)
		cfg, err := o.tls.Client(host)
		if err != nil {
			t.Fatal(err)
		}
		nc, err = tls.Dial("tcp", a.addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
	} else if nc, err = net.Dial(a.network, a.addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// 64 requests in flight at a time; replies must match and come back.
func TestConformanceInFlight(t *testing.T) {
	forEach(t, func(t *testing.T, tp transport, codec Codec) {
		if !codec.events() {
			t.Skip("requests need events")
		}
		addr, opts := tp.addr(t)
		srv, err := Listen(addr, append(opts, WithCodec(codec))...)
		if err != nil {
			t.Fatal(err)
		}
		srv.Handle("echo", func(c *Conn, m Message) { m.Reply(m.Data) })
		startServer(t, srv)
		cl, _ := dialRecv(t, srv.Addr(), codec, opts...)
		const total, inflight = 640, 64
		sem := make(chan struct{}, inflight)
		errc := make(chan error, total)
		var wg sync.WaitGroup
		for i := range total {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				p := []byte(fmt.Sprintf(`{"i":%d}`, i))
				got, err := cl.Request(ctx, "echo", p)
				if err == nil && !bytes.Equal(got, p) {
					err = fmt.Errorf("request %d: reply %q", i, got)
				}
				errc <- err
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestConformanceBroadcast(t *testing.T) {
	forEach(t, func(t *testing.T, tp transport, codec Codec) {
		addr, opts := tp.addr(t)
		srv, err := Listen(addr, append(opts, WithCodec(codec))...)
		if err != nil {
			t.Fatal(err)
		}
		// A stream server sees a connection when it opens, a UDP server
		// when the peer's first datagram (the hello below) arrives.
		joined := make(chan struct{}, 16)
		srv.OnConnect(func(c *Conn) { joined <- struct{}{} })
		startServer(t, srv)
		var rs []*recv
		for range 10 {
			cl, r := dialRecv(t, srv.Addr(), codec, opts...)
			// Say hello so a UDP server learns the peer, and every server
			// has seen the connection before broadcasting.
			if err := send(cl, codec, "hello", payload(codec, 4, 0)); err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		for range 10 {
			select {
			case <-joined:
			case <-time.After(10 * time.Second):
				t.Fatal("clients did not join")
			}
		}
		p := payload(codec, 100, 7)
		var n int
		if codec.events() {
			n, err = srv.Broadcast("tick", p)
		} else {
			n, err = srv.BroadcastBytes(p)
		}
		if err != nil || n != 10 {
			t.Fatalf("Broadcast reached %d: %v", n, err)
		}
		for i, r := range rs {
			r.wait(t, 10*time.Second, fmt.Sprintf("broadcast at client %d", i), func() bool { return len(r.bytes) >= len(p) })
			if !bytes.Equal(r.bytes, p) || (codec.events() && r.msgs[0].Event != "tick") {
				t.Fatalf("client %d got %q", i, r.bytes)
			}
		}
	})
}

// 20 goroutines emit concurrently on one client: each goroutine's messages
// arrive whole and in order.
func TestConformanceConcurrentEmitters(t *testing.T) {
	forEach(t, func(t *testing.T, tp transport, codec Codec) {
		if codec.Mode() == ModeRaw {
			t.Skip("raw mode has no message boundaries to check")
		}
		addr, opts := tp.addr(t)
		srv, err := Listen(addr, append(opts, WithCodec(codec))...)
		if err != nil {
			t.Fatal(err)
		}
		r := newRecv()
		if codec.events() {
			srv.HandleAny(func(c *Conn, m Message) { r.add(m) })
		} else {
			srv.OnData(func(c *Conn, b []byte) { r.add(Message{Data: b}) })
		}
		startServer(t, srv)
		cl, _ := dialRecv(t, srv.Addr(), codec, opts...)
		const writers, per = 20, 100
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range per {
					p := []byte(fmt.Sprintf(`"%d:%d"`, w, i))
					for {
						err := send(cl, codec, "n", p)
						if !errors.Is(err, ErrBackpressure) {
							if err != nil {
								t.Error(err)
							}
							break
						}
						time.Sleep(time.Millisecond)
					}
					if tp.dgram && i%20 == 19 {
						time.Sleep(time.Millisecond) // UDP has no flow control
					}
				}
			}()
		}
		wg.Wait()
		r.wait(t, 20*time.Second, "all messages", func() bool { return len(r.msgs) >= writers*per })
		next := make([]int, writers)
		for _, m := range r.msgs {
			var w, i int
			if _, err := fmt.Sscanf(strings.Trim(string(m.Data), `"`), "%d:%d", &w, &i); err != nil {
				t.Fatalf("mangled message %q", m.Data)
			}
			if !tp.dgram && i != next[w] {
				t.Fatalf("writer %d: got %d, want %d", w, i, next[w])
			}
			next[w]++
		}
	})
}

// A server that closes a connection right after emitting must not lose
// the emits: Close flushes.
func TestConformanceGracefulClose(t *testing.T) {
	forEach(t, func(t *testing.T, tp transport, codec Codec) {
		if tp.dgram {
			t.Skip("UDP has no connection to close")
		}
		addr, opts := tp.addr(t)
		srv, err := Listen(addr, append(opts, WithCodec(codec))...)
		if err != nil {
			t.Fatal(err)
		}
		const n = 200
		p := payload(codec, 10000, 3)
		srv.OnConnect(func(c *Conn) {
			go func() {
				for range n {
					if codec.events() {
						c.Emit("bye", p)
					} else {
						c.Send(p)
					}
				}
				c.Close()
			}()
		})
		startServer(t, srv)
		_, r := dialRecv(t, srv.Addr(), codec, opts...)
		r.wait(t, 20*time.Second, "all emits before the close", func() bool { return len(r.bytes) >= n*len(p) })
		if len(r.bytes) != n*len(p) {
			t.Fatalf("got %d bytes, want %d", len(r.bytes), n*len(p))
		}
	})
}
