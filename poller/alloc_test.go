//go:build !race

package poller

import "testing"

// A steady stream, and a consumer slower than its writers (within
// MaxPending), recycle their chunks: no allocation per frame.
func TestAllocsStream(t *testing.T) {
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
	drain := func() {
		for {
			a, b := o.peek()
			if len(a) == 0 {
				return
			}
			o.consume(len(a) + len(b))
		}
	}
	for range 5000 { // fill some chunks and warm the pool
		write()
	}
	drain()
	n := testing.AllocsPerRun(200, func() {
		for range 1000 {
			write()
		}
		drain()
	})
	if n != 0 {
		t.Fatalf("%.1f allocations per 1000 frames", n)
	}
}

// Frames larger than a chunk (64 KiB and up) go through pooled chunks of
// their size class: once warm, no allocation per frame either.
func TestAllocsLargeFrames(t *testing.T) {
	var o outbound
	o.init(64<<10, 8<<20, PolicyError, 0)
	frame := make([]byte, 100<<10)
	round := func() {
		for range 3 {
			b, err := o.begin(len(frame), false)
			if err != nil {
				t.Fatal(err)
			}
			o.commit(append(b, frame...))
		}
		for {
			a, b := o.peek()
			if len(a) == 0 {
				break
			}
			o.consume(len(a) + len(b))
		}
	}
	for range 10 {
		round()
	}
	if n := testing.AllocsPerRun(100, round); n != 0 {
		t.Fatalf("%.1f allocations per 3 frames of 100 KiB", n)
	}
}
