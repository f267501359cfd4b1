//go:build windows

package unix

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/windows"
)

// sunPathLen is sizeof(sockaddr_un.sun_path) in afunix.h.
const sunPathLen = 108

const abstractSupported = false

// ensureRootSupported fails closed: Windows protects directories with ACLs,
// which EnsureRoot does not inspect. goipc uses named pipes for ipc:// there.
func ensureRootSupported() error {
	return fmt.Errorf("%w: socket root ownership checks (windows ACLs)", ErrUnsupported)
}

func fileOwner(fs.FileInfo) (int, bool) { return 0, false }

// userTag names the per-user default root; Windows has no numeric uid.
func userTag() string {
	name := os.Getenv("USERNAME")
	if name == "" {
		return "user"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '_'
	}, name)
}

func isConnRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, windows.WSAECONNREFUSED)
}

func peerCred(int) (Cred, error) {
	return Cred{PID: -1}, fmt.Errorf("%w: peer credentials", ErrUnsupported)
}
