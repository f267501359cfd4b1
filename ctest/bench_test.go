//go:build unix

package ctest

import (
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/frame"
)

// BenchmarkCStream64 streams b.N 64-byte frames (68 on the wire, the
// default 4-byte length) from the C client (c/test/peer.c bench: 1024
// frames per write) to a receiver, and reports the receiver's rate from its
// first frame to its last:
//
//	c-to-go  the receiver is a goipc server (LengthCodec, OnData counting)
//	c-to-c   the receiver is the C reference sink (256 KiB reads through
//	         goipc_decoder), the ceiling for the same client
//
// Both run in the same benchmark run; compare the frames/s metrics.
// GOIPC_C_CLIENT_CPU / GOIPC_C_SERVER_CPU place the C processes (taskset).
func BenchmarkCStream64(b *testing.B) {
	bin := fastPeerBin(b)
	for _, tr := range []string{"unix", "tcp"} {
		b.Run(tr+"/c-to-go", func(b *testing.B) {
			addr := transports(b)[tr]
			var n, t0, t1 atomic.Int64
			want := int64(b.N)
			done := make(chan struct{})
			srv, err := goipc.Listen(addr, goipc.WithCodec(goipc.LengthCodec(frame.LengthFieldConfig{})))
			if err != nil {
				b.Fatal(err)
			}
			srv.OnData(func(c *goipc.Conn, p []byte) {
				k := n.Add(1)
				if k == 1 {
					t0.Store(time.Now().UnixNano())
				}
				if k == want {
					t1.Store(time.Now().UnixNano())
					close(done)
				}
			})
			serve(b, srv)
			b.ResetTimer()
			runC(b, bin, "bench", srv.Addr(), strconv.Itoa(b.N))
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				b.Fatalf("the Go server got %d of %d frames", n.Load(), want)
			}
			b.StopTimer()
			report(b, float64(t1.Load()-t0.Load())/1e9)
		})
		b.Run(tr+"/c-to-c", func(b *testing.B) {
			addr := transports(b)[tr]
			cs := startC(b, bin, "sink", addr)
			b.ResetTimer()
			runC(b, bin, "bench", cs.addr, strconv.Itoa(b.N))
			var line []string
			deadline := time.Now().Add(60 * time.Second)
			for line == nil && time.Now().Before(deadline) {
				line = sinkLine.FindStringSubmatch(cs.stdout.String())
				if line == nil {
					time.Sleep(time.Millisecond)
				}
			}
			b.StopTimer()
			if line == nil {
				b.Fatalf("C sink: %q %q", cs.stdout.String(), cs.stderr.String())
			}
			if got, _ := strconv.Atoi(line[1]); got != b.N {
				b.Fatalf("C sink got %d of %d frames", got, b.N)
			}
			secs, _ := strconv.ParseFloat(line[2], 64)
			report(b, secs)
		})
	}
}

var sinkLine = regexp.MustCompile(`received (\d+) frames \(\d+ payload bytes\) in ([0-9.]+) s`)

func report(b *testing.B, secs float64) {
	if secs > 0 && b.N > 1 {
		b.ReportMetric(float64(b.N)/secs, "frames/s")
	}
	b.SetBytes(64)
}
