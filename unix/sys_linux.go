//go:build linux

package unix

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"syscall"

	sys "golang.org/x/sys/unix"
)

// sunPathLen is sizeof(sockaddr_un.sun_path).
const sunPathLen = 108

const abstractSupported = true

func ensureRootSupported() error { return nil }

func fileOwner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

func userTag() string { return strconv.Itoa(os.Getuid()) }

func isConnRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

func peerCred(fd int) (Cred, error) {
	u, err := sys.GetsockoptUcred(fd, sys.SOL_SOCKET, sys.SO_PEERCRED)
	if err != nil {
		return Cred{PID: -1}, os.NewSyscallError("getsockopt SO_PEERCRED", err)
	}
	return Cred{UID: u.Uid, GID: u.Gid, PID: u.Pid}, nil
}
