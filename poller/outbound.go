package poller

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/cpu"
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
// socket: a list of chunks, frames packed back to back in each. Producers
// (any goroutine) encode whole frames in place at the end of the last
// chunk, under mu; when a frame does not fit they start a new chunk (of
// the RingSize, or of the frame's size class if larger) and link it
// behind. The connection's flusher (the event loop, or the writer
// goroutine) reads and releases bytes without the lock: it loads a
// chunk's published length, writes the bytes up to it with one writev,
// and moves on to the next chunk once the producers have left the current
// one, returning it to a pool.
//
// So a frame costs its producer one uncontended lock and one atomic store
// (the chunk's length), and the flusher never takes the producers' lock:
// an earlier design whose flusher locked once per batch spent 10–20 % of
// a 64-byte stream with the producer spinning on the lock. The producer
// reads the flusher's progress (for MaxPending) only when its cached copy
// says the queue may be full. Chunks are pooled by power-of-two size
// class, so a steady stream, a slow consumer within MaxPending and large
// frames alike allocate nothing once warm; a connection that has never
// written holds no chunk.
type outbound struct {
	mu sync.Mutex
	// Producer side, under mu.
	last      *chunk // the chunk frames are appended to; nil before the first write
	lastLen   int    // bytes in last (published as last.n)
	written   uint64 // bytes ever queued
	doneCache uint64 // the producers' copy of done: never ahead of it
	reserved  []byte // the region handed out by begin, for commit to recognise
	fresh     *chunk // a chunk begun into and not linked yet
	chunkCap  int    // capacity of ordinary chunks (Config.RingSize, a power of two)
	max       int
	policy    Policy
	block     time.Duration
	closed    bool

	// beforeWait, when set, runs before a producer waits for room (with
	// the lock released): the goroutine engine's reader may hold a flush
	// back until its handler returns, and the handler may be the producer.
	beforeWait func()

	// Shared.
	first atomic.Pointer[chunk] // the first chunk linked, until the flusher takes it
	dead  atomic.Bool           // released: the flusher drops its chunk
	room  chan struct{}         // signalled by the flusher when it frees space; cap 1

	// Flusher side. done is written once per writev and the producers'
	// fields above once per frame: the pad keeps them off one cache line
	// (sharing it put a fifth of a 64-byte stream's CPU profile on the
	// producer's first touch of the line).
	_       cpu.CacheLinePad
	done    atomic.Uint64 // bytes ever taken by the flusher; read by producers
	head    *chunk        // the chunk being read; only the flusher touches it
	headOff int           // bytes of head already taken; flusher only
	_       cpu.CacheLinePad
}

// chunk is a piece of the queue: n bytes of frames at the start of b.
type chunk struct {
	b    []byte                // capacity fixed; producers write past n under mu
	n    atomic.Int64          // bytes published, stored under mu
	next atomic.Pointer[chunk] // set once, under mu, when producers move on
}

func (o *outbound) init(ringCap, maxPending int, policy Policy, block time.Duration) {
	if k := chunkClass(ringCap); k < chunkClasses {
		o.chunkCap = minChunk << k
	} else {
		o.chunkCap = ringCap
	}
	o.max, o.policy, o.block = maxPending, policy, block
	o.room = make(chan struct{}, 1)
}

// pendingAtMost reports whether at most limit bytes are queued, looking at
// the flusher's progress only when the cached copy says no. Under mu.
func (o *outbound) pendingAtMost(limit int) bool {
	if int(o.written-o.doneCache) <= limit {
		return true
	}
	o.doneCache = o.done.Load()
	return int(o.written-o.doneCache) <= limit
}

// pendingBytes returns the bytes queued and not yet taken by the flusher.
// Any goroutine.
func (o *outbound) pendingBytes() int {
	o.mu.Lock()
	n := 0
	if !o.dead.Load() {
		o.doneCache = o.done.Load()
		n = int(o.written - o.doneCache)
	}
	o.mu.Unlock()
	return n
}

// begin locks the queue and returns a zero-length slice with room for at
// least n bytes, into which the caller appends one frame and then calls
// commit (or abort): the end of the last chunk, or a fresh chunk that
// commit links behind it.
func (o *outbound) begin(n int, onLoop bool) ([]byte, error) {
	if err := o.lockRoom(n, onLoop); err != nil {
		return nil, err
	}
	o.reserve(n)
	return o.reserved[:0], nil
}

// lockRoom locks the queue once it has room for n more bytes (or, for
// more than the bound, once it is empty), waiting for the flusher under
// PolicyBlock. On error the queue is unlocked.
func (o *outbound) lockRoom(n int, onLoop bool) error {
	o.mu.Lock()
	for {
		if o.closed {
			o.mu.Unlock()
			return ErrClosed
		}
		if o.pendingAtMost(max(o.max-n, 0)) {
			return nil
		}
		if o.policy != PolicyBlock || onLoop || o.block <= 0 {
			o.mu.Unlock()
			return ErrBackpressure
		}
		// Wait for the flusher to make room, lock released.
		o.mu.Unlock()
		if o.beforeWait != nil {
			o.beforeWait()
		}
		if !o.waitRoom() {
			return ErrBackpressure
		}
		o.mu.Lock()
	}
}

// adopt queues the n bytes of frames at the start of c as they are: c
// becomes the last chunk, and producers append behind them. The caller
// gives c up. Room is checked as for begin.
func (o *outbound) adopt(c *chunk, n int, onLoop bool) error {
	if err := o.lockRoom(n, onLoop); err != nil {
		return err
	}
	o.link(c, n)
	o.written += uint64(n)
	o.mu.Unlock()
	return nil
}

// link makes c, holding n bytes of frames, the last chunk. Under mu. The
// length is published before the link: a flusher that sees the link sees
// the old last chunk's final length too, and c's.
func (o *outbound) link(c *chunk, n int) {
	c.n.Store(int64(n))
	if o.last == nil {
		o.first.Store(c)
	} else {
		o.last.next.Store(c)
	}
	o.last, o.lastLen = c, n
}

// reserve points o.reserved at room for n bytes: the rest of the last
// chunk, or else a fresh chunk (kept if it is large enough). Under mu.
func (o *outbound) reserve(n int) {
	if c := o.last; c != nil && cap(c.b)-o.lastLen >= n {
		o.reserved = c.b[o.lastLen:cap(c.b):cap(c.b)]
		return
	}
	if o.fresh != nil && cap(o.fresh.b) < n {
		putChunk(o.fresh)
		o.fresh = nil
	}
	if o.fresh == nil {
		o.fresh = getChunk(max(n, o.chunkCap))
	}
	o.reserved = o.fresh.b[:0:cap(o.fresh.b)]
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
// unlocks.
func (o *outbound) commit(b []byte) {
	n := len(b)
	if n > 0 {
		if n > cap(o.reserved) || unsafe.SliceData(b) != unsafe.SliceData(o.reserved) {
			// Not built in place (the caller's append outgrew the region):
			// copy it to where begin would have put a frame of this size.
			o.reserve(n)
			copy(o.reserved[:n], b)
		}
		if c := o.fresh; c != nil {
			o.fresh = nil
			o.link(c, n)
		} else {
			o.lastLen += n
			o.last.n.Store(int64(o.lastLen))
		}
		o.written += uint64(n)
	}
	o.releaseFresh()
	o.mu.Unlock()
}

// abort releases the lock without publishing anything.
func (o *outbound) abort() {
	o.releaseFresh()
	o.mu.Unlock()
}

// releaseFresh ends a reservation, returning an unused fresh chunk to the
// pool. Under mu.
func (o *outbound) releaseFresh() {
	o.reserved = nil
	if c := o.fresh; c != nil {
		o.fresh = nil
		putChunk(c)
	}
}

// peek returns queued bytes for the flusher, oldest first: the rest of
// the current chunk and, when the producers have moved on from it, what
// the next chunk holds. The bytes stay untouched by producers until
// consume releases them. Flusher only.
func (o *outbound) peek() (a, b []byte) {
	if o.dead.Load() {
		o.head = nil
		return nil, nil
	}
	c := o.head
	if c == nil {
		// Taken once: the queue never runs out of chunks again.
		if c = o.first.Swap(nil); c == nil {
			return nil, nil
		}
		o.head, o.headOff = c, 0
	}
	for {
		// Load the link before the length: the producers publish c's
		// final length before they link next, so a next seen here means
		// the n loaded after it is final. (Loaded the other way round, a
		// producer could append to c and link next in between, and the
		// bytes it appended would be skipped.)
		next := c.next.Load()
		if testHookPeek != nil {
			testHookPeek()
		}
		n := int(c.n.Load())
		if o.headOff < n {
			a = c.b[o.headOff:n:n]
			if next != nil {
				if k := int(next.n.Load()); k > 0 {
					b = next.b[:k:k]
				}
			}
			return a, b
		}
		if next == nil {
			return nil, nil
		}
		// c is done and fully taken.
		o.head, o.headOff = next, 0
		putChunk(c)
		c = next
	}
}

// testHookPeek, when set by a test, runs in peek between loading a
// chunk's link and its length: where a producer's append and link must not
// make the flusher skip bytes.
var testHookPeek func()

// consume releases the first n bytes of what peek returned. Flusher only.
func (o *outbound) consume(n int) {
	if n <= 0 || o.head == nil {
		return
	}
	o.done.Add(uint64(n))
	for n > 0 {
		c := o.head
		k := min(n, int(c.n.Load())-o.headOff)
		o.headOff += k
		n -= k
		if n > 0 || o.headOff == cap(c.b) {
			// Past the end of c: peek returned bytes of the next chunk, so
			// the producers have left c.
			if next := c.next.Load(); next != nil {
				o.head, o.headOff = next, 0
				putChunk(c)
				continue
			}
		}
		break
	}
	select {
	case o.room <- struct{}{}:
	default:
	}
}

// drained reports whether nothing is pending and whether the queue is
// closed to writes, both under the producers' lock: once it says closed,
// no frame can be added, and empty then means for good.
func (o *outbound) drained() (empty, closed bool) {
	o.mu.Lock()
	empty = o.dead.Load() || o.written == o.done.Load()
	closed = o.closed
	o.mu.Unlock()
	return empty, closed
}

// release drops the queue of a closed connection, so that a Conn the
// application still holds costs no buffer. Whatever was still queued is
// gone; writes already fail with ErrClosed. The chunks are left to the
// garbage collector rather than pooled: a flusher on another goroutine
// may still be writing from one.
func (o *outbound) release() {
	o.mu.Lock()
	o.closed = true
	o.dead.Store(true)
	o.last, o.lastLen = nil, 0
	o.first.Store(nil)
	o.releaseFresh()
	o.mu.Unlock()
}

// dropHead is called by the flusher when it stops for good: it lets go of
// the chunk it was reading.
func (o *outbound) dropHead() { o.head = nil }

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

// A Buffer is memory for frames on their way to a connection's queue,
// for a producer that encodes many frames before queueing them all at
// once (goipc's Batch): Conn.WriteBuffer queues a Buffer's frames by
// taking its memory into the queue, with no copy, when it is at least
// half full, and hands back fresh memory of the same size; a Buffer less
// full is copied, as Write copies, so that a queue of part-filled buffers
// never holds much more memory than it has bytes pending. Buffers come
// from the queues' chunk pools, so a steady stream allocates nothing.
//
// A Buffer belongs to one goroutine at a time.
type Buffer struct {
	// B holds the frames encoded so far. Append to it within its
	// capacity (which a caller may lower by reslicing, never raise): a B
	// that outgrew it, moved by append, is copied when written, like any
	// other bytes.
	B []byte
	c *chunk
}

// NewBuffer returns an empty Buffer with room for at least size bytes
// (rounded up to the queues' next chunk size, powers of two from 4 KiB).
func NewBuffer(size int) *Buffer {
	buf := &Buffer{}
	buf.refill(size)
	return buf
}

// refill gives buf new memory for size bytes, and empties B.
func (buf *Buffer) refill(size int) {
	buf.c = getChunk(size)
	buf.empty()
}

// empty makes B empty, with all of the Buffer's memory.
func (buf *Buffer) empty() { buf.B = buf.c.b[:0:cap(buf.c.b)] }

// lendable reports whether B still starts the Buffer's own memory and
// fills at least half of its capacity: then it is queued without a copy.
func (buf *Buffer) lendable() bool {
	return unsafe.SliceData(buf.B) == unsafe.SliceData(buf.c.b) && cap(buf.B) <= cap(buf.c.b) && 2*len(buf.B) >= cap(buf.B)
}

// Chunks come in power-of-two size classes from minChunk (4 KiB) to
// minChunk<<(chunkClasses-1) (16 MiB), each class pooled; larger frames
// get a chunk of their own, not pooled.
const (
	minChunk     = 4 << 10
	chunkClasses = 13
)

var chunkPools [chunkClasses]sync.Pool // of *chunk, class k holding minChunk<<k bytes

// chunkClass returns the smallest class that holds n bytes, or
// chunkClasses if none does.
func chunkClass(n int) int {
	if n <= minChunk {
		return 0
	}
	return min(bits.Len(uint(n-1))-bits.Len(minChunk-1), chunkClasses)
}

// getChunk returns an empty chunk with room for at least n bytes.
func getChunk(n int) *chunk {
	k := chunkClass(n)
	if k == chunkClasses {
		return &chunk{b: make([]byte, 0, n)}
	}
	if c, _ := chunkPools[k].Get().(*chunk); c != nil {
		return c
	}
	return &chunk{b: make([]byte, 0, minChunk<<k)}
}

// putChunk resets c and pools it if it is of a size class. The caller
// must be its only user.
func putChunk(c *chunk) {
	c.n.Store(0)
	c.next.Store(nil)
	if k := chunkClass(cap(c.b)); k < chunkClasses && minChunk<<k == cap(c.b) {
		chunkPools[k].Put(c)
	}
}
