package unix

import (
	"fmt"
	"net"
	"syscall"
)

// Cred is the identity of the process at the other end of a Unix domain
// socket, as the kernel recorded it when the connection was made (Linux: at
// connect/listen; the BSDs: at connect).
type Cred struct {
	UID uint32
	GID uint32
	// PID is the peer's process id, or -1 when the OS cannot tell
	// (FreeBSD, and darwin when LOCAL_PEERPID fails).
	PID int32
}

// PeerCred returns the credentials of the peer connected to the Unix domain
// socket fd. Linux uses SO_PEERCRED; darwin uses LOCAL_PEERCRED (uid and the
// first group) plus LOCAL_PEERPID; FreeBSD uses LOCAL_PEERCRED (PID -1).
// Elsewhere, including Windows, it returns an error wrapping ErrUnsupported.
// Kernel errors come back as *os.SyscallError. fd must stay open during the
// call; safe for concurrent use.
func PeerCred(fd int) (Cred, error) {
	return peerCred(fd)
}

// PeerCredConn returns the peer credentials of c, which must implement
// syscall.Conn (*net.UnixConn does). The fd is used through
// RawConn.Control, so it is not duplicated and c's blocking mode is not
// changed. Safe for concurrent use with reads and writes on c.
func PeerCredConn(c net.Conn) (Cred, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return Cred{PID: -1}, fmt.Errorf("%w: %T does not implement syscall.Conn", ErrUnsupported, c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return Cred{PID: -1}, fmt.Errorf("unix: peer credentials: %w", err)
	}
	var (
		cred Cred
		cerr error
	)
	if err := rc.Control(func(fd uintptr) {
		cred, cerr = peerCred(int(fd))
	}); err != nil {
		return Cred{PID: -1}, fmt.Errorf("unix: peer credentials: %w", err)
	}
	return cred, cerr
}
