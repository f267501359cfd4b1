//go:build linux

package poller

import (
	"bytes"
	"errors"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// An idle connection of the goroutine engine holds no read buffer: once
// its input is handled, the buffer is back on the engine's free list, and
// the next frame still arrives (through a buffer taken from the list).
func TestGoEngineIdleHoldsNoReadBuffer(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	h := newCollector()
	e, err := NewGoEngine(Config{Codec: codec}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cc, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Add(sc); err != nil {
		t.Fatal(err)
	}
	free := func() int {
		e.bmu.Lock()
		defer e.bmu.Unlock()
		return len(e.bufs)
	}
	waitFree := func(want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for free() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d free read buffers, want %d", free(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for i, msg := range []string{"one", "two", "three"} {
		f, _ := codec.Append(nil, []byte(msg))
		if _, err := cc.Write(f); err != nil {
			t.Fatal(err)
		}
		select {
		case <-h.got:
		case <-time.After(5 * time.Second):
			t.Fatalf("frame %d not delivered", i)
		}
		// Idle again: the one buffer this connection used is free.
		waitFree(1)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.frames) != 3 || string(h.frames[2]) != "three" {
		t.Fatalf("frames %q", h.frames)
	}
}

// sockPair returns the two ends of a connected socket of the network
// ("unix" or "tcp") and the listener's end's sockIO.
func sockPair(t *testing.T, network string) (s *sockIO, srv, peer net.Conn) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s.sock")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err = net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	srv, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if s = newSockIO(srv, 0); s == nil {
		t.Fatalf("no sockIO for a %T", srv)
	}
	return s, srv, peer
}

// sockIO's raw calls behave as net.Conn's methods: read gets what the peer
// wrote and then io.EOF; writev writes two pieces in order and, when the
// socket is full, waits for the peer to read and goes on, never losing or
// repeating a byte; a close from another goroutine ends a blocked read,
// wait or writev with net.ErrClosed.
func TestSockIO(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			s, srv, peer := sockPair(t, network)

			// Reads, then the end.
			go func() {
				peer.Write([]byte("hello"))
				peer.(interface{ CloseWrite() error }).CloseWrite()
			}()
			if err := s.wait(); err != nil {
				t.Fatal(err)
			}
			var got []byte
			p := make([]byte, 3)
			for {
				n, err := s.read(p)
				got = append(got, p[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					t.Fatal("read returned 0 bytes and no error")
				}
			}
			if string(got) != "hello" {
				t.Fatalf("read %q, want hello", got)
			}

			// 8 MiB in two pieces: far more than the socket holds, so
			// writev returns short counts and waits for room.
			a := make([]byte, 5<<20+3)
			b := make([]byte, 3<<20+1)
			for i := range a {
				a[i] = byte(i * 7)
			}
			for i := range b {
				b[i] = byte(i*13 + 1)
			}
			want := append(append([]byte(nil), a...), b...)
			read := make(chan []byte, 1)
			go func() {
				all, _ := io.ReadAll(peer)
				read <- all
			}()
			short := 0
			for off := 0; off < len(want); {
				var x, y []byte
				if off < len(a) {
					x, y = a[off:], b
				} else {
					x = b[off-len(a):]
				}
				n, err := s.writev(x, y)
				if err != nil {
					t.Fatal(err)
				}
				if n <= 0 {
					t.Fatalf("writev wrote %d", n)
				}
				if n < len(x)+len(y) {
					short++
				}
				off += n
			}
			if short == 0 {
				t.Fatal("every writev took all 8 MiB: the socket never filled, so waiting for room went untested")
			}
			srv.(interface{ CloseWrite() error }).CloseWrite()
			select {
			case all := <-read:
				if !bytes.Equal(all, want) {
					t.Fatalf("peer read %d bytes, want %d, or different ones", len(all), len(want))
				}
			case <-time.After(10 * time.Second):
				t.Fatal("peer never got the end")
			}
		})
	}
}

// writevNow never waits: into a socket whose peer does not read it
// writes what fits, then reports 0 bytes and no error; once the peer has
// read, it writes again. The peer gets every byte, in order.
func TestSockIOWritevNow(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			s, srv, peer := sockPair(t, network)
			srv.SetWriteDeadline(time.Now().Add(10 * time.Second)) // a writevNow that waited would fail, not hang
			p := make([]byte, 64<<10)
			var sent []byte
			full := false
			for i := 0; i < 1000 && !full; i++ { // 64 MiB at most: far more than a socket holds
				for j := range p {
					p[j] = byte(i + j)
				}
				n, err := s.writevNow(p[:32<<10], p[32<<10:])
				if err != nil {
					t.Fatal(err)
				}
				sent = append(sent, p[:n]...)
				full = n == 0
			}
			if !full {
				t.Fatal("the socket never filled")
			}
			got := make([]byte, len(sent))
			peer.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.ReadFull(peer, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, sent) {
				t.Fatal("the peer read other bytes than were written")
			}
			if n, err := s.writevNow([]byte("more"), nil); n != 4 || err != nil {
				t.Fatalf("after the peer read: writevNow = %d, %v", n, err)
			}
		})
	}
}

// A close from another goroutine ends a read, wait or writev blocked on the
// poller with an error that is net.ErrClosed.
func TestSockIOClosedWhileBlocked(t *testing.T) {
	for _, op := range []string{"wait", "read", "writev"} {
		t.Run(op, func(t *testing.T) {
			s, srv, _ := sockPair(t, "unix")
			done := make(chan error, 1)
			go func() {
				switch op {
				case "wait":
					done <- s.wait()
				case "read":
					_, err := s.read(make([]byte, 16))
					done <- err
				default:
					// The peer never reads: writev fills the socket, then
					// blocks.
					big := make([]byte, 1<<20)
					for {
						if _, err := s.writev(big, nil); err != nil {
							done <- err
							return
						}
					}
				}
			}()
			// Blocked or not yet: either way the close must end it.
			srv.Close()
			select {
			case err := <-done:
				if !errors.Is(err, net.ErrClosed) {
					t.Fatalf("%s after close: %v, want net.ErrClosed", op, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s still blocked after close", op)
			}
		})
	}
}

// A reset by the peer is a read error that names the call and wraps the
// errno, as net.Conn's is.
func TestSockIOReset(t *testing.T) {
	s, _, peer := sockPair(t, "tcp")
	if err := peer.(*net.TCPConn).SetLinger(0); err != nil {
		t.Fatal(err)
	}
	peer.Write([]byte("x"))
	peer.Close() // RST
	var err error
	p := make([]byte, 16)
	for range 3 { // the byte may come first
		if _, err = s.read(p); err != nil {
			break
		}
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "read" || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after reset: %v, want a read *net.OpError wrapping ECONNRESET", err)
	}
}

// read and writev allocate nothing.
func TestAllocsSockIO(t *testing.T) {
	s, _, peer := sockPair(t, "unix")
	p := make([]byte, 64)
	q := make([]byte, 64)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := s.writev(p[:32], p[32:]); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(peer, q); err != nil {
			t.Fatal(err)
		}
		if _, err := peer.Write(q); err != nil {
			t.Fatal(err)
		}
		if n, err := s.read(p); err != nil || n != 64 {
			t.Fatalf("read %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per writev and read, want 0", allocs)
	}
}
