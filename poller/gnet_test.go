//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package poller

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
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
