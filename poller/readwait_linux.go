//go:build linux

package poller

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// readWaiter blocks until a socket has bytes (or an end) to read, without
// reading them and without a buffer: the goroutine engine waits with it
// while a connection is idle, so an idle connection holds no read buffer.
type readWaiter struct {
	rc    syscall.RawConn
	ready func(fd uintptr) bool
	b     [1]byte
}

// newReadWaiter returns a waiter for nc, or nil where there is none (TLS,
// which buffers inside crypto/tls, and anything but plain TCP and Unix
// stream sockets).
func newReadWaiter(nc net.Conn) *readWaiter {
	var sc syscall.Conn
	switch c := nc.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &readWaiter{rc: rc}
	// Level first, then the edge: a peek that finds bytes (or an end, or
	// an error for Read to report) returns at once; EAGAIN makes RawConn
	// wait for the poller's next readiness event and ask again. Peeking
	// rather than trusting readiness matters: bytes left in the socket by
	// an earlier read raise no new event.
	w.ready = func(fd uintptr) bool {
		for {
			_, _, errno := unix.Syscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&w.b[0])), 1,
				unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
			switch errno {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			}
			return true
		}
	}
	return w
}

// wait blocks until the socket is readable; an error means it is closed.
func (w *readWaiter) wait() error { return w.rc.Read(w.ready) }
