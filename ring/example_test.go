package ring_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/seed-fc4a2f4b/goipc/ring"
)

func Example() {
	r, err := ring.New(16)
	if err != nil {
		panic(err)
	}
	// Producer: whole frames, header and payload as one unit.
	_ = r.WriteParts([]byte{0, 5}, []byte("hello"))
	_ = r.WriteParts([]byte{0, 5}, []byte("world"))
	if err := r.Write([]byte("too much")); errors.Is(err, ring.ErrFull) {
		fmt.Println("full: apply backpressure")
	}

	// Consumer: up to two slices, as for writev; here the socket accepts
	// only the first frame's 7 bytes.
	first, second := r.Peek()
	fmt.Printf("pending %d: %q %q\n", r.Len(), first, second)
	r.Consume(7)

	// The next frame wraps around the end of the buffer.
	_ = r.Write([]byte("again"))
	first, second = r.Peek()
	fmt.Printf("pending %d: %q %q\n", r.Len(), first, second)
	r.Consume(len(first) + len(second))
	fmt.Println("free", r.Free(), "of", r.Cap())
	// Output:
	// full: apply backpressure
	// pending 14: "\x00\x05hello\x00\x05world" ""
	// pending 12: "\x00\x05worldag" "ain"
	// free 16 of 16
}

func ExampleMPSC() {
	m, err := ring.NewMPSC(1024)
	if err != nil {
		panic(err)
	}
	var wg sync.WaitGroup
	for id := byte(0); id < 4; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := byte(0); seq < 10; seq++ {
				// Frames from different goroutines never interleave.
				_ = m.WriteParts([]byte{2}, []byte{id, seq})
			}
		}()
	}
	wg.Wait()

	// The consumer (the event loop) takes no lock.
	first, second := m.Peek()
	fmt.Println("pending bytes:", len(first)+len(second))
	m.Consume(len(first) + len(second))
	fmt.Println("after consume:", m.Len())
	// Output:
	// pending bytes: 120
	// after consume: 0
}

func ExampleMPSC_Reserve() {
	m, _ := ring.NewMPSC(64)

	// Encode a length-prefixed frame in place. Reserve holds the producer
	// lock until Commit; Commit(0) abandons.
	payload := []byte("ping")
	first, second := m.Reserve()
	if len(first)+len(second) < 4+len(payload) {
		m.Commit(0) // full: backpressure
		return
	}
	// put copies p at offset off of the reserved space, which may wrap
	// from first into second.
	put := func(off int, p []byte) {
		if off < len(first) {
			k := copy(first[off:], p)
			p, off = p[k:], len(first)
		}
		copy(second[off-len(first):], p)
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(payload)))
	put(0, hdr[:])
	put(4, payload)
	m.Commit(4 + len(payload))

	first, second = m.Peek()
	fmt.Printf("% x\n", append(first, second...))
	// Output:
	// 00 00 00 04 70 69 6e 67
}

func ExampleRing_Space() {
	r, _ := ring.New(8)
	first, second := r.Space()
	n := copy(first, "abc")
	copy(second, "abc"[n:])
	fmt.Println("before commit:", r.Len())
	r.Commit(3)
	fmt.Println("after commit:", r.Len())
	// Output:
	// before commit: 0
	// after commit: 3
}
