package ring

import (
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Test frame layout: [len u16 BE, whole frame][producer id u8][seq u32 BE]
// then len-7 payload bytes, byte i = id*31 + seq + i.
const tfHeader = 7

func tfLen(id, seq int) int { return tfHeader + (seq*13+id*5)%41 }

func tfPayloadByte(id, seq, i int) byte { return byte(id*31 + seq + i) }

func tfEncode(dst []byte, id, seq int) []byte {
	n := tfLen(id, seq)
	dst = dst[:n]
	binary.BigEndian.PutUint16(dst, uint16(n))
	dst[2] = byte(id)
	binary.BigEndian.PutUint32(dst[3:], uint32(seq))
	for i := tfHeader; i < n; i++ {
		dst[i] = tfPayloadByte(id, seq, i-tfHeader)
	}
	return dst
}

// target is what the stress harness drives: a Ring (one producer) or an
// MPSC (many).
type target struct {
	write      func([]byte) error
	writeParts func(a, b []byte) error
	reserve    func() ([]byte, []byte)
	commit     func(int)
	peek       func() ([]byte, []byte)
	consume    func(int)
	len        func() int
	cap        int
}

func ringTarget(r *Ring) target {
	return target{r.Write, r.WriteParts, r.Space, r.Commit, r.Peek, r.Consume, r.Len, r.Cap()}
}

func mpscTarget(m *MPSC) target {
	return target{m.Write, m.WriteParts, m.Reserve, m.Commit, m.Peek, m.Consume, m.Len, m.Cap()}
}

// stress runs producers goroutines, each writing frames frames, and consumes
// on the calling goroutine, checking that every frame arrives whole, never
// interleaved, and in per-producer order with none missing.
func stress(t *testing.T, tg target, producers, frames int) {
	const maxRetries = 50_000_000
	deadline := time.Now().Add(30 * time.Second)
	if d, ok := t.Deadline(); ok && d.Add(-5*time.Second).Before(deadline) {
		deadline = d.Add(-5 * time.Second)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for id := 0; id < producers; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64)
			retries := 0
			for seq := 0; seq < frames; seq++ {
				f := tfEncode(buf, id, seq)
				for {
					if stop.Load() {
						return
					}
					var err error
					switch seq % 3 {
					case 0:
						err = tg.write(f)
					case 1:
						err = tg.writeParts(f[:tfHeader], f[tfHeader:])
					case 2:
						a, b := tg.reserve()
						if len(a)+len(b) < len(f) {
							tg.commit(0)
							err = ErrFull
						} else {
							k := copy(a, f)
							copy(b, f[k:])
							tg.commit(len(f))
						}
					}
					if err == nil {
						break
					}
					if err != ErrFull {
						t.Errorf("producer %d: %v", id, err)
						stop.Store(true)
						return
					}
					if retries++; retries > maxRetries {
						t.Errorf("producer %d: retry bound exceeded", id)
						stop.Store(true)
						return
					}
					runtime.Gosched()
				}
			}
		}()
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()

	next := make([]int, producers)
	done := 0
	var acc []byte  // consumed bytes not yet parsed into frames
	var view []byte // acc + pending, for the whole-frame check
	turn := 0
	for done < producers*frames {
		turn++
		if turn%256 == 0 && time.Now().After(deadline) {
			t.Fatalf("timeout: %d of %d frames received", done, producers*frames)
		}
		if stop.Load() {
			t.Fatal("a producer failed")
		}
		a, b := tg.peek()
		n := len(a) + len(b)
		if n == 0 {
			runtime.Gosched()
			continue
		}
		if n > tg.cap {
			t.Fatalf("Peek returned %d bytes, cap %d", n, tg.cap)
		}
		// Whole-frame invariant: everything published, plus the partial
		// frame already consumed, is a sequence of complete frames.
		view = append(append(append(view[:0], acc...), a...), b...)
		for off := 0; off < len(view); {
			if len(view)-off < 2 {
				t.Fatalf("partial frame header visible: %d trailing bytes", len(view)-off)
			}
			fl := int(binary.BigEndian.Uint16(view[off:]))
			if fl < tfHeader || off+fl > len(view) {
				t.Fatalf("partial or corrupt frame visible: len %d at %d of %d", fl, off, len(view))
			}
			off += fl
		}
		// Consume a varying amount, like short socket writes.
		c := n
		switch turn % 4 {
		case 1:
			c = 1 + turn%n
		case 2:
			c = len(a)
		}
		acc = append(acc, a[:min(c, len(a))]...)
		if c > len(a) {
			acc = append(acc, b[:c-len(a)]...)
		}
		tg.consume(c)
		// Validate the frames completed by the consumed bytes.
		off := 0
		for len(acc)-off >= 2 {
			fl := int(binary.BigEndian.Uint16(acc[off:]))
			if len(acc)-off < fl {
				break
			}
			f := acc[off : off+fl]
			id := int(f[2])
			seq := int(binary.BigEndian.Uint32(f[3:]))
			if id >= producers {
				t.Fatalf("bad producer id %d", id)
			}
			if seq != next[id] {
				t.Fatalf("producer %d: got seq %d, want %d", id, seq, next[id])
			}
			if fl != tfLen(id, seq) {
				t.Fatalf("producer %d seq %d: len %d, want %d", id, seq, fl, tfLen(id, seq))
			}
			for i, v := range f[tfHeader:] {
				if v != tfPayloadByte(id, seq, i) {
					t.Fatalf("producer %d seq %d: payload byte %d = %d, want %d (interleaved?)", id, seq, i, v, tfPayloadByte(id, seq, i))
				}
			}
			next[id]++
			done++
			off += fl
		}
		acc = append(acc[:0], acc[off:]...)
	}
	if len(acc) != 0 || tg.len() != 0 {
		t.Fatalf("leftover bytes: acc %d, ring %d", len(acc), tg.len())
	}
	for id, s := range next {
		if s != frames {
			t.Fatalf("producer %d: %d frames, want %d", id, s, frames)
		}
	}
}

func TestMPSCConcurrent(t *testing.T) {
	frames := 4000
	if testing.Short() {
		frames = 500
	}
	for _, size := range []int{64, 128, 1024} {
		m, err := NewMPSC(size)
		if err != nil {
			t.Fatal(err)
		}
		stress(t, mpscTarget(m), 8, frames)
	}
}

func TestSPSCConcurrent(t *testing.T) {
	frames := 30000
	if testing.Short() {
		frames = 3000
	}
	for _, size := range []int{64, 128, 1024} {
		r, err := New(size)
		if err != nil {
			t.Fatal(err)
		}
		stress(t, ringTarget(r), 1, frames)
	}
}

// TestConcurrentLenFree reads Len and Free from a third goroutine while a
// producer and a consumer run, checking the bounds hold.
func TestConcurrentLenFree(t *testing.T) {
	r, _ := New(32)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 100000 && !stop.Load(); i++ {
			l, f := r.Len(), r.Free()
			if l < 0 || l > 32 || f < 0 || f > 32 {
				t.Errorf("Len %d Free %d out of range", l, f)
				return
			}
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		p := make([]byte, 5)
		for i := 0; i < 100000 && !stop.Load(); i++ {
			if r.Write(p) != nil {
				runtime.Gosched()
			}
		}
	}()
	for i := 0; i < 100000; i++ {
		if n := r.Len(); n > 0 {
			r.Consume(n)
		}
		if i%64 == 0 {
			r.Reset()
		}
	}
	stop.Store(true)
	wg.Wait()
}
