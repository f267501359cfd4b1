//go:build darwin

package unix

import (
	"os"

	sys "golang.org/x/sys/unix"
)

func peerCredBSD(fd int) (Cred, error) {
	x, err := sys.GetsockoptXucred(fd, sys.SOL_LOCAL, sys.LOCAL_PEERCRED)
	if err != nil {
		return Cred{PID: -1}, os.NewSyscallError("getsockopt LOCAL_PEERCRED", err)
	}
	c := Cred{UID: x.Uid, PID: -1}
	if x.Ngroups > 0 {
		c.GID = x.Groups[0]
	}
	if pid, err := sys.GetsockoptInt(fd, sys.SOL_LOCAL, sys.LOCAL_PEERPID); err == nil {
		c.PID = int32(pid)
	}
	return c, nil
}
