package poller

import (
	"net"
	"syscall"
)

// rawFd returns nc's descriptor for read-only queries, or -1.
func rawFd(nc net.Conn) int {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}
