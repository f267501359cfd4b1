package goipc

import (
	"strconv"
	"testing"
	"time"

	sys "golang.org/x/sys/unix"

	"github.com/seed-fc4a2f4b/goipc/frame"
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

// WithBusyPoll reaches the engines' configuration, capped at MaxBusyPoll,
// and busy-polling servers on either engine and a busy-polling client
// still exchange messages both ways.
func TestWithBusyPoll(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{
		{0, 0}, {50 * time.Microsecond, 50 * time.Microsecond}, {time.Second, MaxBusyPoll},
	} {
		o := buildOptions([]Option{WithBusyPoll(tc.in)})
		if got := o.pollerConfig(nil).BusyPoll; got != tc.want {
			t.Errorf("WithBusyPoll(%v): BusyPoll %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, e := range []Engine{EngineLoop, EngineGoroutine} {
		for _, network := range []string{"unix://" + shortTempDir(t) + "/b.sock", "tcp://127.0.0.1:0"} {
			srv := echoServer(t, network, LengthCodec(frame.LengthFieldConfig{}), WithEngine(e), WithBusyPoll(MaxBusyPoll))
			cl, r := dialRecv(t, srv.Addr(), LengthCodec(frame.LengthFieldConfig{}), WithBusyPoll(MaxBusyPoll))
			msgs := make([][]byte, 100)
			for i := range msgs {
				msgs[i] = []byte(strconv.Itoa(i))
			}
			checkEcho(t, cl, r, LengthCodec(frame.LengthFieldConfig{}), msgs)
		}
	}
}
