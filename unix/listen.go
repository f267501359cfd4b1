package unix

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// probeTimeout bounds the connect used to tell a live socket from a stale one.
const probeTimeout = time.Second

// DefaultSocketMode is the socket file mode Listen applies when
// ListenOptions.Mode is zero: owner read/write only.
const DefaultSocketMode os.FileMode = 0o600

// ListenOptions configures Listen. The zero value is valid.
type ListenOptions struct {
	// Mode is applied to the socket file with chmod right after bind. Zero
	// means DefaultSocketMode (0600). Only permission bits are used. Ignored
	// for abstract names.
	Mode os.FileMode
	// EnsureRoot calls EnsureRoot(filepath.Dir(path)) before binding. Set it
	// for goipc's default and ipc:// roots. Ignored for abstract names.
	EnsureRoot bool
}

// Listener is a Unix domain socket listener that unlinks its socket file
// safely. It wraps a *net.UnixListener whose own unlink-on-close is disabled.
// Its methods are safe for concurrent use.
type Listener struct {
	ln       *net.UnixListener
	path     string
	abstract bool
	fi       os.FileInfo // the socket file as bound; nil for abstract names

	closeOnce sync.Once
	closeErr  error
}

// Listen binds a Unix domain stream socket at path and listens on it.
//
// A path starting with '@' is a Linux abstract name: no file is created or
// removed and opts are ignored; on other systems it fails with
// ErrAbstractUnsupported. A path longer than sun_path allows (107 bytes on
// Linux and Windows, 103 on darwin and the BSDs; 108 for Linux abstract names
// including the '@') fails with ErrPathTooLong.
//
// Before binding, if something exists at path:
//
//   - a socket with a live listener (a connect within one second succeeds or
//     times out) fails with an error wrapping both ErrAddrInUse and
//     syscall.EADDRINUSE. The probe is a real connection: the live server
//     accepts a connection that closes without sending a byte;
//   - a socket nobody listens on (connect refused) is a stale socket left by
//     a crashed server: it is unlinked (after re-checking it is the same
//     socket) and the bind proceeds;
//   - anything else (regular file, directory, symlink, FIFO...) fails with
//     ErrNotSocket and is left untouched. Nothing is ever removed
//     recursively.
//
// After bind the socket file is chmodded to opts.Mode (default 0600). Between
// bind and chmod the file briefly has the mode derived from the process umask
// (typically 0755 & ~umask); a client could connect in that window if the
// directory lets it reach the file. With opts.EnsureRoot (or any 0700
// directory) no other user can, which closes the window for ipc:// paths.
// Changing the process-wide umask is deliberately avoided.
func Listen(path string, opts ListenOptions) (*Listener, error) {
	abstract, err := checkPath(path)
	if err != nil {
		return nil, err
	}
	addr := &net.UnixAddr{Name: path, Net: "unix"}
	if abstract {
		ln, err := net.ListenUnix("unix", addr)
		if err != nil {
			return nil, mapBindErr(path, err)
		}
		return &Listener{ln: ln, path: path, abstract: true}, nil
	}

	if opts.EnsureRoot {
		if err := EnsureRoot(filepath.Dir(path)); err != nil {
			return nil, err
		}
	}
	if err := reclaim(path); err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", addr)
	if err != nil {
		return nil, mapBindErr(path, err)
	}
	ln.SetUnlinkOnClose(false)
	l := &Listener{ln: ln, path: path}

	fi, err := os.Lstat(path)
	if err == nil && fi.Mode().Type() != fs.ModeSocket {
		err = fmt.Errorf("%w: %s changed to mode %v right after bind", ErrNotSocket, path, fi.Mode())
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("unix: listen %s: %w", path, err)
	}
	l.fi = fi
	mode := opts.Mode.Perm()
	if mode == 0 {
		mode = DefaultSocketMode
	}
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return nil, fmt.Errorf("unix: listen %s: %w", path, err)
	}
	if fi, err := os.Lstat(path); err == nil && os.SameFile(fi, l.fi) {
		l.fi = fi // refresh after chmod
	}
	return l, nil
}

// reclaim clears path for bind: nothing there, or a stale socket it unlinks.
func reclaim(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unix: listen %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%w: %s has mode %v", ErrNotSocket, path, fi.Mode())
	}
	c, err := net.DialTimeout("unix", path, probeTimeout)
	if err == nil {
		c.Close()
		return addrInUse(path)
	}
	switch {
	case isConnRefused(err):
		// Stale: fall through to unlink.
	case errors.Is(err, fs.ErrNotExist):
		return nil // vanished meanwhile
	case isTimeout(err):
		return addrInUse(path) // a listener with a full backlog
	default:
		return fmt.Errorf("unix: listen %s: probing existing socket: %w", path, err)
	}
	// Unlink only the very socket we probed.
	now, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unix: listen %s: %w", path, err)
	}
	if now.Mode().Type() != fs.ModeSocket || !os.SameFile(fi, now) {
		return addrInUse(path) // replaced while we probed: someone else is binding
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unix: listen %s: removing stale socket: %w", path, err)
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EAGAIN)
}

func addrInUse(path string) error {
	return fmt.Errorf("%w: %s: %w", ErrAddrInUse, path, os.NewSyscallError("bind", syscall.EADDRINUSE))
}

func mapBindErr(path string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: %s: %w", ErrAddrInUse, path, err)
	}
	return fmt.Errorf("unix: listen %s: %w", path, err)
}

// checkPath validates a socket path for this platform and reports whether it
// is an abstract name.
func checkPath(path string) (abstract bool, err error) {
	if path == "" {
		return false, fmt.Errorf("unix: empty socket path: %w", os.NewSyscallError("bind", syscall.EINVAL))
	}
	if strings.IndexByte(path, 0) >= 0 {
		return false, fmt.Errorf("unix: socket path %q contains NUL: %w", path, os.NewSyscallError("bind", syscall.EINVAL))
	}
	if path[0] == '@' {
		if !abstractSupported {
			return true, fmt.Errorf("%w: %q", ErrAbstractUnsupported, path)
		}
		if len(path) > sunPathLen {
			return true, fmt.Errorf("%w: abstract name %q is %d bytes, limit %d", ErrPathTooLong, path, len(path), sunPathLen)
		}
		return true, nil
	}
	if len(path) > sunPathLen-1 {
		return false, fmt.Errorf("%w: %q is %d bytes, limit %d (sun_path %d including NUL)", ErrPathTooLong, path, len(path), sunPathLen-1, sunPathLen)
	}
	return false, nil
}

// Accept waits for and returns the next connection, a *net.UnixConn.
func (l *Listener) Accept() (net.Conn, error) { return l.ln.AcceptUnix() }

// AcceptUnix waits for and returns the next connection.
func (l *Listener) AcceptUnix() (*net.UnixConn, error) { return l.ln.AcceptUnix() }

// Addr returns the listener's address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Path returns the path (or '@' abstract name) the listener is bound to.
func (l *Listener) Path() string { return l.path }

// Abstract reports whether the listener uses a Linux abstract name.
func (l *Listener) Abstract() bool { return l.abstract }

// SetDeadline sets the deadline for Accept, as net.UnixListener.SetDeadline.
func (l *Listener) SetDeadline(t time.Time) error { return l.ln.SetDeadline(t) }

// SyscallConn returns a raw network connection for fd-level access (for
// example to hand the listening socket to an event loop). The fd stays owned
// by the Listener.
func (l *Listener) SyscallConn() (syscall.RawConn, error) { return l.ln.SyscallConn() }

// File returns a duplicate of the listening socket as an *os.File; closing
// one does not affect the other. As with net.UnixListener.File the caller
// owns the returned file.
func (l *Listener) File() (*os.File, error) { return l.ln.File() }

// UnixListener returns the wrapped listener, for APIs that need the concrete
// type. Its unlink-on-close is disabled: close the Listener, not the inner
// listener, or the socket file is left behind (as a stale socket, which the
// next Listen reclaims).
func (l *Listener) UnixListener() *net.UnixListener { return l.ln }

// Close stops listening and removes the socket file, but only if the file at
// Path is still the socket this Listener bound (same device, inode and
// modification time). A socket that a newer server has since bound at the
// same path is never removed; neither is anything that is not a socket.
// Abstract names have no file. Close is idempotent: later calls return the
// first call's result.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		err := l.ln.Close()
		if !l.abstract && l.fi != nil {
			if rerr := l.unlinkOwn(); rerr != nil && err == nil {
				err = rerr
			}
		}
		l.closeErr = err
	})
	return l.closeErr
}

func (l *Listener) unlinkOwn() error {
	now, err := os.Lstat(l.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("unix: close %s: %w", l.path, err)
	}
	if now.Mode().Type() != fs.ModeSocket || !os.SameFile(now, l.fi) || !now.ModTime().Equal(l.fi.ModTime()) {
		return nil // not ours any more
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unix: close %s: %w", l.path, err)
	}
	return nil
}

// Dial connects to the Unix domain stream socket at path. A leading '@'
// selects a Linux abstract name (ErrAbstractUnsupported elsewhere); paths too
// long for sun_path fail with ErrPathTooLong before any syscall. ctx bounds
// the connect; connection errors are the standard *net.OpError (so
// errors.Is(err, syscall.ECONNREFUSED) and friends work). Safe for concurrent
// use.
func Dial(ctx context.Context, path string) (*net.UnixConn, error) {
	if _, err := checkPath(path); err != nil {
		return nil, err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	return c.(*net.UnixConn), nil
}
