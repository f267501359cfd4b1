//go:build linux

package reliability

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
)

// Peers that vanish in the middle of a frame free everything they held:
// once the server has noticed, its goroutine count and heap in use are
// back at the baseline (within a small slack).
func TestPeerVanishesMidFrame(t *testing.T) {
	forNetworks(t, func(t *testing.T, network string) {
		n := 500
		if raceEnabled {
			n = 100
			t.Logf("race detector: %d peers instead of 500", n)
		}
		const (
			frameLen = 64 << 10 // claimed by the header
			sent     = 32 << 10 // half of it is sent
		)
		srv := newServer(t, listenAddr(t, network), goipc.WithCodec(goipc.EventCodec().WithMaxFrame(1<<20)))
		srv.HandleAny(func(c *goipc.Conn, m goipc.Message) { t.Error("a half frame was delivered") })
		start(t, srv)
		nw, a := splitAddr(srv.Addr())
		// Warm up: 100 peers at once through the same path, so lazily
		// built state is in the baseline: loop buffers, pools, and the
		// goroutine engine's bounded free list of read buffers (64 of
		// 64 KiB; at GOMAXPROCS 1 EngineAuto serves the first 64
		// connections with goroutines).
		for _, c := range holdHalfFrames(t, srv, nw, a, 100, frameLen, sent) {
			c.Close()
		}
		waitUntil(t, 10*time.Second, "warm-up peers gone", func() bool { return len(srv.Conns()) == 0 })

		base := memSnapshot()
		baseG := runtime.NumGoroutine()
		conns := holdHalfFrames(t, srv, nw, a, n, frameLen, sent)
		held := memSnapshot()
		heldG := runtime.NumGoroutine()
		for _, c := range conns {
			c.Close()
		}
		conns = nil
		waitUntil(t, 20*time.Second, "server to notice every peer gone", func() bool { return len(srv.Conns()) == 0 })

		const slackHeap = 1 << 20
		const slackG = 5
		var end runtime.MemStats
		var endG int
		deadline := time.Now().Add(10 * time.Second)
		for {
			end = memSnapshot()
			endG = runtime.NumGoroutine()
			if (end.HeapInuse <= base.HeapInuse+slackHeap && endG <= baseG+slackG) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%d peers × %d of %d bytes: heap in use %.2f → %.2f (held) → %.2f MiB; goroutines %d → %d (held, incl. %d client sockets) → %d",
			n, sent, frameLen, mib(base.HeapInuse), mib(held.HeapInuse), mib(end.HeapInuse), baseG, heldG, n, endG)
		if end.HeapInuse > base.HeapInuse+slackHeap {
			t.Errorf("heap in use %.2f MiB after the peers left, baseline %.2f MiB (+%.2f allowed)", mib(end.HeapInuse), mib(base.HeapInuse), mib(slackHeap))
		}
		if endG > baseG+slackG {
			t.Errorf("%d goroutines after the peers left, baseline %d", endG, baseG)
		}
	})
}

// halfFrame returns the first sent bytes of an event frame of frameLen
// payload bytes (4-byte big-endian length, then the payload).
func halfFrame(frameLen, sent int) []byte {
	b := make([]byte, 4+sent-4)
	b[0], b[1], b[2], b[3] = byte(frameLen>>24), byte(frameLen>>16), byte(frameLen>>8), byte(frameLen)
	for i := 4; i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}

// holdHalfFrames connects n peers that each send the first sent bytes of
// a frame of frameLen bytes, and returns them once the server holds every
// one and has read their bytes: its heap in use has grown by at least
// n×sent (each half frame sits in a read buffer or a loop's carry).
func holdHalfFrames(t *testing.T, srv *goipc.Server, nw, a string, n, frameLen, sent int) []net.Conn {
	t.Helper()
	before := memSnapshot().HeapInuse
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial(nw, a)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(halfFrame(frameLen, sent)); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	waitUntil(t, 20*time.Second, "server to hold every peer", func() bool { return len(srv.Conns()) == n })
	waitUntil(t, 20*time.Second, "server to read every half frame", func() bool {
		return memSnapshot().HeapInuse >= before+uint64(n*sent)
	})
	return conns
}
