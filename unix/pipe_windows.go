//go:build windows

package unix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Named pipes ride on the Go runtime's I/O completion port: since Go 1.25,
// os.NewFile on a handle opened with FILE_FLAG_OVERLAPPED associates it
// with the runtime's IOCP, so File.Read and File.Write park the goroutine
// instead of an OS thread, File.SetDeadline works, and File.Close cancels
// pending I/O (CancelIoEx) for pipes. Only ConnectNamedPipe, which os has
// no wrapper for, is done by hand with an OVERLAPPED and an event.

// Dial retry pacing while every instance of a pipe is busy.
const (
	pipeBusyMinWait = time.Millisecond
	pipeBusyMaxWait = 50 * time.Millisecond
)

// pipeAddr is the net.Addr of a pipe listener and both ends of a pipe
// connection: the full pipe path.
type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

// DefaultPipeSDDL returns the security descriptor ListenPipe gives a pipe
// when PipeOptions.SDDL is empty: "D:P(A;;GA;;;<SID>)", a protected DACL
// granting GENERIC_ALL to the user of the process token and to nobody else.
// The default named pipe DACL would also let Everyone and the anonymous
// account read; this one does not.
func DefaultPipeSDDL() (string, error) {
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return "", fmt.Errorf("unix: pipe security: token user: %w", err)
	}
	return "D:P(A;;GA;;;" + tu.User.Sid.String() + ")", nil
}

// pipeSecurity builds the SECURITY_ATTRIBUTES for sddl (empty: default).
func pipeSecurity(sddl string) (*windows.SecurityAttributes, error) {
	if sddl == "" {
		var err error
		if sddl, err = DefaultPipeSDDL(); err != nil {
			return nil, err
		}
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return nil, fmt.Errorf("unix: pipe security descriptor %q: %w", sddl, err)
	}
	sa := &windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	return sa, nil
}

// ListenPipe creates the local named pipe name (a bare name or a full
// `\\.\pipe\` path, see PipePath) and returns a listener for it.
//
// Every instance is created with PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
// byte type and read mode, PIPE_WAIT, PIPE_REJECT_REMOTE_CLIENTS (only
// local clients), unlimited instances, opts' buffer sizes and opts' security
// descriptor (by default the current user only, see DefaultPipeSDDL). The
// first instance carries FILE_FLAG_FIRST_PIPE_INSTANCE: if any instance of
// the name exists already, ListenPipe fails with an error wrapping
// ErrAddrInUse (and syscall.EADDRINUSE) instead of joining someone else's
// pipe. The DACL is what stops another user from creating instances of a
// name we hold; nothing stops a process from taking a free name first, so
// a client trusts whichever server created the name.
//
// The listener keeps one unconnected instance waiting at all times: Accept
// connects it, creates the next one before returning, and wraps the
// connected one in a net.Conn whose Read and Write go through the runtime
// poller and which supports deadlines. A client arriving while every
// instance is connected sees ERROR_PIPE_BUSY and waits (DialPipe retries).
// Accept may be called from several goroutines (they are served one at a
// time); Close interrupts a pending Accept, which returns an error wrapping
// net.ErrClosed. While an Accept waits it occupies one OS thread.
func ListenPipe(name string, opts PipeOptions) (net.Listener, error) {
	path, err := PipePath(name)
	if err != nil {
		return nil, err
	}
	in, out, err := opts.buffers()
	if err != nil {
		return nil, err
	}
	sa, err := pipeSecurity(opts.SDDL)
	if err != nil {
		return nil, err
	}
	path16, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadPipeName, name, err)
	}
	l := &pipeListener{path: path, path16: path16, sa: sa, in: in, out: out, next: windows.InvalidHandle}
	if l.next, err = l.create(true); err != nil {
		return nil, err
	}
	if l.connEv, err = windows.CreateEvent(nil, 1, 0, nil); err != nil {
		windows.CloseHandle(l.next)
		return nil, os.NewSyscallError("CreateEvent", err)
	}
	if l.closeEv, err = windows.CreateEvent(nil, 1, 0, nil); err != nil {
		windows.CloseHandle(l.next)
		windows.CloseHandle(l.connEv)
		return nil, os.NewSyscallError("CreateEvent", err)
	}
	return l, nil
}

// pipeListener implements net.Listener over named pipe instances.
type pipeListener struct {
	path    string
	path16  *uint16
	sa      *windows.SecurityAttributes
	in, out uint32
	closeEv windows.Handle // manual reset; set by Close, read by Accept
	closed  atomic.Bool

	// mu serializes Accept, and Close's teardown after an Accept in
	// flight has seen closeEv. It guards next and connEv.
	mu     sync.Mutex
	next   windows.Handle // the unconnected instance, or InvalidHandle
	connEv windows.Handle // manual reset; signals ConnectNamedPipe
}

// create makes one pipe instance.
func (l *pipeListener) create(first bool) (windows.Handle, error) {
	flags := uint32(windows.PIPE_ACCESS_DUPLEX | windows.FILE_FLAG_OVERLAPPED)
	if first {
		flags |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
	}
	mode := uint32(windows.PIPE_TYPE_BYTE | windows.PIPE_READMODE_BYTE | windows.PIPE_WAIT | windows.PIPE_REJECT_REMOTE_CLIENTS)
	h, err := windows.CreateNamedPipe(l.path16, flags, mode, windows.PIPE_UNLIMITED_INSTANCES, l.out, l.in, 0, l.sa)
	if err == nil {
		return h, nil
	}
	serr := os.NewSyscallError("CreateNamedPipe", err)
	if first && (err == windows.ERROR_ACCESS_DENIED || err == windows.ERROR_PIPE_BUSY) {
		// With FILE_FLAG_FIRST_PIPE_INSTANCE, ERROR_ACCESS_DENIED means an
		// instance of the name exists already (ours, or anyone's).
		return windows.InvalidHandle, fmt.Errorf("%w: %s: %w (%w)", ErrAddrInUse, l.path, syscall.EADDRINUSE, serr)
	}
	return windows.InvalidHandle, fmt.Errorf("unix: pipe %s: %w", l.path, serr)
}

// Addr returns the full pipe path; its Network is "pipe".
func (l *pipeListener) Addr() net.Addr { return pipeAddr(l.path) }

func (l *pipeListener) closedErr() error {
	return &net.OpError{Op: "accept", Net: "pipe", Addr: pipeAddr(l.path), Err: net.ErrClosed}
}

// Accept waits for a client and returns the connection.
func (l *pipeListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.closed.Load() {
			return nil, l.closedErr()
		}
		if l.next == windows.InvalidHandle {
			h, err := l.create(false)
			if err != nil {
				// Out of resources, most likely: let the caller back off.
				return nil, temporaryError{&net.OpError{Op: "accept", Net: "pipe", Addr: pipeAddr(l.path), Err: err}}
			}
			l.next = h
		}
		ok, err := l.connect(l.next)
		if err != nil {
			return nil, err
		}
		if !ok {
			// The client left before we saw it; the instance is reset and
			// ready for the next one.
			continue
		}
		h := l.next
		l.next = windows.InvalidHandle
		// Create the next instance before handing this one out, so the
		// name never disappears between two Accepts.
		if nh, err := l.create(false); err == nil {
			l.next = nh
		}
		f := os.NewFile(uintptr(h), l.path)
		if f == nil {
			windows.CloseHandle(h)
			return nil, &net.OpError{Op: "accept", Net: "pipe", Addr: pipeAddr(l.path), Err: windows.ERROR_INVALID_HANDLE}
		}
		return newPipeConn(f, l.path), nil
	}
}

// connect waits for a client on h. It reports false, with h reset for
// reuse, when a client connected and went away at once; an error when the
// listener closed or ConnectNamedPipe failed. Called with l.mu held.
func (l *pipeListener) connect(h windows.Handle) (bool, error) {
	ov := new(windows.Overlapped) // on the heap, alive until completion
	defer runtime.KeepAlive(ov)
	ov.HEvent = l.connEv
	if err := windows.ResetEvent(l.connEv); err != nil {
		return false, os.NewSyscallError("ResetEvent", err)
	}
	err := windows.ConnectNamedPipe(h, ov)
	switch err {
	case nil, windows.ERROR_PIPE_CONNECTED:
		return true, nil
	case windows.ERROR_NO_DATA:
		// A client opened and closed the instance before we connected.
		windows.DisconnectNamedPipe(h)
		return false, nil
	case windows.ERROR_IO_PENDING:
	default:
		return false, &net.OpError{Op: "accept", Net: "pipe", Addr: pipeAddr(l.path), Err: os.NewSyscallError("ConnectNamedPipe", err)}
	}
	ev, werr := windows.WaitForMultipleObjects([]windows.Handle{l.connEv, l.closeEv}, false, windows.INFINITE)
	var n uint32
	if werr != nil || ev != windows.WAIT_OBJECT_0 {
		// Closed (or the wait failed): cancel, and wait for the kernel to
		// let go of ov before it can be freed.
		windows.CancelIoEx(h, ov)
		windows.GetOverlappedResult(h, ov, &n, true)
		if werr != nil && !l.closed.Load() {
			return false, &net.OpError{Op: "accept", Net: "pipe", Addr: pipeAddr(l.path), Err: os.NewSyscallError("WaitForMultipleObjects", werr)}
		}
		return false, l.closedErr()
	}
	switch err := windows.GetOverlappedResult(h, ov, &n, false); err {
	case nil, windows.ERROR_PIPE_CONNECTED:
		return true, nil
	case windows.ERROR_NO_DATA, windows.ERROR_BROKEN_PIPE, windows.ERROR_PIPE_NOT_CONNECTED:
		windows.DisconnectNamedPipe(h)
		return false, nil
	default:
		return false, &net.OpError{Op: "accept", Net: "pipe", Addr: pipeAddr(l.path), Err: os.NewSyscallError("ConnectNamedPipe", err)}
	}
}

// Close stops listening: a pending Accept returns, the waiting instance is
// closed, and the name disappears once every accepted connection has been
// closed too. Accepted connections stay open. A second Close returns an
// error wrapping net.ErrClosed.
func (l *pipeListener) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return &net.OpError{Op: "close", Net: "pipe", Addr: pipeAddr(l.path), Err: net.ErrClosed}
	}
	windows.SetEvent(l.closeEv)
	l.mu.Lock() // a pending Accept has seen closeEv and returned
	defer l.mu.Unlock()
	if l.next != windows.InvalidHandle {
		windows.CloseHandle(l.next)
		l.next = windows.InvalidHandle
	}
	// Only Accept uses the events, under mu, and an Accept that gets mu
	// after this sees closed and returns without touching them.
	windows.CloseHandle(l.connEv)
	windows.CloseHandle(l.closeEv)
	return nil
}

// temporaryError marks an Accept failure worth retrying after a pause.
type temporaryError struct{ error }

func (e temporaryError) Temporary() bool { return true }
func (e temporaryError) Timeout() bool   { return false }
func (e temporaryError) Unwrap() error   { return e.error }

// DialPipe connects to the local named pipe name (a bare name or a full
// `\\.\pipe\` path, see PipePath). While every instance is busy
// (ERROR_PIPE_BUSY) it retries, pausing 1 ms doubling to 50 ms, until ctx
// ends. A pipe that does not exist fails at once with an error for which
// errors.Is(err, fs.ErrNotExist) holds.
//
// The handle is opened with FILE_FLAG_OVERLAPPED (Read and Write go through
// the runtime poller; deadlines work) and SECURITY_SQOS_PRESENT |
// SECURITY_IDENTIFICATION, so the server may learn who the client is but
// can never impersonate it. The returned net.Conn is safe for one reader
// and one writer at a time, like a net.Conn; it has no CloseWrite: a byte
// mode pipe cannot be half-closed.
func DialPipe(ctx context.Context, name string) (net.Conn, error) {
	path, err := PipePath(name)
	if err != nil {
		return nil, err
	}
	path16, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadPipeName, name, err)
	}
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "pipe", Addr: pipeAddr(path), Err: err}
	}
	wait := pipeBusyMinWait
	var timer *time.Timer
	for {
		if err := ctx.Err(); err != nil {
			return nil, opErr(err)
		}
		h, err := windows.CreateFile(path16, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil,
			windows.OPEN_EXISTING, windows.FILE_FLAG_OVERLAPPED|windows.SECURITY_SQOS_PRESENT|windows.SECURITY_IDENTIFICATION, 0)
		if err == nil {
			f := os.NewFile(uintptr(h), path)
			if f == nil {
				windows.CloseHandle(h)
				return nil, opErr(windows.ERROR_INVALID_HANDLE)
			}
			return newPipeConn(f, path), nil
		}
		if err != windows.ERROR_PIPE_BUSY {
			return nil, opErr(os.NewSyscallError("CreateFile", err))
		}
		// x/sys/windows has no WaitNamedPipe, and WaitNamedPipe could not
		// be cancelled by ctx anyway: poll instead, as go-winio does.
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil, opErr(ctx.Err())
		case <-timer.C:
		}
		wait = min(2*wait, pipeBusyMaxWait)
	}
}

// pipeConn is a connected pipe instance as a net.Conn. Read, Write and
// Close come from os.File, whose handle is on the runtime's IOCP.
type pipeConn struct {
	f    *os.File
	addr pipeAddr
}

func newPipeConn(f *os.File, path string) *pipeConn {
	return &pipeConn{f: f, addr: pipeAddr(path)}
}

// opError turns os.File errors into the net.Conn convention: io.EOF as is,
// everything else a *net.OpError, with net.ErrClosed for a closed conn and
// os.ErrDeadlineExceeded (a timeout) for an expired deadline.
func (c *pipeConn) opError(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, os.ErrClosed) {
		err = net.ErrClosed
	}
	return &net.OpError{Op: op, Net: "pipe", Source: c.addr, Addr: c.addr, Err: err}
}

// Read reads from the pipe; io.EOF once the peer has closed and every byte
// it wrote has been read.
func (c *pipeConn) Read(b []byte) (int, error) {
	n, err := c.f.Read(b)
	return n, c.opError("read", err)
}

// Write writes to the pipe, blocking while the pipe's buffer is full.
func (c *pipeConn) Write(b []byte) (int, error) {
	n, err := c.f.Write(b)
	return n, c.opError("write", err)
}

// Close closes the handle, cancelling pending Read and Write calls. Bytes
// already written stay readable by the peer.
func (c *pipeConn) Close() error { return c.opError("close", c.f.Close()) }

func (c *pipeConn) LocalAddr() net.Addr  { return c.addr }
func (c *pipeConn) RemoteAddr() net.Addr { return c.addr }

func (c *pipeConn) SetDeadline(t time.Time) error {
	return c.opError("set deadline", c.f.SetDeadline(t))
}

func (c *pipeConn) SetReadDeadline(t time.Time) error {
	return c.opError("set read deadline", c.f.SetReadDeadline(t))
}

func (c *pipeConn) SetWriteDeadline(t time.Time) error {
	return c.opError("set write deadline", c.f.SetWriteDeadline(t))
}

// SyscallConn gives access to the pipe handle (for example for
// GetNamedPipeClientProcessId) without taking it off the runtime's IOCP.
func (c *pipeConn) SyscallConn() (syscall.RawConn, error) { return c.f.SyscallConn() }
