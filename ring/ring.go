package ring

import (
	"fmt"
	"math/bits"
	"sync/atomic"
)

// MaxCapacity is the largest capacity New and NewMPSC accept (1 GiB).
const MaxCapacity = 1 << 30

// cacheLine is the padding unit that keeps the producer's and the consumer's
// hot fields on separate cache lines (64 bytes on amd64 and most arm64).
const cacheLine = 64

// Ring is a single-producer single-consumer, lock-free byte ring of fixed,
// power-of-two capacity.
//
// Producer methods: Write, WriteParts, Space, Commit. Consumer methods: Peek,
// Consume, Reset. Any goroutine: Len, Free, Cap. At most one goroutine may act
// as producer and at most one as consumer at any moment (they may be
// different goroutines, running concurrently). Use MPSC when several
// goroutines write.
//
// A Ring must be created with New; the zero value is not usable. A Ring must
// not be copied after first use.
type Ring struct {
	// Read-only after New.
	buf  []byte
	mask uint64
	_    [cacheLine - 32]byte

	// Producer side: head is written only by the producer, read by anyone.
	// tailCache is the producer's last view of tail; it is touched only by
	// the producer and spares a load of the consumer's cache line while
	// there is known free space.
	head      atomic.Uint64
	tailCache uint64
	_         [cacheLine - 16]byte

	// Consumer side: tail is written only by the consumer, read by anyone.
	tail atomic.Uint64
	_    [cacheLine - 8]byte
}

// New returns an empty Ring whose capacity is capacity rounded up to a power
// of two. It returns an error wrapping ErrInvalidCapacity if capacity is not
// in 1..MaxCapacity. The buffer is allocated here, once; no other method
// allocates.
func New(capacity int) (*Ring, error) {
	r := new(Ring)
	if err := r.init(capacity); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Ring) init(capacity int) error {
	if capacity <= 0 || capacity > MaxCapacity {
		return fmt.Errorf("%w: %d (want 1..%d)", ErrInvalidCapacity, capacity, MaxCapacity)
	}
	size := 1 << bits.Len(uint(capacity-1))
	r.buf = make([]byte, size)
	r.mask = uint64(size - 1)
	return nil
}

// Cap returns the ring's capacity in bytes, a power of two. It never changes.
// Safe from any goroutine.
func (r *Ring) Cap() int { return len(r.buf) }

// Len returns the number of pending bytes: published by producers and not yet
// consumed. Safe from any goroutine; from anywhere but the consumer the value
// is a snapshot that may be stale at once. Only the consumer may rely on at
// least Len bytes being readable.
func (r *Ring) Len() int {
	// Load tail before head: tail only grows and never passes head, so the
	// difference is never negative. It can exceed the capacity only if both
	// moved between the loads; clamp that.
	t := r.tail.Load()
	h := r.head.Load()
	n := h - t
	if n > uint64(len(r.buf)) {
		n = uint64(len(r.buf))
	}
	return int(n)
}

// Free returns Cap()-Len(), the number of bytes a write could take now. Safe
// from any goroutine; from anywhere but the producer the value is a snapshot.
// Only the producer may rely on at least Free bytes being writable.
func (r *Ring) Free() int { return len(r.buf) - r.Len() }

// free returns the producer's position and the free space. Producer only.
// It reloads tail only when the cached value shows less than need bytes free.
func (r *Ring) free(need uint64) (h, free uint64) {
	h = r.head.Load()
	size := uint64(len(r.buf))
	free = size - (h - r.tailCache)
	if free < need {
		r.tailCache = r.tail.Load()
		free = size - (h - r.tailCache)
	}
	return h, free
}

// put copies p into the ring at position pos, wrapping at the end.
// Producer only; the caller has checked the space.
func (r *Ring) put(pos uint64, p []byte) {
	i := pos & r.mask
	n := copy(r.buf[i:], p)
	copy(r.buf, p[n:])
}

// Write appends all of p to the ring, or nothing. It returns ErrTooLarge if
// len(p) > Cap() and ErrFull if less than len(p) bytes are free; in both
// cases the ring is unchanged. An empty p is a no-op. The ring copies p; the
// caller keeps ownership of it. Producer only.
func (r *Ring) Write(p []byte) error {
	n := uint64(len(p))
	if n == 0 {
		return nil
	}
	if n > uint64(len(r.buf)) {
		return ErrTooLarge
	}
	h, free := r.free(n)
	if n > free {
		return ErrFull
	}
	r.put(h, p)
	r.head.Store(h + n)
	return nil
}

// WriteParts appends a followed by b as one unit: the consumer sees both or
// neither, never a without b. It suits a frame header and its payload without
// concatenating them first. It returns ErrTooLarge if len(a)+len(b) > Cap()
// and ErrFull if that many bytes are not free; in both cases the ring is
// unchanged. The ring copies a and b. Producer only.
func (r *Ring) WriteParts(a, b []byte) error {
	na, nb := uint64(len(a)), uint64(len(b))
	n := na + nb
	if n == 0 {
		return nil
	}
	if n > uint64(len(r.buf)) {
		return ErrTooLarge
	}
	h, free := r.free(n)
	if n > free {
		return ErrFull
	}
	r.put(h, a)
	r.put(h+na, b)
	r.head.Store(h + n)
	return nil
}

// Space returns the ring's free space as up to two slices, in write order:
// first, then second (second is empty unless the free region wraps). Both
// alias the ring. The producer may write into them and then call Commit(n)
// to publish the first n bytes, counted across first then second; nothing is
// visible to the consumer before Commit. The slices are valid until the next
// producer call (Commit, Write, WriteParts or Space); the consumer never
// touches free space, so they stay stable until then. Their capacities are
// clipped, so append on them never writes past the free region. Producer only.
func (r *Ring) Space() (first, second []byte) {
	h, free := r.free(uint64(len(r.buf)))
	if free == 0 {
		return nil, nil
	}
	i := h & r.mask
	end := i + free
	size := uint64(len(r.buf))
	if end <= size {
		return r.buf[i:end:end], nil
	}
	end -= size
	return r.buf[i:size:size], r.buf[0:end:end]
}

// Commit publishes n bytes written into the slices returned by Space. It
// panics if n is negative or larger than the free space (a programming
// error). Commit(0) is a no-op. Producer only.
func (r *Ring) Commit(n int) {
	if n < 0 {
		panic("ring: Commit with negative count")
	}
	if n == 0 {
		return
	}
	h, free := r.free(uint64(n))
	if uint64(n) > free {
		panic("ring: Commit beyond free space")
	}
	r.head.Store(h + uint64(n))
}

// Peek returns the pending bytes as up to two slices, in order: first, then
// second (second is empty unless the data wraps the end of the buffer). Both
// are empty when nothing is pending. They alias the ring and are valid only
// until the next Consume or Reset; the caller must not modify them or keep
// them past that point. Their capacities are clipped to their lengths. Bytes
// published after Peek returns are not included. Consumer only.
func (r *Ring) Peek() (first, second []byte) {
	t := r.tail.Load()
	n := r.head.Load() - t
	if n == 0 {
		return nil, nil
	}
	i := t & r.mask
	end := i + n
	size := uint64(len(r.buf))
	if end <= size {
		return r.buf[i:end:end], nil
	}
	end -= size
	return r.buf[i:size:size], r.buf[0:end:end]
}

// Consume discards the first n pending bytes, freeing their space for
// producers and ending the validity of slices returned by Peek. It panics if
// n is negative or larger than Len() (a programming error). Consumer only.
func (r *Ring) Consume(n int) {
	if n < 0 {
		panic("ring: Consume with negative count")
	}
	t := r.tail.Load()
	if uint64(n) > r.head.Load()-t {
		panic("ring: Consume beyond pending bytes")
	}
	r.tail.Store(t + uint64(n))
}

// Reset discards every pending byte, as Consume(Len()) would. Bytes a
// producer publishes concurrently may or may not be discarded, but never half
// of a write. It does not clear memory or move positions back. Consumer only:
// it must not run concurrently with Peek or Consume, and it ends the validity
// of slices returned by Peek. It may run concurrently with producers.
func (r *Ring) Reset() {
	r.tail.Store(r.head.Load())
}
