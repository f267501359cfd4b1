package poller

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// Frames of mixed sizes (some larger than a chunk), written while the
// flusher drains concurrently, must come out in the order written.
func TestOutboundOrderAcrossChunks(t *testing.T) {
	var o outbound
	o.init(1024, 1<<20, PolicyError, 0)
	const frames = 30000
	sizes := []int{8, 900, 3000, 16, 1024, 5000, 100}
	go func() {
		for i := range frames {
			n := sizes[i%len(sizes)]
			for {
				b, err := o.begin(n, false)
				if err == ErrBackpressure {
					time.Sleep(10 * time.Microsecond)
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				f := make([]byte, n)
				binary.BigEndian.PutUint32(f, uint32(i))
				binary.BigEndian.PutUint32(f[4:], uint32(n))
				o.commit(append(b, f...))
				break
			}
		}
	}()
	var stream []byte
	deadline := time.Now().Add(20 * time.Second)
	next := 0
	for next < frames {
		if time.Now().After(deadline) {
			t.Fatalf("stuck at frame %d", next)
		}
		a, b := o.peek()
		if len(a) == 0 {
			continue
		}
		stream = append(append(stream, a...), b...)
		o.consume(len(a) + len(b))
		for len(stream) >= 8 {
			i, n := binary.BigEndian.Uint32(stream), binary.BigEndian.Uint32(stream[4:])
			if int(i) != next || int(n) != sizes[next%len(sizes)] {
				t.Fatalf("frame %d: header says %d (%d bytes)", next, i, n)
			}
			if len(stream) < int(n) {
				break
			}
			stream = stream[n:]
			next++
		}
	}
	if o.pendingBytes() != 0 {
		t.Fatalf("%d bytes left pending", o.pendingBytes())
	}
}

// A producer that appends to the flusher's chunk and links a new one while
// the flusher is between reading the chunk's link and its length must not
// make the flusher skip the appended frame.
func TestOutboundPeekRacingProducer(t *testing.T) {
	var o outbound
	o.init(1024, 1<<20, PolicyError, 0) // 4 KiB chunks
	put := func(fill byte, n int) {
		b, err := o.begin(n, false)
		if err != nil {
			t.Fatal(err)
		}
		o.commit(append(b, bytes.Repeat([]byte{fill}, n)...))
	}
	put(1, 1000)
	a, _ := o.peek() // the flusher holds the first chunk
	o.consume(len(a))
	put(2, 1000)
	testHookPeek = func() {
		testHookPeek = nil
		put(3, 1000) // fits the first chunk
		put(4, 3000) // does not: a new chunk is linked
	}
	defer func() { testHookPeek = nil }()
	var got []byte
	for range 10 {
		a, b := o.peek()
		if len(a) == 0 {
			break
		}
		got = append(append(got, a...), b...)
		o.consume(len(a) + len(b))
	}
	want := append(append(bytes.Repeat([]byte{2}, 1000), bytes.Repeat([]byte{3}, 1000)...), bytes.Repeat([]byte{4}, 3000)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("flushed %d bytes after the race, want %d: frames skipped or reordered", len(got), len(want))
	}
	if o.pendingBytes() != 0 {
		t.Fatalf("%d bytes left pending", o.pendingBytes())
	}
}

// A writer that outruns the flusher fills chunk after chunk: frames are
// packed, so each flush takes the rest of a chunk and the whole of the
// next, not one frame.
func TestOutboundPacksFrames(t *testing.T) {
	var o outbound
	o.init(1024, 1<<20, PolicyError, 0) // 4 KiB chunks, the smallest class
	frame := make([]byte, 72)
	const frames = 2000
	for range frames {
		b, err := o.begin(len(frame), false)
		if err != nil {
			t.Fatal(err)
		}
		o.commit(append(b, frame...))
	}
	perChunk := 4096 / 72 * 72
	total, flushes := 0, 0
	for {
		a, b := o.peek()
		if len(a) == 0 {
			break
		}
		n := len(a) + len(b)
		if total+n < frames*72 && n < 2*perChunk {
			t.Fatalf("flush %d took %d bytes with %d pending: frames not packed", flushes, n, o.pendingBytes())
		}
		o.consume(n)
		total += n
		flushes++
	}
	if total != frames*72 || o.pendingBytes() != 0 {
		t.Fatalf("flushed %d bytes, %d left pending; want %d, 0", total, o.pendingBytes(), frames*72)
	}
}

// MaxPending counts what the flusher has not taken: a full queue refuses
// (PolicyError), and consuming makes room again.
func TestOutboundMaxPending(t *testing.T) {
	var o outbound
	o.init(4096, 1000, PolicyError, 0)
	frame := make([]byte, 100)
	for i := range 10 {
		b, err := o.begin(len(frame), false)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		o.commit(append(b, frame...))
	}
	if _, err := o.begin(1, false); err != ErrBackpressure {
		t.Fatalf("begin on a full queue: %v, want ErrBackpressure", err)
	}
	a, _ := o.peek()
	o.consume(len(a) / 2)
	if o.pendingBytes() != 1000-len(a)/2 {
		t.Fatalf("pending %d after consuming %d of 1000", o.pendingBytes(), len(a)/2)
	}
	b, err := o.begin(len(frame), false)
	if err != nil {
		t.Fatalf("begin after consume: %v", err)
	}
	o.abort()
	_ = b
	o.release()
	if a, _ := o.peek(); len(a) != 0 || o.pendingBytes() != 0 {
		t.Fatalf("released queue still shows %d bytes, %d pending", len(a), o.pendingBytes())
	}
	if _, err := o.begin(1, false); err != ErrClosed {
		t.Fatalf("begin after release: %v, want ErrClosed", err)
	}
}

// A frame committed from a slice other than the one begin returned (the
// caller's append outgrew it) is copied into the queue, in order, whether
// it fits the last chunk or needs a chunk of its own.
func TestOutboundCommitNotInPlace(t *testing.T) {
	var o outbound
	o.init(4096, 1<<20, PolicyError, 0)
	var want []byte
	for i, size := range []int{10, 100, 5000, 20} {
		b, err := o.begin(8, false)
		if err != nil {
			t.Fatal(err)
		}
		f := append(make([]byte, 0, size), b[:0]...)
		for range size {
			f = append(f, byte(i+1))
		}
		o.commit(f)
		want = append(want, f...)
	}
	var got []byte
	for {
		a, b := o.peek()
		if len(a) == 0 {
			break
		}
		got = append(append(got, a...), b...)
		o.consume(len(a) + len(b))
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("flushed %d bytes, want %d in order", len(got), len(want))
	}
}

// A frame larger than MaxPending is queued into an empty queue and only
// there: with anything pending it meets the policy (here: refused, then,
// once the flusher has taken everything, accepted).
func TestOutboundFrameLargerThanMaxPending(t *testing.T) {
	var o outbound
	o.init(4096, 8<<10, PolicyError, 0)
	put := func(n int) error {
		b, err := o.begin(n, false)
		if err != nil {
			return err
		}
		o.commit(append(b, make([]byte, n)...))
		return nil
	}
	if err := put(20 << 10); err != nil {
		t.Fatalf("20 KiB frame into an empty queue bounded at 8 KiB: %v", err)
	}
	if got := o.pendingBytes(); got != 20<<10 {
		t.Fatalf("pending %d, want %d", got, 20<<10)
	}
	if err := put(1); err != ErrBackpressure {
		t.Fatalf("1 byte behind 20 KiB pending (bound 8 KiB): %v, want ErrBackpressure", err)
	}
	a, b := o.peek()
	o.consume(len(a) + len(b) - 1)
	if err := put(20 << 10); err != ErrBackpressure {
		t.Fatalf("20 KiB frame with 1 byte pending: %v, want ErrBackpressure", err)
	}
	a, b = o.peek()
	o.consume(len(a) + len(b))
	if got := o.pendingBytes(); got != 0 {
		t.Fatalf("pending %d after the flusher took all", got)
	}
	if err := put(20 << 10); err != nil {
		t.Fatalf("20 KiB frame into the emptied queue: %v", err)
	}
	// Within the bound, frames still queue behind others as before.
	a, b = o.peek()
	o.consume(len(a) + len(b))
	for i := range 8 {
		if err := put(1 << 10); err != nil {
			t.Fatalf("frame %d of 1 KiB within the 8 KiB bound: %v", i, err)
		}
	}
	if err := put(1); err != ErrBackpressure {
		t.Fatalf("a byte past the bound: %v, want ErrBackpressure", err)
	}
}
