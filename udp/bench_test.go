package udp

import (
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSend64 measures 64-byte datagrams per second from one Conn to
// another on loopback, one WriteTo per datagram versus WriteBatch calls of
// 64 (sendmmsg on Linux). A receiver goroutine drains with ReadBatch;
// dgrams/s is the send rate, recv/s the delivered rate and drop% the share
// the receiver's socket buffer dropped (UDP has no flow control).
func BenchmarkSend64(b *testing.B) {
	b.Run("WriteTo", func(b *testing.B) {
		benchSend(b, func(a *Conn, p []byte, to Message, n int) {
			for i := 0; i < n; i++ {
				if err := a.WriteTo(p, to.Addr); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("WriteBatch", func(b *testing.B) {
		msgs := make([]Message, 64)
		benchSend(b, func(a *Conn, p []byte, to Message, n int) {
			for i := range msgs {
				msgs[i] = to
			}
			for i := 0; i < n; i += len(msgs) {
				k := min(len(msgs), n-i)
				if got, err := a.WriteBatch(msgs[:k]); got != k || err != nil {
					b.Fatal(got, err)
				}
			}
		})
	})
}

func benchSend(b *testing.B, send func(a *Conn, p []byte, to Message, n int)) {
	a, r := pair(b, "udp4")
	if err := r.SetReadBuffer(4 << 20); err != nil {
		b.Fatal(err)
	}
	var recv atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		in := make([]Message, 64)
		for i := range in {
			in[i].Buf = make([]byte, 128)
		}
		for {
			// The deadline only ends the drain once the sender has stopped
			// and the queue is empty; it is not a readiness signal.
			r.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			n, err := r.ReadBatch(in)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, ErrClosed) {
					return
				}
				b.Error(err)
				return
			}
			recv.Add(int64(n))
		}
	}()
	p := make([]byte, 64)
	to := Message{Buf: p, Addr: r.LocalAddr()}
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	b.ResetTimer()
	start := time.Now()
	send(a, p, to, b.N)
	el := time.Since(start)
	b.StopTimer()
	got := recv.Load()
	<-done
	total := recv.Load()
	b.ReportMetric(float64(b.N)/el.Seconds(), "dgrams/s")
	b.ReportMetric(float64(got)/el.Seconds(), "recv/s")
	b.ReportMetric(100*float64(int64(b.N)-total)/float64(b.N), "drop%")
}

// BenchmarkSend64NoReader isolates the send path: nobody reads, so once
// the receiver's socket buffer is full the kernel drops what arrives (that
// loss is the point of the setup, not a hidden one: only send cost is
// measured).
func BenchmarkSend64NoReader(b *testing.B) {
	for _, mode := range []string{"WriteTo", "WriteBatch"} {
		b.Run(mode, func(b *testing.B) {
			a, r := pair(b, "udp4")
			p := make([]byte, 64)
			msgs := make([]Message, 64)
			for i := range msgs {
				msgs[i] = Message{Buf: p, Addr: r.LocalAddr()}
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(p)))
			b.ResetTimer()
			for i := 0; i < b.N; i += len(msgs) {
				k := min(len(msgs), b.N-i)
				if mode == "WriteTo" {
					for j := 0; j < k; j++ {
						if err := a.WriteTo(p, r.LocalAddr()); err != nil {
							b.Fatal(err)
						}
					}
				} else if n, err := a.WriteBatch(msgs[:k]); n != k || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
}

// BenchmarkLoop64 sends 64 datagrams of 64 bytes and reads them back on one
// goroutine (no cross-core wake-ups, no loss: 64 fit in the buffer): one
// system call per datagram each way (WriteTo + ReadFrom) versus one per 64
// (WriteBatch + ReadBatch). One op is one datagram sent and received.
func BenchmarkLoop64(b *testing.B) {
	for _, mode := range []string{"Single", "Batch"} {
		b.Run(mode, func(b *testing.B) {
			a, r := pair(b, "udp4")
			r.SetReadDeadline(time.Now().Add(time.Hour))
			p := make([]byte, 64)
			out := make([]Message, 64)
			in := make([]Message, 64)
			for i := range out {
				out[i] = Message{Buf: p, Addr: r.LocalAddr()}
				in[i].Buf = make([]byte, 128)
			}
			buf := make([]byte, 128)
			b.ReportAllocs()
			b.SetBytes(int64(len(p)))
			b.ResetTimer()
			for i := 0; i < b.N; i += len(out) {
				k := min(len(out), b.N-i)
				if mode == "Single" {
					for j := 0; j < k; j++ {
						if err := a.WriteTo(p, r.LocalAddr()); err != nil {
							b.Fatal(err)
						}
					}
					for j := 0; j < k; j++ {
						if n, _, err := r.ReadFrom(buf); n != 64 || err != nil {
							b.Fatal(n, err)
						}
					}
					continue
				}
				if n, err := a.WriteBatch(out[:k]); n != k || err != nil {
					b.Fatal(n, err)
				}
				for got := 0; got < k; {
					n, err := r.ReadBatch(in[:k-got])
					if err != nil {
						b.Fatal(err)
					}
					got += n
				}
			}
		})
	}
}
