//go:build linux

package unix

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestAbstractListenDial(t *testing.T) {
	b := make([]byte, 8)
	rand.Read(b)
	name := "@goipc-test-" + hex.EncodeToString(b)
	l := mustListen(t, name, ListenOptions{Mode: 0o600, EnsureRoot: true})
	if !l.Abstract() || l.Path() != name {
		t.Fatalf("Abstract() = %v, Path() = %q", l.Abstract(), l.Path())
	}
	for _, p := range []string{name, name[1:]} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("abstract listen created a file %q", p)
		}
	}
	roundTrip(t, l)

	// A second listener on the same abstract name is refused by the kernel.
	if _, err := Listen(name, ListenOptions{}); !errors.Is(err, ErrAddrInUse) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second abstract Listen = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// Length: 108 bytes including '@' is the limit.
	max := "@" + strings.Repeat("z", sunPathLen-1)
	if _, err := checkPath(max); err != nil {
		t.Fatalf("checkPath(108-byte abstract) = %v", err)
	}
	if _, err := Listen(max+"z", ListenOptions{}); !errors.Is(err, ErrPathTooLong) {
		t.Fatalf("Listen(109-byte abstract) = %v", err)
	}
}
