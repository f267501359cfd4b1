package udp

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

func ap(port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), port)
}

func TestPeersEvictionOrder(t *testing.T) {
	p := NewPeers(3)
	for _, port := range []uint16{1, 2, 3} {
		if !p.Seen(ap(port)) {
			t.Fatalf("%d not new", port)
		}
	}
	if p.Seen(ap(1)) { // 1 becomes most recent; 2 is now the oldest
		t.Fatal("known peer reported new")
	}
	if !p.Seen(ap(4)) {
		t.Fatal("4 not new")
	}
	want := []netip.AddrPort{ap(4), ap(1), ap(3)}
	if got := p.Snapshot(nil); !slices.Equal(got, want) {
		t.Fatalf("after evicting: %v, want %v", got, want)
	}
	if p.Contains(ap(2)) || p.Len() != 3 || p.Evictions() != 1 || p.Cap() != 3 {
		t.Fatalf("Contains(2)=%v Len=%d Evictions=%d", p.Contains(ap(2)), p.Len(), p.Evictions())
	}
	p.Seen(ap(5)) // evicts 3
	p.Seen(ap(6)) // evicts 1
	want = []netip.AddrPort{ap(6), ap(5), ap(4)}
	if got := p.Snapshot(nil); !slices.Equal(got, want) || p.Evictions() != 3 {
		t.Fatalf("got %v (evictions %d), want %v", got, p.Evictions(), want)
	}
	// Remove frees a slot: the next new peer evicts nobody.
	if !p.Remove(ap(5)) || p.Remove(ap(5)) {
		t.Fatal("Remove")
	}
	p.Seen(ap(7))
	want = []netip.AddrPort{ap(7), ap(6), ap(4)}
	if got := p.Snapshot(nil); !slices.Equal(got, want) || p.Evictions() != 3 {
		t.Fatalf("got %v (evictions %d), want %v", got, p.Evictions(), want)
	}
	var ranged []netip.AddrPort
	p.Range(func(a netip.AddrPort) bool { ranged = append(ranged, a); return len(ranged) < 2 })
	if !slices.Equal(ranged, want[:2]) {
		t.Fatalf("Range stopped early: %v", ranged)
	}
}

func TestPeersMappedKey(t *testing.T) {
	p := NewPeers(4)
	a := ap(9)
	mapped := netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), 9)
	p.Seen(a)
	if p.Seen(mapped) || !p.Contains(mapped) || p.Len() != 1 {
		t.Fatal("mapped and plain IPv4 should be one peer")
	}
	if p.Seen(netip.AddrPort{}) || p.Len() != 1 {
		t.Fatal("invalid address recorded")
	}
}

func TestPeersExpire(t *testing.T) {
	p := NewPeers(8)
	clock := time.Unix(1000, 0)
	p.now = func() time.Time { return clock }
	for port := uint16(1); port <= 5; port++ {
		p.Seen(ap(port))
		clock = clock.Add(time.Second) // port k seen at 1000+k-1
	}
	p.Seen(ap(1)) // refreshed at 1005
	if n := p.Expire(time.Unix(1003, 0)); n != 2 {
		t.Fatalf("Expire removed %d, want 2 (ports 2 and 3)", n)
	}
	want := []netip.AddrPort{ap(1), ap(5), ap(4)}
	if got := p.Snapshot(nil); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if n := p.Expire(time.Unix(2000, 0)); n != 3 || p.Len() != 0 {
		t.Fatalf("Expire all removed %d, Len %d", n, p.Len())
	}
	p.Seen(ap(10)) // slots are reused
	if p.Len() != 1 {
		t.Fatal("reuse after Expire")
	}
}

func TestPeersZeroValue(t *testing.T) {
	var p Peers
	if p.Len() != 0 || p.Snapshot(nil) != nil || p.Expire(time.Now()) != 0 || p.Remove(ap(1)) || p.Cap() != DefaultMaxPeers {
		t.Fatal("zero Peers not empty")
	}
	p.Range(func(netip.AddrPort) bool { t.Fatal("Range on empty"); return false })
	if !p.Seen(ap(1)) || p.Len() != 1 || p.Cap() != DefaultMaxPeers {
		t.Fatal("zero Peers unusable")
	}
}

// TestPeersConcurrent exercises the lock under -race, and checks the bound.
func TestPeersConcurrent(t *testing.T) {
	p := NewPeers(50)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			buf := make([]netip.AddrPort, 0, 50)
			for i := 0; i < 2000; i++ {
				p.Seen(ap(uint16(g*1000 + i%100)))
				if i%10 == 0 {
					buf = p.Snapshot(buf[:0])
					if len(buf) > 50 {
						panic(fmt.Sprint("table over its bound: ", len(buf)))
					}
				}
				if i%97 == 0 {
					p.Remove(ap(uint16(g*1000 + i%100)))
				}
			}
		}(g)
	}
	wg.Wait()
	if p.Len() > 50 || len(p.Snapshot(nil)) != p.Len() {
		t.Fatalf("Len %d", p.Len())
	}
}
