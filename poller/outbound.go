package poller

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/seed-fc4a2f4b/goipc/ring"
)

// Policy says what a write does when the connection already holds
// MaxPending bytes that the peer has not taken yet.
type Policy uint8

const (
	// PolicyError returns ErrBackpressure to the writer at once; nothing is
	// queued. It is the default: the caller decides to drop, retry or
	// disconnect.
	PolicyError Policy = iota
	// PolicyBlock makes the writer wait until there is room, at most
	// BlockTimeout, then return ErrBackpressure. Writers on the event loop
	// never block: they get ErrBackpressure at once.
	PolicyBlock
	// PolicyClose closes the slow connection and returns ErrBackpressure.
	PolicyClose
)

// outbound is a connection's queue of encoded frames waiting for the
// socket. Producers (any goroutine) append whole frames under mu; the
// connection's flusher (the event loop, or the writer goroutine) takes
// bytes without the lock through the ring's lock-free consumer side.
//
// Frames normally go into the fixed-capacity ring, encoded in place. When
// the ring can't take a frame (too large for the free space or for the
// ring), it goes to the overflow list, and so does every later frame until
// the flusher has drained the list: order is kept, and total pending bytes
// stay within max. The overflow list is the slow-consumer and large-frame
// path: frames are packed back to back into pooled 64 KiB chunks, so the
// flusher still writes up to a chunk per writev and a steady overflow
// allocates nothing (frames larger than a chunk get a chunk of their own,
// which does allocate). The ring is allocated on the first write, so idle
// connections cost no buffer.
type outbound struct {
	mu        sync.Mutex
	rp        atomic.Pointer[ring.Ring] // allocated by the first write; read lock-free by the flusher
	ringCap   int
	over      []*chunk // frames behind the ring, oldest first (from overHead), packed into chunks
	overHead  int      // index of the oldest chunk not yet written out
	overOff   int      // bytes of over[overHead] already written
	overBytes int
	scratch   []byte // encoding space when the ring's free space wraps
	reserved  []byte // the region handed out by begin, for commit to recognise
	resKind   uint8  // where reserved is: resRing, resLast (the last chunk's tail) or resNext
	next      *chunk // a pooled chunk begun into, appended to over by commit
	max       int
	policy    Policy
	block     time.Duration
	closed    bool

	pending atomic.Int64  // ring + overflow bytes, for Pending() from any goroutine
	room    chan struct{} // signalled by the flusher when it frees space; cap 1
}

func (o *outbound) init(ringCap, max int, policy Policy, block time.Duration) {
	o.ringCap, o.max, o.policy, o.block = ringCap, max, policy, block
	o.room = make(chan struct{}, 1)
}

// begin locks the queue and returns a zero-length slice with room for at
// least n bytes, into which the caller appends one frame and then calls
// commit (or abort). The slice is a region of the ring when the ring has n
// contiguous free bytes, else a scratch buffer.
func (o *outbound) begin(n int, onLoop bool) ([]byte, error) {
	o.mu.Lock()
	for {
		if o.closed {
			o.mu.Unlock()
			return nil, ErrClosed
		}
		if int(o.pending.Load())+n <= o.max {
			break
		}
		if o.policy != PolicyBlock || onLoop || o.block <= 0 {
			o.mu.Unlock()
			return nil, ErrBackpressure
		}
		// Wait for the flusher to make room, lock released.
		o.mu.Unlock()
		if !o.waitRoom() {
			return nil, ErrBackpressure
		}
		o.mu.Lock()
	}
	if o.overEmpty() && n <= o.ringCap {
		a, b := o.ringLocked().Space()
		if len(a) >= n {
			o.reserved, o.resKind = a, resRing
			return a[:0], nil
		}
		if len(a)+len(b) >= n {
			// The free space wraps: encode aside, commit copies it in.
			return o.scratchFor(n), nil
		}
	}
	// The ring is full, too small, or the overflow list is in use: encode
	// straight into the overflow list's last chunk, or a fresh one (of a
	// size class that fits n), rather than into scratch and then a chunk.
	if k := len(o.over); k > o.overHead {
		if last := o.over[k-1]; cap(last.b)-len(last.b) >= n {
			l := len(last.b)
			o.reserved, o.resKind = last.b[l:cap(last.b):cap(last.b)], resLast
			return o.reserved[:0], nil
		}
	}
	if o.next != nil && cap(o.next.b) < n {
		putChunk(o.next)
		o.next = nil
	}
	if o.next == nil {
		o.next = getChunk(n)
	}
	o.reserved, o.resKind = o.next.b[:0:cap(o.next.b)], resNext
	return o.reserved, nil
}

// Kinds of region begin hands out (outbound.resKind).
const (
	resNone uint8 = iota
	resRing
	resLast
	resNext
)

// releaseNext ends a reservation, returning an unused fresh chunk to the
// pool so that an idle connection keeps no chunk. Under mu.
func (o *outbound) releaseNext() {
	o.reserved, o.resKind = nil, resNone
	if c := o.next; c != nil {
		o.next = nil
		putChunk(c)
	}
}

// scratchFor returns the scratch buffer with room for n bytes. Under mu.
func (o *outbound) scratchFor(n int) []byte {
	if cap(o.scratch) < n {
		o.scratch = make([]byte, 0, n)
	}
	o.reserved, o.resKind = nil, resNone
	return o.scratch[:0]
}

var timerPool sync.Pool // *time.Timer, stopped

func (o *outbound) waitRoom() bool {
	t, _ := timerPool.Get().(*time.Timer)
	if t == nil {
		t = time.NewTimer(o.block)
	} else {
		t.Reset(o.block)
	}
	defer func() {
		t.Stop()
		timerPool.Put(t)
	}()
	select {
	case <-o.room:
		return true
	case <-t.C:
		return false
	}
}

// commit publishes the frame b, built on the slice begin returned, and
// unlocks. It reports whether the queue was empty before, so the caller
// knows whether to wake the flusher.
func (o *outbound) commit(b []byte) {
	n := len(b)
	inPlace := o.reserved != nil && len(b) <= cap(o.reserved) && unsafe.SliceData(b) == unsafe.SliceData(o.reserved)
	switch {
	case n == 0:
	case inPlace && o.resKind == resRing:
		o.rp.Load().Commit(n)
	case inPlace && o.resKind == resLast:
		last := o.over[len(o.over)-1]
		last.b = last.b[:len(last.b)+n]
		o.overBytes += n
	case inPlace && o.resKind == resNext:
		c := o.next
		o.next = nil
		c.b = c.b[:n]
		o.pushChunk(c)
		o.overBytes += n
	case o.overEmpty() && n <= o.ringCap && o.ringLocked().Free() >= n:
		_ = o.rp.Load().Write(b)
	default:
		o.appendOver(b)
	}
	o.releaseNext()
	o.pending.Add(int64(n))
	o.mu.Unlock()
}

// ringLocked returns the ring, allocating it on first use. Producer side,
// under mu.
func (o *outbound) ringLocked() *ring.Ring {
	r := o.rp.Load()
	if r == nil {
		r, _ = ring.New(o.ringCap)
		o.rp.Store(r)
	}
	return r
}

// abort releases the lock without publishing anything.
func (o *outbound) abort() {
	o.releaseNext()
	o.mu.Unlock()
}

// peek returns pending bytes for the flusher, ring first: up to two ring
// slices, or else the head of the overflow list. Consumer side only.
func (o *outbound) peek() (a, b []byte, fromRing bool) {
	if r := o.rp.Load(); r != nil {
		a, b = r.Peek()
		if len(a) > 0 {
			return a, b, true
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	// Look at the ring again under the lock: a producer may have put a
	// frame there, and another into the overflow list, since the look
	// above; the ring's frame is older and goes first.
	if r := o.rp.Load(); r != nil {
		if a, b = r.Peek(); len(a) > 0 {
			return a, b, true
		}
	}
	if !o.overEmpty() {
		// The slice stops at the chunk's length now; producers append only
		// past it, never touching what the flusher writes.
		return o.over[o.overHead].b[o.overOff:], nil, false
	}
	return nil, nil, false
}

// overEmpty reports whether the overflow list is empty. Under mu.
func (o *outbound) overEmpty() bool { return o.overHead == len(o.over) }

// chunkSize is the size of the smallest pooled chunks of the overflow
// list; frames larger than that get a chunk of the next power-of-two size
// class, pooled too, up to chunkSize<<(chunkClasses-1) (16 MiB).
const (
	chunkSize    = 64 << 10
	chunkClasses = 9
)

// chunk is a piece of the overflow list: frames back to back in b.
type chunk struct{ b []byte }

var chunkPools [chunkClasses]sync.Pool // of *chunk, class k holding chunkSize<<k bytes

func chunkClass(n int) int {
	k := 0
	for k < chunkClasses && chunkSize<<k < n {
		k++
	}
	return k
}

// getChunk returns an empty chunk with room for at least n bytes.
func getChunk(n int) *chunk {
	k := chunkClass(n)
	if k == chunkClasses {
		return &chunk{b: make([]byte, 0, n)} // beyond the classes: not pooled
	}
	if c, _ := chunkPools[k].Get().(*chunk); c != nil {
		return c
	}
	return &chunk{b: make([]byte, 0, chunkSize<<k)}
}

// putChunk recycles c if it is of a size class.
func putChunk(c *chunk) {
	k := chunkClass(cap(c.b))
	if k < chunkClasses && chunkSize<<k == cap(c.b) {
		c.b = c.b[:0]
		chunkPools[k].Put(c)
	}
}

// appendOver packs frame b at the end of the overflow list. Producer side,
// under mu.
func (o *outbound) appendOver(b []byte) {
	if k := len(o.over); k > o.overHead {
		if last := o.over[k-1]; cap(last.b)-len(last.b) >= len(b) {
			last.b = append(last.b, b...)
			o.overBytes += len(b)
			return
		}
	}
	var c *chunk
	if o.next != nil && cap(o.next.b) >= len(b) {
		c, o.next = o.next, nil
	} else {
		c = getChunk(len(b))
	}
	c.b = append(c.b[:0], b...)
	o.pushChunk(c)
	o.overBytes += len(b)
}

// pushChunk appends c to the overflow list. Producer side, under mu.
func (o *outbound) pushChunk(c *chunk) {
	if o.overHead > 0 && o.overHead >= len(o.over)/2 {
		// Slide the live chunks to the front so a list that never quite
		// empties doesn't grow.
		n := copy(o.over, o.over[o.overHead:])
		clear(o.over[n:])
		o.over, o.overHead = o.over[:n], 0
	}
	o.over = append(o.over, c)
}

// consume marks n bytes of what peek returned as written. Consumer side only.
func (o *outbound) consume(n int, fromRing bool) {
	if n == 0 {
		return
	}
	if fromRing {
		if r := o.rp.Load(); r != nil { // nil once released
			r.Consume(n)
		}
	} else {
		o.mu.Lock()
		if o.overEmpty() { // released meanwhile
			o.mu.Unlock()
			return
		}
		o.overOff += n
		o.overBytes -= n
		if c := o.over[o.overHead]; o.overOff == len(c.b) {
			// Written out (producers append to a chunk only under mu, so
			// nothing more can land in it now): recycle it.
			o.over[o.overHead] = nil
			o.overHead++
			o.overOff = 0
			if o.overHead == len(o.over) {
				o.over, o.overHead = o.over[:0], 0
			}
			putChunk(c)
		}
		o.mu.Unlock()
	}
	o.pending.Add(-int64(n))
	select {
	case o.room <- struct{}{}:
	default:
	}
}

// empty reports whether nothing is pending.
func (o *outbound) empty() bool { return o.pending.Load() == 0 }

// release drops the buffers of a closed connection, so a Conn the
// application still holds costs no ring and no overflow. Whatever was
// still queued is gone; writes already fail with ErrClosed.
func (o *outbound) release() {
	o.mu.Lock()
	o.closed = true
	o.rp.Store(nil)
	for i := o.overHead; i < len(o.over); i++ {
		putChunk(o.over[i])
	}
	o.over, o.overHead, o.overOff, o.overBytes = nil, 0, 0, 0
	o.scratch = nil
	o.pending.Store(0)
	o.mu.Unlock()
}

// close makes further writes fail with ErrClosed. Pending bytes stay for a
// graceful flush.
func (o *outbound) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	select {
	case o.room <- struct{}{}:
	default:
	}
}
