package udp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"
)

// ioTimeout bounds every blocking read in these tests. It is a safety net
// against a hung test, never a readiness signal: on loopback a datagram is
// queued at the receiver before WriteTo returns.
const ioTimeout = 10 * time.Second

func listen(t testing.TB, network, address string) *Conn {
	t.Helper()
	c, err := Listen(context.Background(), network, address)
	if err != nil {
		t.Fatalf("Listen(%s, %s): %v", network, address, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// loopback returns the loopback listen address for network, skipping the
// test for udp6 when the host has no ::1.
func loopback(t testing.TB, network string) string {
	t.Helper()
	if network == "udp4" {
		return "127.0.0.1:0"
	}
	c, err := Listen(context.Background(), "udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	c.Close()
	return "[::1]:0"
}

func pair(t testing.TB, network string) (a, b *Conn) {
	addr := loopback(t, network)
	return listen(t, network, addr), listen(t, network, addr)
}

func readOne(t testing.TB, c *Conn, buf []byte) ([]byte, netip.AddrPort) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(ioTimeout))
	n, from, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatalf("ReadFrom: %v", err)
	}
	return buf[:n], from
}

func pattern(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7) + seed
	}
	return p
}

func TestMaxPayload(t *testing.T) {
	for nw, want := range map[string]int{"udp4": 65507, "udp6": 65527, "udp": 65507, "tcp": 0} {
		if got := MaxPayload(nw); got != want {
			t.Errorf("MaxPayload(%q) = %d, want %d", nw, got, want)
		}
	}
}

func TestListenResolvesNetwork(t *testing.T) {
	c := listen(t, "udp", "127.0.0.1:0")
	if c.Network() != "udp4" || c.LocalAddr().Port() == 0 || !c.LocalAddr().Addr().Is4() {
		t.Fatalf("udp 127.0.0.1:0 → %s %v", c.Network(), c.LocalAddr())
	}
	c = listen(t, "udp", "localhost:0")
	if c.Network() != "udp4" {
		t.Fatalf("udp localhost:0 → %s", c.Network())
	}
	loopback(t, "udp6")
	c = listen(t, "udp", "[::1]:0")
	if c.Network() != "udp6" || c.LocalAddr().Port() == 0 || c.LocalAddr().Addr() != netip.IPv6Loopback() {
		t.Fatalf("udp [::1]:0 → %s %v", c.Network(), c.LocalAddr())
	}
	if _, err := Listen(context.Background(), "tcp", "127.0.0.1:0"); err == nil {
		t.Fatal("Listen(tcp) succeeded")
	}
	if _, err := Listen(context.Background(), "udp", "no-port"); err == nil {
		t.Fatal("Listen(udp, no-port) succeeded")
	}
}

func TestListenFor(t *testing.T) {
	srv := listen(t, "udp4", "127.0.0.1:0")
	cl, err := ListenFor(context.Background(), srv.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if cl.Network() != "udp4" || !cl.LocalAddr().Addr().IsLoopback() || cl.LocalAddr().Port() == 0 {
		t.Fatalf("ListenFor(%v) bound %s %v", srv.LocalAddr(), cl.Network(), cl.LocalAddr())
	}
	if err := cl.WriteTo([]byte("hi"), srv.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	got, from := readOne(t, srv, make([]byte, 16))
	if string(got) != "hi" || from != cl.LocalAddr() {
		t.Fatalf("got %q from %v, want hi from %v", got, from, cl.LocalAddr())
	}
	if _, err := ListenFor(context.Background(), netip.AddrPort{}); !errors.Is(err, ErrAddress) {
		t.Fatalf("ListenFor(zero) err = %v", err)
	}
	loopback(t, "udp6")
	srv6 := listen(t, "udp6", "[::1]:0")
	cl6, err := ListenFor(context.Background(), srv6.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer cl6.Close()
	if cl6.Network() != "udp6" || cl6.LocalAddr().Addr() != netip.IPv6Loopback() {
		t.Fatalf("ListenFor(%v) bound %s %v", srv6.LocalAddr(), cl6.Network(), cl6.LocalAddr())
	}
}

// TestRoundTrip sends every size up to the maximum through WriteTo/ReadFrom
// and WriteBatch/ReadBatch, then proves that max+1 is refused and that
// nothing reached the receiver: the next datagram it gets is the marker.
func TestRoundTrip(t *testing.T) {
	for _, nw := range []string{"udp4", "udp6"} {
		t.Run(nw, func(t *testing.T) {
			a, b := pair(t, nw)
			max := MaxPayload(nw)
			if got := a.MaxPayload(b.LocalAddr()); got != max {
				t.Fatalf("Conn.MaxPayload = %d, want %d", got, max)
			}
			buf := make([]byte, max+100)
			for _, size := range []int{0, 1, 64, 1400, max} {
				p := pattern(size, byte(size))
				if err := a.WriteTo(p, b.LocalAddr()); err != nil {
					t.Fatalf("WriteTo %d bytes: %v", size, err)
				}
				got, from := readOne(t, b, buf)
				if !bytes.Equal(got, p) || from != a.LocalAddr() {
					t.Fatalf("size %d: got %d bytes from %v, want %d from %v", size, len(got), from, size, a.LocalAddr())
				}
				// The same through the batch calls.
				msgs := []Message{{Buf: p, Addr: b.LocalAddr()}}
				if n, err := a.WriteBatch(msgs); n != 1 || err != nil || msgs[0].N != size {
					t.Fatalf("WriteBatch %d bytes: n=%d N=%d err=%v", size, n, msgs[0].N, err)
				}
				in := []Message{{Buf: buf}}
				b.SetReadDeadline(time.Now().Add(ioTimeout))
				if n, err := b.ReadBatch(in); n != 1 || err != nil {
					t.Fatalf("ReadBatch %d bytes: n=%d err=%v", size, n, err)
				}
				if in[0].Truncated || in[0].Addr != a.LocalAddr() || !bytes.Equal(in[0].Buf[:in[0].N], p) {
					t.Fatalf("ReadBatch size %d: N=%d from %v truncated=%v", size, in[0].N, in[0].Addr, in[0].Truncated)
				}
			}

			big := make([]byte, max+1)
			err := a.WriteTo(big, b.LocalAddr())
			var tl *TooLargeError
			if !errors.Is(err, ErrTooLarge) || !errors.As(err, &tl) || tl.Size != max+1 || tl.Max != max {
				t.Fatalf("WriteTo max+1: err = %v", err)
			}
			msgs := []Message{{Buf: []byte("ok"), Addr: b.LocalAddr()}, {Buf: big, Addr: b.LocalAddr()}}
			if n, err := a.WriteBatch(msgs); n != 0 || !errors.Is(err, ErrTooLarge) {
				t.Fatalf("WriteBatch with max+1: n=%d err=%v", n, err)
			}
			peers := NewPeers(4)
			peers.Seen(b.LocalAddr())
			if n, err := a.Broadcast(big, peers); n != 0 || !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Broadcast max+1: n=%d err=%v", n, err)
			}
			if err := a.WriteTo([]byte("marker"), b.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			if got, _ := readOne(t, b, buf); string(got) != "marker" {
				t.Fatalf("after refused sends, received %d bytes, want the marker", len(got))
			}
		})
	}
}

func TestBadDestination(t *testing.T) {
	a := listen(t, "udp4", "127.0.0.1:0")
	for _, to := range []netip.AddrPort{{}, netip.MustParseAddrPort("[::1]:9")} {
		if err := a.WriteTo([]byte("x"), to); !errors.Is(err, ErrAddress) {
			t.Errorf("WriteTo(%v) err = %v, want ErrAddress", to, err)
		}
		if n, err := a.WriteBatch([]Message{{Buf: []byte("x"), Addr: to}}); n != 0 || !errors.Is(err, ErrAddress) {
			t.Errorf("WriteBatch(%v) = %d, %v", to, n, err)
		}
	}
	// An IPv4-mapped destination is fine on udp4.
	b := listen(t, "udp4", "127.0.0.1:0")
	mapped := netip.AddrPortFrom(netip.AddrFrom16(b.LocalAddr().Addr().As16()), b.LocalAddr().Port())
	if _, err := a.WriteBatch([]Message{{Buf: []byte("m"), Addr: mapped}}); err != nil {
		t.Fatal(err)
	}
	if got, from := readOne(t, b, make([]byte, 8)); string(got) != "m" || from != a.LocalAddr() {
		t.Fatalf("got %q from %v", got, from)
	}
}

// TestBatch1000 sends 1000 sequenced 64-byte datagrams in WriteBatch calls of
// 64, all before reading any, and requires every one back, in order, through
// ReadBatch. A 4 MiB receive buffer holds them all; a drop is a failure.
func TestBatch1000(t *testing.T) {
	for _, nw := range []string{"udp4", "udp6"} {
		t.Run(nw, func(t *testing.T) {
			a, b := pair(t, nw)
			if err := b.SetReadBuffer(4 << 20); err != nil {
				t.Fatal(err)
			}
			const total, batch, size = 1000, 64, 64
			out := make([]Message, batch)
			bufs := make([][]byte, batch)
			for i := range bufs {
				bufs[i] = make([]byte, size)
			}
			for seq := 0; seq < total; {
				k := min(batch, total-seq)
				for i := 0; i < k; i++ {
					fill(bufs[i], seq+i)
					out[i] = Message{Buf: bufs[i], Addr: b.LocalAddr()}
				}
				n, err := a.WriteBatch(out[:k])
				if err != nil || n != k {
					t.Fatalf("WriteBatch at %d: n=%d err=%v", seq, n, err)
				}
				for i := 0; i < k; i++ {
					if out[i].N != size {
						t.Fatalf("N = %d", out[i].N)
					}
				}
				seq += k
			}
			in := make([]Message, batch)
			for i := range in {
				in[i].Buf = make([]byte, 2*size)
			}
			b.SetReadDeadline(time.Now().Add(ioTimeout))
			calls := 0
			for next := 0; next < total; {
				n, err := b.ReadBatch(in)
				if err != nil {
					t.Fatalf("ReadBatch after %d datagrams: %v", next, err)
				}
				calls++
				for _, m := range in[:n] {
					if m.N != size || m.Truncated || m.Addr != a.LocalAddr() {
						t.Fatalf("datagram %d: N=%d truncated=%v from %v", next, m.N, m.Truncated, m.Addr)
					}
					want := make([]byte, size)
					fill(want, next)
					if !bytes.Equal(m.Buf[:m.N], want) {
						t.Fatalf("datagram %d: got seq %d", next, binary.BigEndian.Uint32(m.Buf))
					}
					next++
				}
			}
			if runtime.GOOS == "linux" && calls > total/batch+2 {
				t.Errorf("recvmmsg took %d calls for %d datagrams queued in advance", calls, total)
			}
			t.Logf("%d datagrams in %d ReadBatch calls", total, calls)
		})
	}
}

func fill(p []byte, seq int) {
	binary.BigEndian.PutUint32(p, uint32(seq))
	for i := 4; i < len(p); i++ {
		p[i] = byte(seq + i)
	}
}

func TestLargeBatchChunks(t *testing.T) {
	// More than MaxBatch messages in one WriteBatch call.
	a, b := pair(t, "udp4")
	if err := b.SetReadBuffer(4 << 20); err != nil {
		t.Fatal(err)
	}
	const total = MaxBatch + 100
	out := make([]Message, total)
	for i := range out {
		p := make([]byte, 8)
		fill(p, i)
		out[i] = Message{Buf: p, Addr: b.LocalAddr()}
	}
	if n, err := a.WriteBatch(out); n != total || err != nil {
		t.Fatalf("WriteBatch(%d) = %d, %v", total, n, err)
	}
	in := make([]Message, MaxBatch+10) // ReadBatch caps at MaxBatch
	for i := range in {
		in[i].Buf = make([]byte, 8)
	}
	b.SetReadDeadline(time.Now().Add(ioTimeout))
	for next := 0; next < total; {
		n, err := b.ReadBatch(in)
		if err != nil {
			t.Fatalf("after %d: %v", next, err)
		}
		if n > MaxBatch {
			t.Fatalf("ReadBatch returned %d > MaxBatch", n)
		}
		for _, m := range in[:n] {
			if got := int(binary.BigEndian.Uint32(m.Buf)); got != next {
				t.Fatalf("got seq %d, want %d", got, next)
			}
			next++
		}
	}
}

func TestTruncation(t *testing.T) {
	for _, nw := range []string{"udp4", "udp6"} {
		t.Run(nw, func(t *testing.T) {
			a, b := pair(t, nw)
			big := pattern(2000, 1)

			// ReadFrom.
			if err := a.WriteTo(big, b.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 100)
			b.SetReadDeadline(time.Now().Add(ioTimeout))
			n, from, err := b.ReadFrom(buf)
			var te *TruncatedError
			if !errors.Is(err, ErrTruncated) || !errors.As(err, &te) || n != 100 || from != a.LocalAddr() || te.BufLen != 100 {
				t.Fatalf("ReadFrom 2000 into 100: n=%d from=%v err=%v", n, from, err)
			}
			if !bytes.Equal(buf, big[:100]) {
				t.Fatal("truncated prefix differs")
			}

			// ReadBatch: a truncated datagram between two that fit.
			for _, p := range [][]byte{[]byte("before"), big, []byte("after")} {
				if err := a.WriteTo(p, b.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
			var got []Message
			for len(got) < 3 {
				in := make([]Message, 3-len(got))
				for i := range in {
					in[i].Buf = make([]byte, 100)
				}
				n, err := b.ReadBatch(in)
				for i := 0; i < n; i++ {
					if in[i].Truncated {
						if !errors.As(err, &te) || te.Index != i || te.BufLen != 100 {
							t.Fatalf("truncated message %d: err = %v", i, err)
						}
						if runtime.GOOS == "linux" && te.Size != 2000 {
							t.Fatalf("TruncatedError.Size = %d, want 2000", te.Size)
						}
					}
				}
				if err != nil && !errors.Is(err, ErrTruncated) {
					t.Fatal(err)
				}
				got = append(got, in[:n]...)
			}
			if string(got[0].Buf[:got[0].N]) != "before" || got[0].Truncated ||
				!got[1].Truncated || got[1].N != 100 ||
				string(got[2].Buf[:got[2].N]) != "after" || got[2].Truncated {
				t.Fatalf("batch = %+v", got)
			}
			if c := b.Truncated(); c != 2 {
				t.Fatalf("Truncated() = %d, want 2", c)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	a, b := pair(t, "udp4")
	done := make(chan error, 1)
	go func() {
		_, err := b.ReadBatch([]Message{{Buf: make([]byte, 8)}})
		done <- err
	}()
	b.Close() // whether the reader was already blocked or not, it must fail
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) || !errors.Is(err, ErrClosed) {
			t.Fatalf("ReadBatch during Close: %v", err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("Close did not unblock ReadBatch")
	}
	a.Close()
	to := b.LocalAddr()
	checks := map[string]error{
		"WriteTo": a.WriteTo([]byte("x"), to),
	}
	_, _, checks["ReadFrom"] = a.ReadFrom(make([]byte, 8))
	_, checks["WriteBatch"] = a.WriteBatch([]Message{{Buf: []byte("x"), Addr: to}})
	_, checks["ReadBatch"] = a.ReadBatch([]Message{{Buf: make([]byte, 8)}})
	p := NewPeers(2)
	p.Seen(to)
	_, checks["Broadcast"] = a.Broadcast([]byte("x"), p)
	for op, err := range checks {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v", op, err)
		}
	}
}

func TestReadDeadline(t *testing.T) {
	a := listen(t, "udp4", "127.0.0.1:0")
	a.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := a.ReadBatch([]Message{{Buf: make([]byte, 8)}}); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadBatch past deadline: %v", err)
	}
	if n, err := a.ReadBatch(nil); n != 0 || err != nil {
		t.Fatalf("ReadBatch(nil) = %d, %v", n, err)
	}
}

// TestBroadcast: a server learns three peers from their datagrams, then one
// Broadcast reaches each exactly once (the next datagram each receives
// after the broadcast is a per-peer marker).
func TestBroadcast(t *testing.T) {
	for _, nw := range []string{"udp4", "udp6"} {
		t.Run(nw, func(t *testing.T) {
			addr := loopback(t, nw)
			srv := listen(t, nw, addr)
			peers := NewPeers(8)
			var cl [3]*Conn
			buf := make([]byte, 64)
			for i := range cl {
				cl[i] = listen(t, nw, addr)
				if err := cl[i].WriteTo([]byte("hello"), srv.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				_, from := readOne(t, srv, buf)
				if !peers.Seen(from) {
					t.Fatalf("peer %v not new", from)
				}
			}
			// A repeat datagram from a known peer is not new.
			if err := cl[0].WriteTo([]byte("again"), srv.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			if _, from := readOne(t, srv, buf); peers.Seen(from) || peers.Len() != 3 {
				t.Fatalf("known peer %v reported new, or Len = %d", from, peers.Len())
			}
			sent, err := srv.Broadcast([]byte("tick"), peers)
			if sent != 3 || err != nil {
				t.Fatalf("Broadcast = %d, %v", sent, err)
			}
			for i, c := range cl {
				if err := srv.WriteTo([]byte("marker"), c.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				if got, from := readOne(t, c, buf); string(got) != "tick" || from != srv.LocalAddr() {
					t.Fatalf("peer %d first got %q from %v", i, got, from)
				}
				if got, _ := readOne(t, c, buf); string(got) != "marker" {
					t.Fatalf("peer %d got %q after the broadcast, want the marker (exactly one copy)", i, got)
				}
			}
		})
	}
}

// TestBroadcastSkipsBadPeer: a peer the Conn cannot reach is reported, and
// the others still get the datagram.
func TestBroadcastSkipsBadPeer(t *testing.T) {
	srv, c := pair(t, "udp4")
	peers := NewPeers(4)
	peers.Seen(netip.MustParseAddrPort("[::1]:9")) // IPv6 on a udp4 conn
	peers.Seen(c.LocalAddr())
	sent, err := srv.Broadcast([]byte("tick"), peers)
	if sent != 1 || !errors.Is(err, ErrAddress) {
		t.Fatalf("Broadcast = %d, %v", sent, err)
	}
	if got, _ := readOne(t, c, make([]byte, 8)); string(got) != "tick" {
		t.Fatalf("got %q", got)
	}
	if n, err := srv.Broadcast([]byte("x"), NewPeers(1)); n != 0 || err != nil {
		t.Fatalf("Broadcast to nobody = %d, %v", n, err)
	}
}
