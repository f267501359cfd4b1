//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package goipc

import sys "golang.org/x/sys/unix"

const reusePortSupported = true

func setReusePort(fd uintptr) error {
	return sys.SetsockoptInt(int(fd), sys.SOL_SOCKET, sys.SO_REUSEPORT, 1)
}
