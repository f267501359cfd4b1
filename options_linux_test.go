package goipc

import (
	"testing"
	"time"

	sys "golang.org/x/sys/unix"
)

// WithKeepAlive sets the accepted TCP connections' keepalive period, and a
// negative value turns keepalive off.
func TestWithKeepAlive(t *testing.T) {
	for _, tc := range []struct {
		d       int // seconds; negative disables
		enabled int
	}{{7, 1}, {-1, 0}} {
		srv := echoServer(t, "tcp://127.0.0.1:0", EventCodec(), WithKeepAlive(secondsOpt(tc.d)))
		conns := make(chan *Conn, 1)
		srv.OnConnect(func(c *Conn) { conns <- c })
		dialRecv(t, srv.Addr(), EventCodec())
		fd := (<-conns).pc.Fd()
		on, err := sys.GetsockoptInt(fd, sys.SOL_SOCKET, sys.SO_KEEPALIVE)
		if err != nil || on != tc.enabled {
			t.Fatalf("keepalive %ds: SO_KEEPALIVE %d, %v; want %d", tc.d, on, err, tc.enabled)
		}
		if tc.d > 0 {
			if idle, err := sys.GetsockoptInt(fd, sys.IPPROTO_TCP, sys.TCP_KEEPIDLE); err != nil || idle != tc.d {
				t.Fatalf("TCP_KEEPIDLE %d, %v; want %d", idle, err, tc.d)
			}
		}
	}
}

func secondsOpt(n int) time.Duration { return time.Duration(n) * time.Second }
