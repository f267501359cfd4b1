//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package unix

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// sunPathLen is sizeof(sockaddr_un.sun_path).
const sunPathLen = 104

const abstractSupported = false

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

func peerCred(fd int) (Cred, error) { return peerCredBSD(fd) }
