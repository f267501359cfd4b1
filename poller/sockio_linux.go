//go:build linux

package poller

import (
	"io"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sockIO does the socket I/O of a goroutine-engine connection on a plain
// TCP or Unix stream socket through its descriptor:
//   - wait blocks until the socket has input (or an end), without reading
//     it and without a buffer, so an idle connection holds no read buffer;
//   - read reads into the connection's read buffer;
//   - writev writes from the outbound queue.
//
// All three make raw system calls (unix.RawSyscall). The socket is
// non-blocking (the runtime's poller made it so), so none of them can
// block: where it would, it returns EAGAIN, and RawConn parks the
// goroutine on the poller until the socket is ready and then calls again.
// net.Conn's Read and Write use syscall.Syscall instead, which tells the
// scheduler that the thread may block (entersyscall, exitsyscall) and,
// the first time after every P of the process went idle, wakes the
// runtime's monitor thread (sysmon) with a futex; sysmon then runs and
// sleeps again on the same CPUs. A process that goes idle between
// messages, as a server with one request in flight does, paid that on
// every message: with the server in its own process on one CPU, sysmon's
// wake-ups, sleeps and yields were about a fifth of the server's samples,
// and raw calls raised round trips with 64 in flight by 47 % (see
// docs/BENCHMARKS.md, "Session 6").
//
// read and the writes (writev, writevNow) may run concurrently: the reader
// reads and waits; the writes run on whichever goroutine flushes the
// connection, the writer goroutine or the reader at the end of its input,
// one at a time.
type sockIO struct {
	nc net.Conn // for the addresses in errors
	rc syscall.RawConn

	// wait's peek: a byte to receive into (never read for real), and
	// whether the poller has reported the socket readable since wait began.
	peekFn func(fd uintptr) bool
	b      [1]byte
	polled bool

	// Busy polling (Config.BusyPoll): how long wait peeks before it
	// parks, and whether the connection is closing (then it parks at
	// once, and the poller reports the close).
	gov    spinGov // the spin's budget (0: none); whether a wait spins (not where spins mostly fail)
	halted atomic.Bool
	spins  atomic.Uint64 // spins begun: the tests' evidence

	// read's argument and results, for readFn (preallocated: a closure per
	// call would allocate).
	readFn func(fd uintptr) bool
	rp     []byte
	rn     int
	rerr   syscall.Errno

	// writev's argument and results, for writeFn.
	writeFn func(fd uintptr) bool
	iov     [2]unix.Iovec
	niov    int
	wwait   bool // wait for room (writev), or not (writevNow)
	wn      int
	werr    syscall.Errno
}

// newSockIO returns a sockIO for nc, or nil where the engine must use
// nc's own methods: TLS (which buffers inside crypto/tls) and anything but
// plain TCP and Unix stream sockets.
func newSockIO(nc net.Conn, spin time.Duration) *sockIO {
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
	s := &sockIO{nc: nc, rc: rc, gov: spinGov{budget: spin}}
	// Level first, then the edge: a peek that finds bytes (or an end, or
	// an error for read to report) returns at once; EAGAIN makes RawConn
	// wait for the poller's next readiness event and call again. Peeking
	// first rather than trusting readiness matters: bytes left in the
	// socket by an earlier read raise no new event. Called again, the
	// poller has just reported the socket readable, and the read that
	// follows finds out what there is: a second peek would be a system
	// call per wake-up for nothing. (A spurious report costs only that the
	// read waits with the buffer attached.) With busy polling, a peek that
	// finds nothing is repeated, yielding to the process's other
	// goroutines in between, until bytes come or the spin's time is up,
	// if gov lets the wait spin (not where spins mostly fail: spinGov).
	s.peekFn = func(fd uintptr) bool {
		if s.polled {
			return true
		}
		spinning := false
		for {
			if spinning {
				s.gov.poll()
			}
			_, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&s.b[0])), 1,
				unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
			switch {
			case errno == unix.EINTR:
				continue
			case errno != unix.EAGAIN:
				if spinning {
					s.gov.found()
				}
				return true // bytes, an end or an error: read finds out which
			case s.gov.budget > 0 && !s.halted.Load() && s.spinOn(&spinning):
				runtime.Gosched()
				continue
			}
			s.polled = true
			return false
		}
	}
	s.readFn = func(fd uintptr) bool {
		for {
			n, _, errno := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(s.rp))), uintptr(len(s.rp)))
			if errno != unix.EINTR {
				s.rn, s.rerr = int(n), errno
				return errno != unix.EAGAIN
			}
		}
	}
	s.writeFn = func(fd uintptr) bool {
		for {
			n, _, errno := unix.RawSyscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&s.iov[0])), uintptr(s.niov))
			if errno != unix.EINTR {
				s.wn, s.werr = int(n), errno
				return errno != unix.EAGAIN || !s.wwait
			}
		}
	}
	return s
}

// halt ends busy polling for good: the connection is closing. Safe from
// any goroutine.
func (s *sockIO) halt() { s.halted.Store(true) }

// spinOn reports whether a peek that found nothing is followed by
// another: at the first of a wait, if gov allows a spin, which then
// begins (*spinning); later, while the spin's budget lasts. On the reader.
func (s *sockIO) spinOn(spinning *bool) bool {
	if *spinning {
		return s.gov.more()
	}
	if !s.gov.begin() {
		return false
	}
	*spinning = true
	s.spins.Add(1)
	return true
}

// wait blocks until the socket is readable; an error means it is closed.
func (s *sockIO) wait() error {
	s.polled = false
	return s.rc.Read(s.peekFn)
}

// read reads into p as net.Conn's Read does: at least one byte, or io.EOF
// at the end, or an error.
func (s *sockIO) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.rp = p
	err := s.rc.Read(s.readFn)
	s.rp = nil
	switch {
	case err != nil:
		return 0, err // closed, or a deadline
	case s.rerr != 0:
		return 0, s.opError("read", s.rerr)
	case s.rn == 0:
		return 0, io.EOF
	}
	return s.rn, nil
}

// writev writes a then b with one writev(2), waiting for room while the
// socket is full, and returns how many bytes it wrote: possibly fewer
// than len(a)+len(b), in which case the caller writes the rest.
func (s *sockIO) writev(a, b []byte) (int, error) { return s.write(a, b, true) }

// writevNow is writev that never waits: on a full socket it writes what
// fits, possibly nothing.
func (s *sockIO) writevNow(a, b []byte) (int, error) { return s.write(a, b, false) }

func (s *sockIO) write(a, b []byte, wait bool) (int, error) {
	s.iov[0].Base, s.iov[0].Len = unsafe.SliceData(a), uint64(len(a))
	s.niov = 1
	if len(b) > 0 {
		s.iov[1].Base, s.iov[1].Len = unsafe.SliceData(b), uint64(len(b))
		s.niov = 2
	}
	s.wwait = wait
	err := s.rc.Write(s.writeFn)
	s.iov[0].Base, s.iov[1].Base = nil, nil
	switch {
	case err != nil:
		return 0, err
	case s.werr == unix.EAGAIN: // full, and not waiting
		return 0, nil
	case s.werr != 0:
		return 0, s.opError("writev", s.werr)
	}
	return s.wn, nil
}

// opError reports a failed call the way net.Conn's methods do.
func (s *sockIO) opError(op string, errno syscall.Errno) error {
	return &net.OpError{Op: op, Net: s.nc.LocalAddr().Network(), Source: s.nc.LocalAddr(), Addr: s.nc.RemoteAddr(), Err: os.NewSyscallError(op, errno)}
}
