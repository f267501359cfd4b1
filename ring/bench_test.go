package ring

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

var benchSizes = []struct {
	name string
	n    int
}{
	{"16B", 16}, {"64B", 64}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10},
}

// benchRingCap holds 16 of the largest frames, so the consumer drains in
// batches as the event loop would (one writev per full ring).
const benchRingCap = 1 << 20

// BenchmarkRingWrite measures Write plus its share of Peek+Consume: frames
// are written until ErrFull, then everything pending is taken with Peek and
// consumed, as one writev per loop turn would.
func BenchmarkRingWrite(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			r, _ := New(benchRingCap)
			frame := make([]byte, s.n)
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			for b.Loop() {
				if err := r.Write(frame); err != nil {
					if err != ErrFull {
						b.Fatal(err)
					}
					x, y := r.Peek()
					r.Consume(len(x) + len(y))
					if err := r.Write(frame); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkRingWriteParts is BenchmarkRingWrite with a 4-byte header and the
// payload written as one unit.
func BenchmarkRingWriteParts(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			r, _ := New(benchRingCap)
			hdr, payload := make([]byte, 4), make([]byte, s.n)
			b.ReportAllocs()
			b.SetBytes(int64(s.n + 4))
			for b.Loop() {
				if err := r.WriteParts(hdr, payload); err != nil {
					if err != ErrFull {
						b.Fatal(err)
					}
					x, y := r.Peek()
					r.Consume(len(x) + len(y))
					if err := r.WriteParts(hdr, payload); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkRingWriteConsume writes one frame and consumes it at once: the
// worst case, one Peek+Consume per frame.
func BenchmarkRingWriteConsume(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			r, _ := New(benchRingCap)
			frame := make([]byte, s.n)
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			for b.Loop() {
				if err := r.Write(frame); err != nil {
					b.Fatal(err)
				}
				x, y := r.Peek()
				if len(x)+len(y) != s.n {
					b.Fatal("short Peek")
				}
				r.Consume(s.n)
			}
		})
	}
}

// BenchmarkMPSCWrite is BenchmarkRingWrite through MPSC, single goroutine:
// it adds the uncontended mutex.
func BenchmarkMPSCWrite(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			m, _ := NewMPSC(benchRingCap)
			frame := make([]byte, s.n)
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			for b.Loop() {
				if err := m.Write(frame); err != nil {
					if err != ErrFull {
						b.Fatal(err)
					}
					x, y := m.Peek()
					m.Consume(len(x) + len(y))
					if err := m.Write(frame); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkMPSCReserveCommit encodes in place through Reserve/Commit.
func BenchmarkMPSCReserveCommit(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			m, _ := NewMPSC(benchRingCap)
			frame := make([]byte, s.n)
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			for b.Loop() {
				x, y := m.Reserve()
				if len(x)+len(y) < s.n {
					m.Commit(0)
					x, y = m.Peek()
					m.Consume(len(x) + len(y))
					x, y = m.Reserve()
				}
				k := copy(x, frame)
				copy(y, frame[k:])
				m.Commit(s.n)
			}
		})
	}
}

// BenchmarkMPSCParallel runs GOMAXPROCS producers (b.RunParallel) against
// one consumer goroutine that drains with Peek+Consume. Producers retry on
// ErrFull with runtime.Gosched. ns/op is per frame across all producers.
func BenchmarkMPSCParallel(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			m, _ := NewMPSC(benchRingCap)
			var stop atomic.Bool
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					x, y := m.Peek()
					if n := len(x) + len(y); n > 0 {
						m.Consume(n)
					} else {
						runtime.Gosched()
					}
				}
			}()
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				frame := make([]byte, s.n)
				for pb.Next() {
					for {
						err := m.Write(frame)
						if err == nil {
							break
						}
						if err != ErrFull {
							b.Error(err)
							return
						}
						runtime.Gosched()
					}
				}
			})
			b.StopTimer()
			stop.Store(true)
			wg.Wait()
		})
	}
}
