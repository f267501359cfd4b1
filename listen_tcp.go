package goipc

import (
	"context"
	"net"
	"syscall"
)

// listenTCP opens one TCP listener, or n listeners on the same port with
// SO_REUSEPORT so the kernel spreads accepts over n accept loops (where the
// OS has it; elsewhere n is ignored). Port 0 is resolved by the first
// listener and reused by the others.
func listenTCP(addr string, n int) ([]net.Listener, error) {
	lc := net.ListenConfig{}
	if n > 1 && reusePortSupported {
		lc.Control = func(network, address string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) { serr = setReusePort(fd) }); err != nil {
				return err
			}
			return serr
		}
	} else {
		n = 1
	}
	first, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	lns := []net.Listener{first}
	for i := 1; i < n; i++ {
		ln, err := lc.Listen(context.Background(), "tcp", first.Addr().String())
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}
