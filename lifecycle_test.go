package goipc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/unix"
)

// The client survives its server going away and coming back on the same
// address: messages emitted meanwhile are queued and delivered, in order,
// after the reconnect.
func TestConformanceReconnectWithQueuedEmits(t *testing.T) {
	forEach(t, func(t *testing.T, tp transport, codec Codec) {
		if tp.dgram {
			t.Skip("UDP has no connection to lose")
		}
		if codec.Mode() == ModeRaw {
			t.Skip("raw mode has no message boundaries to count")
		}
		addr, opts := tp.addr(t)
		start := func(addr string) (*Server, *recv, context.CancelFunc, chan error) {
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
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx) }()
			return srv, r, cancel, done
		}
		srv, r1, stop, done := start(addr)
		addr = srv.Addr() // the port chosen for tcp://…:0, kept for the restart
		var connects, disconnects atomic.Int32
		cl, err := NewClient(addr, append(opts, WithCodec(codec), WithRetry(10*time.Millisecond, Forever))...)
		if err != nil {
			t.Fatal(err)
		}
		cl.OnConnect(func() { connects.Add(1) })
		down := make(chan struct{}, 1)
		cl.OnDisconnect(func(error) { disconnects.Add(1); down <- struct{}{} })
		if err := cl.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := send(cl, codec, "m", []byte(`"before"`)); err != nil {
			t.Fatal(err)
		}
		r1.wait(t, 5*time.Second, "first message", func() bool { return len(r1.msgs) == 1 })

		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		select {
		case <-down:
		case <-time.After(5 * time.Second):
			t.Fatal("client did not notice the server going away")
		}
		const queued = 20
		for i := range queued {
			if err := send(cl, codec, "m", []byte(fmt.Sprintf(`"queued %d"`, i))); err != nil {
				t.Fatalf("emit while disconnected: %v", err)
			}
		}
		if n := cl.Outbox(); n != queued {
			t.Fatalf("outbox holds %d, want %d", n, queued)
		}

		_, r2, stop2, done2 := start(addr)
		defer func() { stop2(); <-done2 }()
		if err := send(cl, codec, "m", []byte(`"after"`)); err != nil {
			t.Fatal(err)
		}
		r2.wait(t, 10*time.Second, "queued messages after reconnect", func() bool { return len(r2.msgs) >= queued+1 })
		for i := range queued {
			if got, want := string(r2.msgs[i].Data), fmt.Sprintf(`"queued %d"`, i); got != want {
				t.Fatalf("message %d after reconnect: %s, want %s", i, got, want)
			}
		}
		if got := string(r2.msgs[queued].Data); got != `"after"` {
			t.Fatalf("last message %s", got)
		}
		// OnConnect runs right after the outbox is flushed, so the server
		// may see the messages a moment before the callback has run.
		for deadline := time.Now().Add(5 * time.Second); connects.Load() < 2 && time.Now().Before(deadline); {
			runtime.Gosched()
		}
		if connects.Load() != 2 || disconnects.Load() != 1 {
			t.Fatalf("connects %d, disconnects %d", connects.Load(), disconnects.Load())
		}
	})
}

// A peer claiming a frame larger than the maximum is cut off from its
// header alone; the server and its other connections carry on.
func TestConformanceOversizedPrefix(t *testing.T) {
	for _, tp := range transports() {
		if tp.dgram {
			continue
		}
		t.Run(tp.name, func(t *testing.T) {
			if strings.HasSuffix(tp.name, "6") {
				requireIPv6(t)
			}
			addr, opts := tp.addr(t)
			codec := EventCodec().WithMaxFrame(64 << 10)
			srv := echoServer(t, addr, codec, opts...)
			closed := make(chan error, 4)
			srv.OnDisconnect(func(c *Conn, err error) { closed <- err })
			good, r := dialRecv(t, srv.Addr(), codec, opts...)
			bad := rawDial(t, srv.Addr(), opts...)
			// 4 GiB - 1 claimed; only the header is sent.
			if _, err := bad.Write([]byte{0xff, 0xff, 0xff, 0xff}); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-closed:
				if !errors.Is(err, frame.ErrFrameTooLarge) {
					t.Fatalf("bad peer closed with %v, want ErrFrameTooLarge", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("oversized peer not closed")
			}
			bad.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := bad.Read(make([]byte, 1)); err == nil {
				t.Fatalf("bad peer could still read %d bytes", n)
			}
			checkEcho(t, good, r, codec, [][]byte{[]byte("still"), []byte("served")})
		})
	}
}

// A socket file left by a crashed server is reclaimed; a regular file at
// the path is refused and left alone; a live server's socket is "in use".
func TestSocketPathSafety(t *testing.T) {
	dir := shortTempDir(t)
	path := filepath.Join(dir, "s.sock")

	// Simulate a crash: bind a socket file and close it without unlinking.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("no stale socket: %v", err)
	}
	srv := echoServer(t, "unix://"+path, EventCodec())
	cl, r := dialRecv(t, srv.Addr(), EventCodec())
	checkEcho(t, cl, r, EventCodec(), [][]byte{[]byte("reclaimed")})
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}

	// A second server on the live socket: in use, and the first is unharmed.
	if _, err := Listen("unix://" + path); !errors.Is(err, unix.ErrAddrInUse) {
		t.Fatalf("second Listen: %v, want ErrAddrInUse", err)
	}
	cl2, r2 := dialRecv(t, srv.Addr(), EventCodec())
	checkEcho(t, cl2, r2, EventCodec(), [][]byte{[]byte("still served")})

	// A regular file is never removed.
	file := filepath.Join(dir, "not-a-socket")
	if err := os.WriteFile(file, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen("unix://" + file); !errors.Is(err, unix.ErrNotSocket) {
		t.Fatalf("Listen on a regular file: %v, want ErrNotSocket", err)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "precious" {
		t.Fatalf("regular file touched: %q %v", b, err)
	}
}

// A server removes its socket file when it closes.
func TestServerCloseRemovesSocket(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "s.sock")
	srv, err := Listen("unix://" + path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("socket file still there: %v", err)
	}
}

// A peer that sends half a frame and stalls is closed after the
// partial-frame timeout.
func TestPartialFrameTimeout(t *testing.T) {
	addr := "unix://" + shortTempDir(t) + "/s.sock"
	srv := echoServer(t, addr, EventCodec(), WithPartialTimeout(100*time.Millisecond))
	closed := make(chan error, 1)
	srv.OnDisconnect(func(c *Conn, err error) { closed <- err })
	nc := rawDial(t, srv.Addr())
	if _, err := nc.Write([]byte{0, 0, 0, 10, 1, 0}); err != nil { // 6 of 14 bytes
		t.Fatal(err)
	}
	select {
	case err := <-closed:
		if !errors.Is(err, ErrPartialTimeout) {
			t.Fatalf("closed with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stalled peer not closed")
	}
}

// A busy peer whose every read ends in the middle of a frame is making
// progress: frames keep completing, so the partial-frame timeout must not
// close it, on either engine.
func TestPartialTimeoutSparesProgress(t *testing.T) {
	for name, eng := range map[string]Engine{"loop": EngineLoop, "goroutine": EngineGoroutine} {
		t.Run(name, func(t *testing.T) {
			// Generous against scheduling delays under -race on 2 CPUs; the
			// stream below still lasts three timeouts.
			const timeout = 300 * time.Millisecond
			addr := "unix://" + shortTempDir(t) + "/s.sock"
			srv, err := Listen(addr, WithCodec(LengthCodec(frame.LengthFieldConfig{Size: 4})), WithPartialTimeout(timeout), WithEngine(eng))
			if err != nil {
				t.Fatal(err)
			}
			var frames atomic.Int64
			srv.OnData(func(*Conn, []byte) { frames.Add(1) })
			closed := make(chan error, 1)
			srv.OnDisconnect(func(c *Conn, err error) { closed <- err })
			go srv.Serve(context.Background())
			t.Cleanup(func() { srv.Close() })
			nc := rawDial(t, srv.Addr())
			// 14-byte frames sent as 7-byte tail + 7-byte head: every write,
			// and so every read, ends half way through a frame.
			one := []byte{0, 0, 0, 10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
			if _, err := nc.Write(one[:7]); err != nil {
				t.Fatal(err)
			}
			const writes = 60 // 60 × 15 ms = 3 timeouts
			for range writes {
				time.Sleep(15 * time.Millisecond) // pacing, not a readiness wait
				if _, err := nc.Write(append(one[7:14:14], one[:7]...)); err != nil {
					t.Fatalf("write after %d frames: %v", frames.Load(), err)
				}
			}
			deadline := time.Now().Add(5 * time.Second)
			for frames.Load() < writes && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if n := frames.Load(); n != writes {
				t.Fatalf("%d frames delivered, want %d", n, writes)
			}
			select {
			case err := <-closed:
				t.Fatalf("connection making progress was closed: %v", err)
			default:
			}
		})
	}
}

// Connections beyond MaxConns are closed at once; the others keep working.
func TestMaxConns(t *testing.T) {
	addr := "unix://" + shortTempDir(t) + "/s.sock"
	srv := echoServer(t, addr, EventCodec(), WithMaxConns(2))
	c1, r1 := dialRecv(t, srv.Addr(), EventCodec())
	_, _ = dialRecv(t, srv.Addr(), EventCodec())
	extra := rawDial(t, srv.Addr())
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := extra.Read(make([]byte, 1)); err == nil {
		t.Fatal("third connection was served")
	}
	checkEcho(t, c1, r1, EventCodec(), [][]byte{[]byte("ok")})
	if n := len(srv.Conns()); n != 2 {
		t.Fatalf("%d connections open", n)
	}
}

// A client with retries off gives up at once; with a bound it reports
// ErrRetriesExhausted after that many attempts.
func TestClientRetries(t *testing.T) {
	addr := "unix://" + shortTempDir(t) + "/nobody.sock"
	if _, err := Dial(context.Background(), addr); err == nil {
		t.Fatal("dial to nothing succeeded")
	}
	var attempts atomic.Int32
	cl, err := NewClient(addr, WithRetry(time.Millisecond, 3), WithBackoff(4*time.Millisecond, true))
	if err != nil {
		t.Fatal(err)
	}
	cl.OnError(func(error) { attempts.Add(1) })
	err = cl.Connect(context.Background())
	if !errors.Is(err, ErrRetriesExhausted) || attempts.Load() != 4 {
		t.Fatalf("err %v after %d attempts; want ErrRetriesExhausted after 4", err, attempts.Load())
	}
	cl.Close()
}

// floodNeverReader starts a server with opts, connects a peer that never
// reads, and emits 32 KiB events to it from the server until one fails;
// that must be ErrBackpressure. It returns the server's connection.
func floodNeverReader(t *testing.T, opts ...Option) *Conn {
	t.Helper()
	srv, err := Listen("unix://"+shortTempDir(t)+"/s.sock", opts...)
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan *Conn, 1)
	srv.OnConnect(func(c *Conn) { conns <- c })
	startServer(t, srv)
	rawDial(t, srv.Addr()) // connects, never reads
	c := <-conns
	chunk := make([]byte, 32<<10)
	var err2 error
	for i := 0; i < 10000 && err2 == nil; i++ {
		err2 = c.Emit("flood", chunk)
	}
	if !errors.Is(err2, ErrBackpressure) {
		t.Fatalf("flooding a peer that never reads ended with %v", err2)
	}
	return c
}

// Backpressure: a peer that never reads fills its connection's queue up to
// MaxPending; then Refuse returns ErrBackpressure and Disconnect closes the
// peer, while memory stays bounded.
func TestBackpressurePolicies(t *testing.T) {
	for _, p := range []Policy{Refuse, Disconnect, Block} {
		t.Run(fmt.Sprint(p), func(t *testing.T) {
			c := floodNeverReader(t, WithMaxPending(256<<10, p, 50*time.Millisecond), WithCodec(EventCodec().WithMaxFrame(64<<10)))
			if c.Pending() > 256<<10 {
				t.Fatalf("%d bytes pending, bound is %d", c.Pending(), 256<<10)
			}
			if p == Disconnect {
				select {
				case <-c.Done():
				case <-time.After(5 * time.Second):
					t.Fatal("slow peer not disconnected")
				}
			}
		})
	}
}

// With no bound given, Block keeps a short queue (1 MiB) and Refuse a long
// one (16 MiB): a peer that never reads stops a Block writer after about
// 1 MiB and a Refuse writer only much later.
func TestBackpressureDefaultBounds(t *testing.T) {
	for _, tc := range []struct {
		p        Policy
		min, max int
	}{
		{Block, 1<<20 - 64<<10, 1 << 20},
		{Refuse, 16<<20 - 64<<10, 16 << 20},
	} {
		t.Run(fmt.Sprint(tc.p), func(t *testing.T) {
			c := floodNeverReader(t, WithMaxPending(0, tc.p, 50*time.Millisecond))
			if n := c.Pending(); n < tc.min || n > tc.max {
				t.Fatalf("%d bytes pending when refused; want %d to %d", n, tc.min, tc.max)
			}
		})
	}
}

// A message larger than the pending bound (and within the max frame) goes
// out whole once nothing else is queued.
func TestFrameLargerThanMaxPending(t *testing.T) {
	addr := "unix://" + shortTempDir(t) + "/s.sock"
	codec := EventCodec().WithMaxFrame(4 << 20)
	srv, err := Listen(addr, WithCodec(codec), WithMaxPending(64<<10, Refuse, 0))
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan *Conn, 1)
	srv.OnConnect(func(c *Conn) { conns <- c })
	startServer(t, srv)
	_, r := dialRecv(t, srv.Addr(), codec)
	c := <-conns
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if err := c.Emit("big", big); err != nil {
		t.Fatalf("1 MiB message into an empty queue bounded at 64 KiB: %v", err)
	}
	r.wait(t, 10*time.Second, "the 1 MiB message", func() bool { return len(r.msgs) == 1 })
	if m := r.msgs[0]; m.Event != "big" || !bytes.Equal(m.Data, big) {
		t.Fatalf("got %q with %d bytes", m.Event, len(m.Data))
	}
}
