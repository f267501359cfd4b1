package poller

import (
	"encoding/binary"
	"testing"
	"time"
)

// Frames that alternate between the ring and the overflow list, written
// while the flusher drains concurrently, must come out in the order written.
func TestOutboundOrderAcrossRingAndOverflow(t *testing.T) {
	var o outbound
	o.init(1024, 1<<20, PolicyError, 0)
	const frames = 3000
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
		a, b, fromRing := o.peek()
		if len(a) == 0 {
			continue
		}
		stream = append(append(stream, a...), b...)
		o.consume(len(a)+len(b), fromRing)
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
	if o.pending.Load() != 0 {
		t.Fatalf("%d bytes left pending", o.pending.Load())
	}
}

// A writer that outruns the flusher fills the ring, then the overflow
// chunks: frames are packed, so each flush takes a whole chunk, not one
// frame, and once warm the overflow path allocates nothing.
func TestOutboundOverflowPacksFrames(t *testing.T) {
	var o outbound
	o.init(1024, 1<<20, PolicyError, 0)
	frame := make([]byte, 72)
	write := func() {
		b, err := o.begin(len(frame), false)
		if err != nil {
			t.Fatal(err)
		}
		o.commit(append(b, frame...))
	}
	for range 1024/72 + 1 { // fill the ring; the last one overflows
		write()
	}
	for range 2000 {
		write()
	}
	// Drain: ring first, then chunks of many frames each.
	flushes := 0
	for {
		a, b, fromRing := o.peek()
		if len(a) == 0 {
			break
		}
		if !fromRing && len(a) < 72*100 && o.pending.Load() > int64(len(a)) {
			t.Fatalf("overflow flush of %d bytes with %d pending: frames not packed", len(a), o.pending.Load())
		}
		o.consume(len(a)+len(b), fromRing)
		flushes++
	}
	if flushes > 6 {
		t.Fatalf("%d flushes for %d bytes", flushes, 2016*72)
	}
}
