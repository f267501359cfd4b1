//go:build netbsd || openbsd || dragonfly

package unix

import "fmt"

func peerCredBSD(int) (Cred, error) {
	return Cred{PID: -1}, fmt.Errorf("%w: peer credentials", ErrUnsupported)
}
