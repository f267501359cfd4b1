//go:build !linux && !windows && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package unix

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// sunPathLen is a conservative sun_path size (the BSD value; Solaris and
// illumos have 108).
const sunPathLen = 104

const abstractSupported = false

func ensureRootSupported() error { return nil }

// fileOwner reports no owner: without it EnsureRoot fails with ErrUnsupported.
func fileOwner(fs.FileInfo) (int, bool) { return 0, false }

func userTag() string {
	if uid := os.Getuid(); uid >= 0 {
		return strconv.Itoa(uid)
	}
	return "user"
}

func isConnRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

func peerCred(int) (Cred, error) {
	return Cred{PID: -1}, fmt.Errorf("%w: peer credentials", ErrUnsupported)
}
