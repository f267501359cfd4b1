package goipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/udp"
	"github.com/seed-fc4a2f4b/goipc/unix"
)

func TestAbstractSocket(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("abstract sockets are Linux-only")
	}
	addr := fmt.Sprintf("unix://@goipc-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	srv := echoServer(t, addr, EventCodec())
	if srv.Addr() != addr {
		t.Fatalf("Addr() = %q, want %q", srv.Addr(), addr)
	}
	cl, r := dialRecv(t, addr, EventCodec())
	checkEcho(t, cl, r, EventCodec(), [][]byte{[]byte("abstract")})
}

func TestPeerCred(t *testing.T) {
	addr := "unix://" + shortTempDir(t) + "/s.sock"
	srv, err := Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	type cred struct {
		uid, gid uint32
		pid      int32
		err      error
	}
	got := make(chan cred, 1)
	srv.OnConnect(func(c *Conn) {
		cr, err := c.PeerCred()
		got <- cred{cr.UID, cr.GID, cr.PID, err}
	})
	startServer(t, srv)
	dialRecv(t, srv.Addr(), EventCodec())
	select {
	case c := <-got:
		if c.err != nil || c.uid != uint32(os.Getuid()) || c.gid != uint32(os.Getgid()) || (runtime.GOOS == "linux" && c.pid != int32(os.Getpid())) {
			t.Fatalf("peer cred %+v, want uid %d gid %d pid %d", c, os.Getuid(), os.Getgid(), os.Getpid())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
	}
}

func TestReusePort(t *testing.T) {
	srv := echoServer(t, "tcp://127.0.0.1:0", EventCodec(), WithReusePort(2))
	if reusePortSupported && len(srv.lns) != 2 {
		t.Fatalf("%d listeners, want 2", len(srv.lns))
	}
	for i := range 6 {
		cl, r := dialRecv(t, srv.Addr(), EventCodec())
		checkEcho(t, cl, r, EventCodec(), [][]byte{[]byte(fmt.Sprint("conn ", i))})
	}
}

func TestTCPPortZeroResolved(t *testing.T) {
	srv := echoServer(t, "tcp://127.0.0.1:0", EventCodec())
	a, err := parseAddr(srv.Addr(), unix.Namespace{})
	if err != nil {
		t.Fatal(err)
	}
	if _, port, _ := net.SplitHostPort(a.addr); port == "0" || port == "" {
		t.Fatalf("Addr() = %q still has port 0", srv.Addr())
	}
}

// A message too large for one datagram is an error to the sender, never a
// silent drop; the next message still goes through.
func TestUDPTooLarge(t *testing.T) {
	srv := echoServer(t, "udp://127.0.0.1:0", EventCodec())
	cl, r := dialRecv(t, srv.Addr(), EventCodec())
	err := cl.Emit("big", make([]byte, udp.MaxDatagram4))
	if !errors.Is(err, udp.ErrTooLarge) {
		t.Fatalf("oversized emit: %v, want udp.ErrTooLarge", err)
	}
	checkEcho(t, cl, r, EventCodec(), [][]byte{[]byte("small")})
}

// A UDP server can emit to an address it has not heard from.
func TestUDPPeer(t *testing.T) {
	srv := echoServer(t, "udp://127.0.0.1:0", EventCodec())
	cl, r := dialRecv(t, srv.Addr(), EventCodec())
	local := cl.Conn().LocalAddr().String()
	c, err := srv.Peer(local)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Emit("hi", []byte("from server")); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 5*time.Second, "server-initiated message", func() bool { return len(r.msgs) == 1 })
	if r.msgs[0].Event != "hi" || string(r.msgs[0].Data) != "from server" {
		t.Fatalf("got %q %q", r.msgs[0].Event, r.msgs[0].Data)
	}
}

// Everything closed reports errors matching net.ErrClosed.
func TestClosedErrors(t *testing.T) {
	addr := "unix://" + shortTempDir(t) + "/s.sock"
	srv := echoServer(t, addr, EventCodec())
	conns := make(chan *Conn, 1)
	srv.OnConnect(func(c *Conn) { conns <- c })
	cl, _ := dialRecv(t, srv.Addr(), EventCodec())
	sc := <-conns
	sc.Close()
	<-sc.Done()
	if err := sc.Emit("x", nil); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("emit on closed server conn: %v", err)
	}
	cl.Close()
	if err := cl.Emit("x", nil); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("emit on closed client: %v", err)
	}
	if _, err := cl.Request(context.Background(), "x", nil); err == nil {
		t.Fatal("request on closed client succeeded")
	}
}

func TestBadAddresses(t *testing.T) {
	for _, a := range []string{"", "world", "unix://relative/path", "tcp://nohostport", "udp://1.2.3.4", "ftp://x:1", "ipc://a/b", "ipc://"} {
		if _, err := Listen(a); !errors.Is(err, ErrBadAddress) {
			t.Errorf("Listen(%q): %v, want ErrBadAddress", a, err)
		}
		if _, err := NewClient(a); !errors.Is(err, ErrBadAddress) {
			t.Errorf("NewClient(%q): %v, want ErrBadAddress", a, err)
		}
	}
}
