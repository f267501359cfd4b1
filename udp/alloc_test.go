//go:build !race

package udp

import (
	"net/netip"
	"testing"
	"time"
)

// Steady-state allocation tests for every hot path. AllocsPerRun runs the
// function once before measuring, which lets the Conn size its arrays.
func TestAllocs(t *testing.T) {
	for _, nw := range []string{"udp4", "udp6"} {
		t.Run(nw, func(t *testing.T) {
			a, b := pair(t, nw)
			if err := b.SetReadBuffer(4 << 20); err != nil {
				t.Fatal(err)
			}
			b.SetReadDeadline(time.Now().Add(time.Minute))
			to := b.LocalAddr()
			p := make([]byte, 64)
			buf := make([]byte, 2048)

			check := func(name string, f func()) {
				t.Helper()
				if n := testing.AllocsPerRun(200, f); n != 0 {
					t.Errorf("%s: %v allocs/op, want 0", name, n)
				}
			}
			check("WriteTo+ReadFrom", func() {
				if err := a.WriteTo(p, to); err != nil {
					t.Fatal(err)
				}
				if n, from, err := b.ReadFrom(buf); err != nil || n != 64 || from != a.LocalAddr() {
					t.Fatal(n, from, err)
				}
			})
			check("WriteTo", func() {
				if err := a.WriteTo(p, to); err != nil {
					t.Fatal(err)
				}
			})
			drain(t, b, 201)

			const k = 16
			out := make([]Message, k)
			in := make([]Message, k)
			for i := range out {
				out[i] = Message{Buf: p, Addr: to}
				in[i] = Message{Buf: make([]byte, 128)}
			}
			check("WriteBatch+ReadBatch", func() {
				if n, err := a.WriteBatch(out); n != k || err != nil {
					t.Fatal(n, err)
				}
				for got := 0; got < k; {
					n, err := b.ReadBatch(in[:k-got])
					if err != nil {
						t.Fatal(err)
					}
					got += n
				}
			})
			check("WriteBatch", func() {
				if n, err := a.WriteBatch(out); n != k || err != nil {
					t.Fatal(n, err)
				}
			})
			drain(t, b, 201*k)

			peers := NewPeers(8)
			var cls []*Conn
			for i := 0; i < 3; i++ {
				c := listen(t, nw, loopback(t, nw))
				cls = append(cls, c)
				peers.Seen(c.LocalAddr())
			}
			check("Broadcast", func() {
				if n, err := a.Broadcast(p, peers); n != 3 || err != nil {
					t.Fatal(n, err)
				}
			})
			for _, c := range cls {
				c.SetReadDeadline(time.Now().Add(time.Minute))
				drain(t, c, 201)
			}
		})
	}
}

// drain reads exactly n datagrams (a follow-up marker then proves none are
// left over).
func drain(t *testing.T, c *Conn, n int) {
	t.Helper()
	in := make([]Message, 64)
	for i := range in {
		in[i].Buf = make([]byte, 2048)
	}
	for got := 0; got < n; {
		k, err := c.ReadBatch(in[:min(len(in), n-got)])
		if err != nil {
			t.Fatalf("drain after %d of %d: %v", got, n, err)
		}
		got += k
	}
}

func TestPeersSeenAllocs(t *testing.T) {
	p := NewPeers(4)
	known := netip.MustParseAddrPort("127.0.0.1:4000")
	p.Seen(known)
	p.Seen(netip.MustParseAddrPort("127.0.0.1:4001"))
	if n := testing.AllocsPerRun(1000, func() {
		if p.Seen(known) {
			t.Fatal("known peer new")
		}
	}); n != 0 {
		t.Errorf("Seen(known): %v allocs/op", n)
	}
	// New peers evicting old ones reuse slots and map space too.
	port := uint16(5000)
	if n := testing.AllocsPerRun(1000, func() {
		port++
		p.Seen(netip.AddrPortFrom(known.Addr(), port))
	}); n != 0 {
		t.Errorf("Seen(new, evicting): %v allocs/op", n)
	}
	buf := make([]netip.AddrPort, 0, 4)
	if n := testing.AllocsPerRun(1000, func() { buf = p.Snapshot(buf[:0]) }); n != 0 {
		t.Errorf("Snapshot: %v allocs/op", n)
	}
}
