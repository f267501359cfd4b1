//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package goipc

const reusePortSupported = false

func setReusePort(fd uintptr) error { return nil }
