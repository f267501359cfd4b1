//go:build freebsd

package unix

import (
	"os"

	sys "golang.org/x/sys/unix"
)

// peerCredBSD uses LOCAL_PEERCRED. FreeBSD 13+ also stores the pid in the
// xucred union, but x/sys does not expose it, so PID is -1.
func peerCredBSD(fd int) (Cred, error) {
	x, err := sys.GetsockoptXucred(fd, sys.SOL_LOCAL, sys.LOCAL_PEERCRED)
	if err != nil {
		return Cred{PID: -1}, os.NewSyscallError("getsockopt LOCAL_PEERCRED", err)
	}
	c := Cred{UID: x.Uid, PID: -1}
	if x.Ngroups > 0 {
		c.GID = x.Groups[0]
	}
	return c, nil
}
