package goipc

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/tlsconn"
)

// Transport benchmarks: goipc end to end over unix and tcp (127.0.0.1),
// and, in the same process and run, the baseline a Go developer would
// write with net + bufio and a 4-byte big-endian length prefix. Results
// and commands: docs/BENCHMARKS.md, "Transports (root package)".

const (
	bmPayload = 64
	bmWindow  = 64
	bmWarmup  = 1000
	bmTimeout = 60 * time.Second
)

var bmNetworks = []string{"unix", "tcp"}

// bmListenAddr returns a goipc address to listen on for network.
func bmListenAddr(b *testing.B, network string) string {
	if network == "unix" {
		return "unix://" + bmTempDir(b) + "/s.sock"
	}
	return "tcp://127.0.0.1:0"
}

// bmTempDir returns a short directory (sun_path is 108 bytes).
func bmTempDir(b *testing.B) string {
	d, err := os.MkdirTemp("", "gb")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// bmPair starts a server (setup registers its handlers before Serve) and
// dials a client (csetup registers the client's before Connect). Both are
// closed by b.Cleanup.
func bmPair(b *testing.B, network string, codec Codec, setup func(*Server), csetup func(*Client), copts ...Option) (*Server, *Client) {
	srv, err := Listen(bmListenAddr(b, network), WithCodec(codec))
	if err != nil {
		b.Fatal(err)
	}
	setup(srv)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background()) }()
	cl, err := NewClient(srv.Addr(), append([]Option{WithCodec(codec)}, copts...)...)
	if err != nil {
		srv.Close()
		b.Fatal(err)
	}
	if csetup != nil {
		csetup(cl)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Connect(ctx); err != nil {
		srv.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cl.Close()
		srv.Close()
		select {
		case <-served:
		case <-time.After(bmTimeout):
			b.Error("Serve did not return")
		}
	})
	return srv, cl
}

// bmWait waits for ch, failing the benchmark after bmTimeout.
func bmWait(b *testing.B, ch <-chan struct{}, what string, progress func() int64) {
	t := time.NewTimer(bmTimeout)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
		b.Fatalf("timed out after %v waiting for %s (progress %d)", bmTimeout, what, progress())
	}
}

// bmCounter counts messages; done gets a token when the count reaches
// target. Handlers call hit; phases set the target before sending.
type bmCounter struct {
	n      atomic.Int64
	target atomic.Int64
	done   chan struct{}
}

func bmNewCounter() *bmCounter { return &bmCounter{done: make(chan struct{}, 1)} }

func (c *bmCounter) hit() {
	if c.n.Add(1) == c.target.Load() {
		select {
		case c.done <- struct{}{}:
		default:
		}
	}
}

// expect sets the target to n more messages than counted so far.
func (c *bmCounter) expect(n int) { c.target.Store(c.n.Load() + int64(n)) }

// bmMallocs returns the process's malloc count so far. The standard
// allocs/op is an integer division and shows 0 for 0.99 allocations a
// message; bmReportMallocs reports the exact ratio as "mallocs/op".
func bmMallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

func bmReportMallocs(b *testing.B, since uint64) {
	b.ReportMetric(float64(bmMallocs()-since)/float64(b.N), "mallocs/op")
}

func bmData() []byte {
	p := make([]byte, bmPayload)
	for i := range p {
		p[i] = byte(i)
	}
	return p
}

// --- 1. one-way stream -------------------------------------------------------

func BenchmarkStream(b *testing.B) {
	for _, network := range bmNetworks {
		b.Run(network, func(b *testing.B) {
			b.Run("event/64B", func(b *testing.B) { bmStream(b, network, ModeEvent) })
			b.Run("length/64B", func(b *testing.B) { bmStream(b, network, ModeLength) })
			b.Run("length-batch/64B", func(b *testing.B) { bmStreamBatch(b, network) })
		})
	}
}

func bmStream(b *testing.B, network string, mode Mode) {
	cnt := bmNewCounter()
	codec := EventCodec()
	if mode == ModeLength {
		codec = LengthCodec(frame.LengthFieldConfig{Size: 4})
	}
	// A streaming sender waits for room rather than spinning: the Block
	// policy parks it until the writer has taken bytes from the queue.
	_, cl := bmPair(b, network, codec, func(s *Server) {
		if mode == ModeLength {
			s.OnData(func(*Conn, []byte) { cnt.hit() })
		} else {
			s.Handle("m", func(*Conn, Message) { cnt.hit() })
		}
	}, nil, WithMaxPending(0, Block, bmTimeout))
	p := bmData()
	bmMeasureStream(b, cnt, func(n int) {
		for range n {
			var err error
			if mode == ModeLength {
				err = cl.Send(p)
			} else {
				err = cl.Emit("m", p)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// bmStreamBatch is the length-mode stream sent through a Batch, flushed
// when its buffer fills and at the end of each send.
func bmStreamBatch(b *testing.B, network string) {
	cnt := bmNewCounter()
	_, cl := bmPair(b, network, LengthCodec(frame.LengthFieldConfig{Size: 4}), func(s *Server) {
		s.OnData(func(*Conn, []byte) { cnt.hit() })
	}, nil, WithMaxPending(0, Block, bmTimeout))
	p := bmData()
	batch := cl.NewBatch()
	bmMeasureStream(b, cnt, func(n int) {
		for range n {
			if err := batch.Send(p); err != nil {
				b.Fatal(err)
			}
		}
		if err := batch.Flush(); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkBatchEncode is the sender's share of the batch stream alone:
// Send into a connected client's Batch, which is emptied with Reset
// instead of flushed, so no I/O is timed. For 64-byte bare frames with
// the default header (Send writes it itself) and event frames.
func BenchmarkBatchEncode(b *testing.B) {
	for _, mode := range []Mode{ModeLength, ModeEvent} {
		b.Run(mode.String()+"/64B", func(b *testing.B) {
			codec := EventCodec()
			if mode == ModeLength {
				codec = LengthCodec(frame.LengthFieldConfig{})
			}
			_, cl := bmPair(b, "unix", codec, func(*Server) {}, nil)
			batch := cl.NewBatch()
			p := bmData()
			b.ReportAllocs()
			b.SetBytes(bmPayload)
			for b.Loop() {
				if cap(batch.buf)-len(batch.buf) < 256 {
					batch.Reset()
				}
				var err error
				if mode == ModeLength {
					err = batch.Send(p)
				} else {
					err = batch.Emit("m", p)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// bmMeasureStream warms up with send(bmWarmup), then times send(b.N) until
// the server has counted every message, and reports msgs/s and mallocs/op.
func bmMeasureStream(b *testing.B, cnt *bmCounter, send func(n int)) {
	cnt.expect(bmWarmup)
	send(bmWarmup)
	bmWait(b, cnt.done, "warm-up", cnt.n.Load)
	b.ReportAllocs()
	b.SetBytes(bmPayload)
	cnt.expect(b.N)
	m0 := bmMallocs()
	b.ResetTimer()
	start := time.Now()
	send(b.N)
	bmWait(b, cnt.done, "the server to count b.N messages", cnt.n.Load)
	elapsed := time.Since(start)
	b.StopTimer()
	bmReportMallocs(b, m0)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// --- 2. 64 in flight, pipelined emit/echo ------------------------------------

func BenchmarkInFlight64(b *testing.B) {
	for _, network := range bmNetworks {
		b.Run(network+"/event", func(b *testing.B) { bmInFlight(b, network) })
	}
}

// bmPipe keeps a window of pings outstanding: each pong received sends
// the next ping, until total have been sent.
type bmPipe struct {
	cl    *Client
	p     []byte
	total atomic.Int64 // pings to send in this phase
	sent  atomic.Int64
	cnt   *bmCounter
	err   atomic.Pointer[error]
}

func (q *bmPipe) emit() {
	if err := q.cl.Emit("ping", q.p); err != nil {
		q.fail(err)
	}
}

// fail records err (kept out of emit so that err does not escape there).
func (q *bmPipe) fail(err error) {
	q.err.CompareAndSwap(nil, &err)
	select {
	case q.cnt.done <- struct{}{}:
	default:
	}
}

func (q *bmPipe) onPong(Message) {
	if q.sent.Add(1) <= q.total.Load() {
		q.emit()
	}
	q.cnt.hit()
}

// run sends n pings with the window full and waits for every pong.
func (q *bmPipe) run(b *testing.B, n int) {
	q.sent.Store(0)
	q.total.Store(int64(n))
	q.cnt.expect(n)
	for i := 0; i < min(bmWindow, n); i++ {
		if q.sent.Add(1) <= int64(n) {
			q.emit()
		}
	}
	bmWait(b, q.cnt.done, "pongs", q.cnt.n.Load)
	if e := q.err.Load(); e != nil {
		b.Fatal(*e)
	}
}

func bmInFlight(b *testing.B, network string) {
	q := &bmPipe{p: bmData(), cnt: bmNewCounter()}
	_, q.cl = bmPair(b, network, EventCodec(), func(s *Server) {
		s.Handle("ping", func(c *Conn, m Message) { _ = c.Emit("pong", m.Data) })
	}, func(cl *Client) { cl.Handle("pong", q.onPong) })
	q.run(b, bmWarmup)

	b.ReportAllocs()
	m0 := bmMallocs()
	b.ResetTimer()
	start := time.Now()
	q.run(b, b.N)
	elapsed := time.Since(start)
	b.StopTimer()
	bmReportMallocs(b, m0)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "RT/s")
}

// --- 3. one in flight: latency ----------------------------------------------

func BenchmarkLatency1(b *testing.B) {
	for _, network := range bmNetworks {
		b.Run(network+"/event", func(b *testing.B) { bmLatency(b, network) })
	}
}

func bmLatency(b *testing.B, network string) {
	pong := make(chan struct{}, 1)
	_, cl := bmPair(b, network, EventCodec(), func(s *Server) {
		s.Handle("ping", func(c *Conn, m Message) { _ = c.Emit("pong", m.Data) })
	}, func(cl *Client) { cl.Handle("pong", func(Message) { pong <- struct{}{} }) })
	p := bmData()
	timeout := time.NewTimer(bmTimeout)
	defer timeout.Stop()
	rt := func() {
		if err := cl.Emit("ping", p); err != nil {
			b.Fatal(err)
		}
		select {
		case <-pong:
		case <-timeout.C:
			b.Fatalf("timed out after %v waiting for a pong", bmTimeout)
		}
	}
	for i := 0; i < bmWarmup; i++ {
		rt()
	}
	lat := make([]time.Duration, b.N)
	timeout.Reset(bmTimeout)

	b.ReportAllocs()
	m0 := bmMallocs()
	b.ResetTimer()
	start := time.Now()
	for i := range lat {
		t0 := time.Now()
		rt()
		lat[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	bmReportMallocs(b, m0)
	bmReportLatency(b, lat, elapsed)
}

func bmReportLatency(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	slices.Sort(lat)
	us := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Microsecond)
	}
	b.ReportMetric(us(0.50), "p50-µs")
	b.ReportMetric(us(0.99), "p99-µs")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "RT/s")
}

// --- 4. Request, one in flight -----------------------------------------------

func BenchmarkRequest(b *testing.B) {
	for _, network := range bmNetworks {
		b.Run(network+"/event", func(b *testing.B) { bmRequest(b, network) })
	}
}

func bmRequest(b *testing.B, network string) {
	_, cl := bmPair(b, network, EventCodec(), func(s *Server) {
		s.Handle("req", func(c *Conn, m Message) { _ = m.Reply(m.Data) })
	}, nil)
	p := bmData()
	ctx, cancel := context.WithTimeout(context.Background(), bmTimeout)
	defer cancel()
	for i := 0; i < bmWarmup; i++ {
		if _, err := cl.Request(ctx, "req", p); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel2 := context.WithTimeout(context.Background(), bmTimeout)
	defer cancel2()

	b.ReportAllocs()
	m0 := bmMallocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := cl.Request(ctx, "req", p); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	bmReportMallocs(b, m0)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "RT/s")
}

// --- 5. baseline: net + bufio, 4-byte big-endian length prefix ------------------

const bmBufSize = 64 << 10

// bmStdListen listens with the standard library and returns the
// listener and the address to dial.
func bmStdListen(b *testing.B, network string) net.Listener {
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = bmTempDir(b) + "/s.sock"
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		b.Fatal(err)
	}
	return ln
}

// bmStdPair returns the client end and, via serve, runs fn on the
// accepted server end in its own goroutine. Everything is closed by
// b.Cleanup.
func bmStdPair(b *testing.B, network string, serve func(net.Conn)) net.Conn {
	ln := bmStdListen(b, network)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc, err := ln.Accept()
		if err != nil {
			return
		}
		defer sc.Close()
		serve(sc)
	}()
	cc, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		ln.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cc.Close()
		ln.Close()
		wg.Wait()
	})
	return cc
}

// bmStdReadFrame reads one length-prefixed frame into buf (grown if
// needed) and returns it.
func bmStdReadFrame(br *bufio.Reader, hdr *[4]byte, buf []byte) ([]byte, error) {
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return buf, err
	}
	n := int(binary.BigEndian.Uint32(hdr[:]))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err := io.ReadFull(br, buf)
	return buf, err
}

// bmStdWriteFrame writes one frame; hdr is caller-owned scratch so that
// the header does not escape to the heap on every call.
func bmStdWriteFrame(bw *bufio.Writer, hdr *[4]byte, p []byte) error {
	binary.BigEndian.PutUint32(hdr[:], uint32(len(p)))
	if _, err := bw.Write(hdr[:]); err != nil {
		return err
	}
	_, err := bw.Write(p)
	return err
}

func BenchmarkStdStream(b *testing.B) {
	for _, network := range bmNetworks {
		b.Run(network+"/64B", func(b *testing.B) { bmStdStream(b, network) })
	}
}

func bmStdStream(b *testing.B, network string) {
	cnt := bmNewCounter()
	cc := bmStdPair(b, network, func(sc net.Conn) {
		br := bufio.NewReaderSize(sc, bmBufSize)
		var hdr [4]byte
		buf := make([]byte, 0, bmPayload)
		for {
			var err error
			if buf, err = bmStdReadFrame(br, &hdr, buf); err != nil {
				return
			}
			cnt.hit()
		}
	})
	bw := bufio.NewWriterSize(cc, bmBufSize)
	whdr := new([4]byte)
	p := bmData()
	send := func(n int) {
		for i := 0; i < n; i++ {
			if err := bmStdWriteFrame(bw, whdr, p); err != nil {
				b.Fatal(err)
			}
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	bmMeasureStream(b, cnt, send)
}

func BenchmarkStdInFlight64(b *testing.B) {
	for _, network := range bmNetworks {
		b.Run(network, func(b *testing.B) { bmStdInFlight(b, network) })
	}
}

// bmStdInFlight: the server goroutine echoes each frame, flushing when
// its reader has nothing more buffered; the client goroutine keeps 64
// pings outstanding the same way, sending a new ping per pong.
func bmStdInFlight(b *testing.B, network string) {
	cc := bmStdPair(b, network, func(sc net.Conn) {
		br := bufio.NewReaderSize(sc, bmBufSize)
		bw := bufio.NewWriterSize(sc, bmBufSize)
		whdr := new([4]byte)
		var hdr [4]byte
		buf := make([]byte, 0, bmPayload)
		for {
			var err error
			if buf, err = bmStdReadFrame(br, &hdr, buf); err != nil {
				return
			}
			if err = bmStdWriteFrame(bw, whdr, buf); err != nil {
				return
			}
			if br.Buffered() == 0 {
				if err = bw.Flush(); err != nil {
					return
				}
			}
		}
	})
	phases := make(chan int)
	done := make(chan struct{}, 1)
	var got atomic.Int64
	var cerr atomic.Pointer[error]
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		br := bufio.NewReaderSize(cc, bmBufSize)
		bw := bufio.NewWriterSize(cc, bmBufSize)
		whdr := new([4]byte)
		p := bmData()
		var hdr [4]byte
		buf := make([]byte, 0, bmPayload)
		fail := func(err error) {
			cerr.Store(&err)
			done <- struct{}{}
		}
		for total := range phases {
			sent := min(bmWindow, total)
			for range sent {
				if err := bmStdWriteFrame(bw, whdr, p); err != nil {
					fail(err)
					return
				}
			}
			if err := bw.Flush(); err != nil {
				fail(err)
				return
			}
			for recvd := 0; recvd < total; {
				var err error
				if buf, err = bmStdReadFrame(br, &hdr, buf); err != nil {
					fail(err)
					return
				}
				recvd++
				got.Add(1)
				if sent < total {
					sent++
					if err = bmStdWriteFrame(bw, whdr, p); err != nil {
						fail(err)
						return
					}
				}
				if br.Buffered() == 0 && bw.Buffered() > 0 {
					if err = bw.Flush(); err != nil {
						fail(err)
						return
					}
				}
			}
			done <- struct{}{}
		}
	}()
	b.Cleanup(func() {
		close(phases)
		cc.Close()
		<-exited
	})
	run := func(n int) {
		phases <- n
		bmWait(b, done, "echoes", got.Load)
		if e := cerr.Load(); e != nil {
			b.Fatal(*e)
		}
	}
	run(bmWarmup)

	b.ReportAllocs()
	m0 := bmMallocs()
	b.ResetTimer()
	start := time.Now()
	run(b.N)
	elapsed := time.Since(start)
	b.StopTimer()
	bmReportMallocs(b, m0)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "RT/s")
}

// --- TLS next to TCP -----------------------------------------------------

// BenchmarkStreamTLS streams 64 B events one way over tls:// and, for the
// same-run comparison, over tcp:// (server-only TLS, a certificate made
// for the run).
func BenchmarkStreamTLS(b *testing.B) {
	pki := newPKI(b, "bench CA")
	cert, key := pki.issue(b, "server")
	for _, tc := range []struct {
		name       string
		addr       string
		sopt, copt []Option
	}{
		{"tcp", "tcp://127.0.0.1:0", nil, nil},
		{"tls", "tls://127.0.0.1:0",
			[]Option{WithTLS(tlsconn.Config{CertFile: cert, KeyFile: key})},
			[]Option{WithTLS(tlsconn.Config{CAFile: pki.caFile})}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cnt := bmNewCounter()
			srv, err := Listen(tc.addr, tc.sopt...)
			if err != nil {
				b.Fatal(err)
			}
			srv.Handle("m", func(*Conn, Message) { cnt.hit() })
			go srv.Serve(context.Background())
			defer srv.Close()
			cl, err := Dial(context.Background(), srv.Addr(), append(tc.copt, WithMaxPending(0, Block, bmTimeout))...)
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			p := bmData()
			bmMeasureStream(b, cnt, func(n int) {
				for range n {
					if err := cl.Emit("m", p); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
