package ring

import "sync"

// MPSC is a multi-producer single-consumer byte ring of fixed, power-of-two
// capacity. Any number of goroutines may call Write, WriteParts and
// Reserve/Commit concurrently; each write lands whole and contiguous, never
// split or interleaved with another writer's bytes. One goroutine at a time
// may call the consumer methods Peek, Consume and Reset. Len, Free and Cap
// are safe from any goroutine.
//
// Producers are serialized by a sync.Mutex rather than a lock-free
// reserve/commit protocol. With lock-free reservation, a writer preempted
// between reserving and publishing stalls every later writer (they must spin
// until it publishes, since the consumer reads in order), and on a small
// number of CPUs that spinning burns the time the preempted writer needs. An
// uncontended mutex costs about 15-20 ns, never allocates, and parks
// contended writers instead of spinning. The consumer side takes no lock:
// producers only advance head, the consumer only advances tail, both
// atomically.
//
// An MPSC must be created with NewMPSC and must not be copied after first use.
type MPSC struct {
	mu sync.Mutex
	r  Ring
}

// NewMPSC returns an empty MPSC whose capacity is capacity rounded up to a
// power of two. It returns an error wrapping ErrInvalidCapacity if capacity
// is not in 1..MaxCapacity. The buffer is allocated here, once; no other
// method allocates.
func NewMPSC(capacity int) (*MPSC, error) {
	m := new(MPSC)
	if err := m.r.init(capacity); err != nil {
		return nil, err
	}
	return m, nil
}

// Cap returns the capacity in bytes, a power of two. Safe from any goroutine.
func (m *MPSC) Cap() int { return m.r.Cap() }

// Len returns the number of pending bytes. Safe from any goroutine; see
// Ring.Len for how stale the value may be.
func (m *MPSC) Len() int { return m.r.Len() }

// Free returns Cap()-Len(). Safe from any goroutine; with several producers
// it is only a hint: another writer may take the space first.
func (m *MPSC) Free() int { return m.r.Free() }

// Write appends all of p as one contiguous unit, or nothing. It returns
// ErrTooLarge if len(p) > Cap() and ErrFull if less than len(p) bytes are
// free; in both cases nothing is written. The ring copies p. Safe for
// concurrent use by any number of producers.
func (m *MPSC) Write(p []byte) error {
	m.mu.Lock()
	err := m.r.Write(p)
	m.mu.Unlock()
	return err
}

// WriteParts appends a then b as one contiguous unit, or nothing; no other
// writer's bytes come between them. Errors as for Write. The ring copies a
// and b. Safe for concurrent use by any number of producers.
func (m *MPSC) WriteParts(a, b []byte) error {
	m.mu.Lock()
	err := m.r.WriteParts(a, b)
	m.mu.Unlock()
	return err
}

// Reserve takes the producer lock and returns the free space as up to two
// slices aliasing the ring, as Ring.Space does (first, then second; either
// or both may be empty when the ring is full). The caller writes into them
// and then must call Commit exactly once, from the same code path, to
// publish the bytes and release the lock; Commit(0) abandons the
// reservation. Until Commit, every other producer blocks, so keep the work
// between Reserve and Commit short and never block in it. The slices are
// valid only until Commit. Safe for concurrent use by any number of
// producers.
func (m *MPSC) Reserve() (first, second []byte) {
	m.mu.Lock()
	return m.r.Space()
}

// Commit publishes the first n bytes written into the slices returned by
// Reserve (counted across first then second) and releases the producer lock.
// It must be called exactly once after each Reserve and never otherwise. It
// panics, after releasing the lock, if n is negative or larger than the
// reserved space.
func (m *MPSC) Commit(n int) {
	if n < 0 || n > m.r.Cap()-int(m.r.head.Load()-m.r.tailCache) {
		// tailCache is the tail that Reserve's Space used, so this is
		// exactly the reserved length.
		m.mu.Unlock()
		panic("ring: Commit beyond reserved space")
	}
	m.r.Commit(n)
	m.mu.Unlock()
}

// Peek returns the pending bytes as up to two slices aliasing the ring, valid
// until the next Consume or Reset; see Ring.Peek. Takes no lock. Consumer
// only.
func (m *MPSC) Peek() (first, second []byte) { return m.r.Peek() }

// Consume discards the first n pending bytes; it panics if n is negative or
// larger than Len(). See Ring.Consume. Takes no lock. Consumer only.
func (m *MPSC) Consume(n int) { m.r.Consume(n) }

// Reset discards every pending byte, as Consume(Len()) would; a concurrent
// producer's write is discarded whole or kept whole. Consumer only. Takes no
// lock.
func (m *MPSC) Reset() { m.r.Reset() }
