//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package poller

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// gnet closes a connection with a bare io.EOF when a hang-up or error
// event comes without a readable one; the application must still be told
// of a reset, and of a peer that left in the middle of a frame.
func TestGnetCloseErr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dial := func() (local, peer *net.TCPConn) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		return s.(*net.TCPConn), c.(*net.TCPConn)
	}
	withFd := func(c *net.TCPConn, f func(fd int)) {
		rc, err := c.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		if err := rc.Control(func(fd uintptr) { f(int(fd)) }); err != nil {
			t.Fatal(err)
		}
	}

	// A healthy socket: EOF stays EOF, or becomes ErrUnexpectedEOF with a
	// partial frame buffered; other errors pass through.
	ok, okPeer := dial()
	defer ok.Close()
	defer okPeer.Close()
	withFd(ok, func(fd int) {
		if got := gnetCloseErr(io.EOF, fd, 0); got != io.EOF {
			t.Errorf("EOF, nothing buffered: %v, want io.EOF", got)
		}
		if got := gnetCloseErr(io.EOF, fd, 60); got != io.ErrUnexpectedEOF {
			t.Errorf("EOF, 60 bytes of a frame buffered: %v, want io.ErrUnexpectedEOF", got)
		}
		if got := gnetCloseErr(nil, fd, 60); got != io.ErrUnexpectedEOF {
			t.Errorf("nil, 60 bytes buffered: %v, want io.ErrUnexpectedEOF", got)
		}
		if got := gnetCloseErr(nil, fd, 0); got != nil {
			t.Errorf("nil, nothing buffered: %v, want nil", got)
		}
		other := errors.New("other")
		if got := gnetCloseErr(other, fd, 60); got != other {
			t.Errorf("another error: %v, want it unchanged", got)
		}
	})

	// A reset socket: the pending ECONNRESET is reported, buffered bytes
	// or not.
	for _, buffered := range []int{0, 60} {
		rst, rstPeer := dial()
		rstPeer.SetLinger(0)
		rstPeer.Close()
		withFd(rst, func(fd int) {
			// Wait (bounded) for the reset to arrive: POLLERR.
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			if n, err := unix.Poll(pfd, 10_000); err != nil || n != 1 || pfd[0].Revents&unix.POLLERR == 0 {
				t.Fatalf("waiting for the reset: n=%d err=%v revents=%#x", n, err, pfd[0].Revents)
			}
			if got := gnetCloseErr(io.EOF, fd, buffered); !errors.Is(got, syscall.ECONNRESET) {
				t.Errorf("reset, %d bytes buffered: %v, want ECONNRESET", buffered, got)
			}
		})
		rst.Close()
	}
}

// A loop connection whose socket fills up (the peer is not reading) keeps
// the rest queued; once the peer reads, the room waiter gets the loop to
// flush it, in order, with no housekeeper involved. A graceful close then
// reaches the peer as EOF: the waiter's duplicate of the socket does not
// keep it open.
func TestLoopSocketFullResumes(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	h := opener{make(chan *Conn, 1)}
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			e, err := NewLoopEngine(Config{Codec: codec, MaxPending: 64 << 20}, h, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			addr := serve(t, network, e)
			peer, err := net.Dial(network, addr.String())
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			var c *Conn
			select {
			case c = <-h.conns:
			case <-time.After(10 * time.Second):
				t.Fatal("no connection")
			}
			// 16 MiB in 4 KiB frames: far more than the socket holds.
			const frames, size = 4096, 4096
			var want bytes.Buffer
			for i := range frames {
				p := bytes.Repeat([]byte{byte(i)}, size)
				f, _ := codec.Append(nil, p)
				want.Write(f)
				if err := c.Write(f); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
			}
			if c.Pending() == 0 {
				t.Fatal("nothing queued: the socket took 16 MiB")
			}
			c.Close()
			peer.SetReadDeadline(time.Now().Add(20 * time.Second))
			got, err := io.ReadAll(peer)
			if err != nil {
				t.Fatalf("reading after %d bytes: %v", len(got), err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("peer read %d bytes, want %d in order", len(got), want.Len())
			}
			<-c.Done()
			if c.tr.(*gnetConn).roomFile == nil {
				t.Fatal("the room waiter never ran")
			}
		})
	}
}

// EngineAuto at GOMAXPROCS 1 serves the first AutoGoroutineConns
// connections open at once with goroutines and the rest on a loop; a
// slot freed by a close goes to the next connection. Both kinds echo.
func TestSplitEngine(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	h := &openTracker{echo: echo{codec}, opened: make(chan *Conn, AutoGoroutineConns+8), closed: make(chan error, AutoGoroutineConns+8)}
	e, err := NewServerEngine(Config{Codec: codec}, h, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, ok := e.(*splitEngine); !ok {
		t.Fatalf("EngineAuto at GOMAXPROCS 1: %T, want *splitEngine", e)
	}
	addr := serve(t, "unix", e)
	open := func() (net.Conn, *Conn) { return h.dial(t, addr) }
	onLoop := func(c *Conn) bool { _, ok := c.tr.(*gnetConn); return ok }
	echoes := func(nc net.Conn, i int) {
		want := fmt.Appendf(nil, "conn %d", i)
		f, _ := codec.Append(nil, want)
		if _, err := nc.Write(f); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(f))
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(nc, got); err != nil || !bytes.Equal(got, f) {
			t.Fatalf("conn %d: echo %q, %v", i, got, err)
		}
	}
	var first net.Conn
	for i := range AutoGoroutineConns + 3 {
		nc, c := open()
		if want := i >= AutoGoroutineConns; onLoop(c) != want {
			t.Fatalf("connection %d: on a loop %v, want %v", i, onLoop(c), want)
		}
		if i == 0 {
			first = nc
		}
		echoes(nc, i)
	}
	first.Close()
	select {
	case <-h.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("no OnClose")
	}
	if nc, c := open(); onLoop(c) {
		t.Fatal("a freed goroutine slot was not reused")
	} else {
		echoes(nc, -1)
	}
	if nc, c := open(); !onLoop(c) {
		t.Fatal("past AutoGoroutineConns, a connection is not on a loop")
	} else {
		echoes(nc, -2)
	}
}

// openTracker is echo that reports opens and closes.
type openTracker struct {
	echo
	opened chan *Conn
	closed chan error
}

func (h *openTracker) OnOpen(c *Conn)             { h.opened <- c }
func (h *openTracker) OnClose(c *Conn, err error) { h.closed <- err }

// dial connects to addr, closed when the test ends, and returns the
// connection with the server's end, failing the test if that does not
// open within 5 s.
func (h *openTracker) dial(t *testing.T, addr net.Addr) (net.Conn, *Conn) {
	t.Helper()
	nc, err := net.Dial(addr.Network(), addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	select {
	case c := <-h.opened:
		return nc, c
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not open the connection within 5 s")
		return nil, nil
	}
}
