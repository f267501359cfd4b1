package udp

import (
	"net/netip"
	"sync"
	"time"
)

// DefaultMaxPeers is the capacity of a zero Peers or of NewPeers(0).
const DefaultMaxPeers = 1024

// Peers is a bounded table of the peers an endpoint has heard from, kept in
// order of recency (node-ipc's UDP server broadcasts to every peer that
// sent it something).
//
// The table never grows past its capacity: when it is full, a new peer
// evicts the least recently seen one (counted by Evictions). Expire removes
// peers not seen since a given time. Addresses are keyed with IPv4-mapped
// IPv6 addresses unmapped, so ::ffff:1.2.3.4 and 1.2.3.4 are one peer.
//
// Peers is safe for concurrent use (an RWMutex: Seen, Remove and Expire
// take the write lock, Len, Contains, Snapshot and Range the read lock).
// The zero value is an empty table of DefaultMaxPeers; a Peers must not be
// copied after first use. No method allocates once the table is built,
// except Snapshot into a dst without room.
type Peers struct {
	mu        sync.RWMutex
	max       int
	idx       map[netip.AddrPort]int32
	ents      []peerEntry // slots; at most max
	head      int32       // most recently seen, or -1
	tail      int32       // least recently seen, or -1
	free      int32       // free-slot list through next, or -1
	evictions uint64
	now       func() time.Time // time.Now; replaceable in tests
}

type peerEntry struct {
	addr       netip.AddrPort
	last       time.Time
	prev, next int32
}

// NewPeers returns an empty table holding at most max peers (max <= 0
// means DefaultMaxPeers). Its map and slots are allocated up front.
func NewPeers(max int) *Peers {
	p := &Peers{}
	p.init(max)
	return p
}

func (p *Peers) init(max int) {
	if max <= 0 {
		max = DefaultMaxPeers
	}
	p.max = max
	p.idx = make(map[netip.AddrPort]int32, max)
	p.ents = make([]peerEntry, 0, max)
	p.head, p.tail, p.free = -1, -1, -1
	if p.now == nil {
		p.now = time.Now
	}
}

func key(a netip.AddrPort) netip.AddrPort {
	if a.Addr().Is4In6() {
		return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	}
	return a
}

// Cap returns the most peers the table holds.
func (p *Peers) Cap() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.idx == nil {
		return DefaultMaxPeers
	}
	return p.max
}

// Seen records that addr was just heard from and reports whether it is new
// to the table. A known peer becomes the most recently seen (no
// allocation). A new peer is added; if the table is full, the least
// recently seen peer is evicted to make room. An invalid addr is ignored
// (false).
func (p *Peers) Seen(addr netip.AddrPort) (isNew bool) {
	if !addr.IsValid() {
		return false
	}
	addr = key(addr)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idx == nil {
		p.init(0)
	}
	now := p.now()
	if i, ok := p.idx[addr]; ok {
		p.ents[i].last = now
		p.moveFront(i)
		return false
	}
	var i int32
	switch {
	case p.free >= 0:
		i = p.free
		p.free = p.ents[i].next
	case len(p.ents) < p.max:
		p.ents = append(p.ents, peerEntry{})
		i = int32(len(p.ents) - 1)
	default:
		i = p.tail
		p.unlink(i)
		delete(p.idx, p.ents[i].addr)
		p.evictions++
	}
	p.ents[i] = peerEntry{addr: addr, last: now, prev: -1, next: -1}
	p.idx[addr] = i
	p.pushFront(i)
	return true
}

// Remove deletes addr and reports whether it was present.
func (p *Peers) Remove(addr netip.AddrPort) bool {
	addr = key(addr)
	p.mu.Lock()
	defer p.mu.Unlock()
	i, ok := p.idx[addr]
	if !ok {
		return false
	}
	p.drop(i)
	return true
}

// Expire removes every peer last seen before olderThan and returns how many
// it removed.
func (p *Peers) Expire(olderThan time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	if p.idx == nil {
		return 0
	}
	for p.tail >= 0 && p.ents[p.tail].last.Before(olderThan) {
		p.drop(p.tail)
		n++
	}
	return n
}

// Contains reports whether addr is in the table, without changing its
// recency.
func (p *Peers) Contains(addr netip.AddrPort) bool {
	addr = key(addr)
	p.mu.RLock()
	defer p.mu.RUnlock()
	_, ok := p.idx[addr]
	return ok
}

// Len returns the number of peers in the table.
func (p *Peers) Len() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.idx)
}

// Evictions returns how many peers were pushed out of the full table by a
// new one (Remove and Expire do not count).
func (p *Peers) Evictions() uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.evictions
}

// Snapshot appends every peer to dst, most recently seen first, and returns
// the extended slice (append-style: no allocation when dst has room, e.g.
// Snapshot(buf[:0]) with cap(buf) >= Cap()). The result is a copy; the table
// may change as soon as Snapshot returns.
func (p *Peers) Snapshot(dst []netip.AddrPort) []netip.AddrPort {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.idx == nil {
		return dst
	}
	for i := p.head; i >= 0; i = p.ents[i].next {
		dst = append(dst, p.ents[i].addr)
	}
	return dst
}

// Range calls f for each peer, most recently seen first, until f returns
// false. It holds the read lock throughout: f must not call methods of p
// that write (Seen, Remove, Expire), or it deadlocks; use Snapshot to act
// on the peers while the table changes.
func (p *Peers) Range(f func(netip.AddrPort) bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.idx == nil {
		return
	}
	for i := p.head; i >= 0; i = p.ents[i].next {
		if !f(p.ents[i].addr) {
			return
		}
	}
}

// drop unlinks slot i, removes it from the map and frees it.
func (p *Peers) drop(i int32) {
	p.unlink(i)
	delete(p.idx, p.ents[i].addr)
	p.ents[i] = peerEntry{prev: -1, next: p.free}
	p.free = i
}

func (p *Peers) unlink(i int32) {
	e := &p.ents[i]
	if e.prev >= 0 {
		p.ents[e.prev].next = e.next
	} else {
		p.head = e.next
	}
	if e.next >= 0 {
		p.ents[e.next].prev = e.prev
	} else {
		p.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (p *Peers) pushFront(i int32) {
	e := &p.ents[i]
	e.prev, e.next = -1, p.head
	if p.head >= 0 {
		p.ents[p.head].prev = i
	}
	p.head = i
	if p.tail < 0 {
		p.tail = i
	}
}

func (p *Peers) moveFront(i int32) {
	if p.head == i {
		return
	}
	p.unlink(i)
	p.pushFront(i)
}
