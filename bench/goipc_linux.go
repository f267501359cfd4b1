//go:build linux

package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/udp"
	"golang.org/x/sys/unix"
)

// goipcImpl runs both ends with goipc in this process: the server on the
// gnet engine (unix, tcp) and a goipc Client, with one codec. With batch
// set (the goipc/batch lane), the streaming workloads send through a
// goipc.Batch, flushed when its buffer is full, as std's lane flushes its
// bufio.Writer; the other workloads do not apply. With busy set (the
// goipc/busy lane), both ends of the round-trip workloads busy-poll
// (goipc.WithBusyPoll) for that long; the other workloads do not apply.
type goipcImpl struct {
	codec string
	batch bool
	busy  time.Duration
}

func (g *goipcImpl) Name() string {
	switch {
	case g.batch:
		return "goipc/batch"
	case g.busy > 0:
		return ImplGoipcBusy
	}
	return "goipc/" + g.codec
}

// roundTripOpts returns the options of both ends of a round-trip workload.
func (g *goipcImpl) roundTripOpts() []goipc.Option {
	opts := []goipc.Option{g.codecOpt()}
	if g.busy > 0 {
		opts = append(opts, goipc.WithBusyPoll(g.busy))
	}
	return opts
}
func (g *goipcImpl) InProcess() bool                       { return true }
func (g *goipcImpl) Available(context.Context, *Env) error { return nil }
func (g *goipcImpl) events() bool                          { return g.codec == "event" || g.codec == "json" }
func (g *goipcImpl) codecOpt() goipc.Option                { return goipc.WithCodec(g.codecValue()) }
func (g *goipcImpl) send(cl *goipc.Client, p []byte) error {
	return sendOn(g.events(), cl.Emit, cl.Send, p)
}

// sender returns what the streaming workloads call for each message.
func (g *goipcImpl) sender(cl *goipc.Client, p []byte) func() error {
	if g.batch {
		b := cl.NewBatch()
		if g.events() {
			return func() error { return b.Emit("m", p) }
		}
		return func() error { return b.Send(p) }
	}
	return func() error { return g.send(cl, p) }
}
func (g *goipcImpl) reply(c *goipc.Conn, p []byte) error {
	return sendOn(g.events(), c.Emit, c.Send, p)
}
func sendOn(ev bool, emit func(string, []byte) error, send func([]byte) error, p []byte) error {
	if ev {
		return emit("m", p)
	}
	return send(p)
}

func (g *goipcImpl) codecValue() goipc.Codec {
	switch g.codec {
	case "length":
		return goipc.LengthCodec(frame.LengthFieldConfig{Size: 4})
	case "json":
		return goipc.JSONCodec()
	case "raw":
		return goipc.RawCodec()
	}
	return goipc.EventCodec()
}

// payload returns a size-byte payload (a JSON string for the json codec).
func (g *goipcImpl) payload(size int) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = 'x'
	}
	if g.codec == "json" && size >= 2 {
		p[0], p[size-1] = '"', '"'
	}
	return p
}

var addrSeq atomic.Int64

// listenAddr returns a goipc address for transport in env.Dir.
func listenAddr(env *Env, transport string) string {
	switch transport {
	case "unix":
		return "unix://" + filepath.Join(env.Dir, "g"+strconv.FormatInt(addrSeq.Add(1), 10)+".sock")
	case "udp":
		return "udp://127.0.0.1:0"
	}
	return "tcp://127.0.0.1:0"
}

// ringFor sizes the outbound ring so that a few frames fit (64 KiB at
// least, the default).
func ringFor(size int) int {
	n := 64 << 10
	for n < 4*(size+64) {
		n <<= 1
	}
	return n
}

// serveGoipc starts srv.Serve; stop closes it and waits.
func serveGoipc(srv *goipc.Server) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx); close(done) }()
	return func() {
		cancel()
		srv.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}
}

func dialGoipc(ctx context.Context, addr string, opts ...goipc.Option) (*goipc.Client, error) {
	cl, err := goipc.NewClient(addr, opts...)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cl.Connect(cctx); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// window measures count over env.Duration after env.Warmup, with the
// process's allocations.
func window(ctx context.Context, env *Env, count func() int64) (Measure, error) {
	if err := sleepCtx(ctx, env.Warmup); err != nil {
		return Measure{}, err
	}
	n0, m0, t0 := count(), mallocs(), time.Now()
	if err := sleepCtx(ctx, env.Duration); err != nil {
		return Measure{}, err
	}
	n1, el := count(), time.Since(t0)
	m1 := mallocs()
	if n1 == n0 {
		return Measure{}, errors.New("no messages counted")
	}
	return Measure{Msgs: n1 - n0, Elapsed: el, Allocs: m1 - m0}, nil
}

// pumpBackoff is how long pump waits after a send refused for backpressure.
const pumpBackoff = 20 * time.Microsecond

// pump calls send until stop is set; on backpressure it backs off for
// pumpBackoff and retries. (Spinning on runtime.Gosched instead starves
// Go's network poller at GOMAXPROCS 1: see goipc.ErrBackpressure.)
func pump(stop *atomic.Bool, errp *atomic.Pointer[error], send func() error) {
	for !stop.Load() {
		if err := send(); err != nil {
			if errors.Is(err, goipc.ErrBackpressure) || errors.Is(err, goipc.ErrOutboxFull) {
				time.Sleep(pumpBackoff)
				continue
			}
			if !stop.Load() {
				keepErr(errp, err)
			}
			return
		}
	}
}

// pumpWindow calls send in a loop (pump) on a goroutine of its own while
// window measures count; it returns the window's measure, or the error
// that stopped the sender.
func pumpWindow(ctx context.Context, env *Env, count func() int64, send func() error) (Measure, error) {
	var stop atomic.Bool
	var serr atomic.Pointer[error]
	done := make(chan struct{})
	go func() { defer close(done); pump(&stop, &serr, send) }()
	m, err := window(ctx, env, count)
	stop.Store(true)
	<-done
	if e := serr.Load(); e != nil && err == nil {
		return Measure{}, *e
	}
	return m, err
}

// keepErr stores the first error. It is a function of its own so that the
// caller's err does not escape (and allocate) on every message.
//
//go:noinline
func keepErr(errp *atomic.Pointer[error], err error) {
	errp.CompareAndSwap(nil, &err)
}

func (g *goipcImpl) Stream(ctx context.Context, env *Env, w Workload) (Measure, error) {
	if g.codec == "json" && w.Size < 2 || g.busy > 0 {
		return Measure{}, ErrNotApplicable
	}
	var n atomic.Int64
	srv, err := goipc.Listen(listenAddr(env, w.Transport), g.codecOpt())
	if err != nil {
		return Measure{}, err
	}
	switch g.codec {
	case "event", "json":
		srv.Handle("m", func(*goipc.Conn, goipc.Message) { n.Add(1) })
	case "length":
		srv.OnData(func(*goipc.Conn, []byte) { n.Add(1) })
	default: // raw: bytes, counted in frames of w.Size
		srv.OnData(func(_ *goipc.Conn, b []byte) { n.Add(int64(len(b))) })
	}
	stopSrv := serveGoipc(srv)
	defer stopSrv()
	cl, err := dialGoipc(ctx, srv.Addr(), g.codecOpt(), goipc.WithMaxPending(0, goipc.Block, 10*time.Second), goipc.WithRingSize(ringFor(w.Size)))
	if err != nil {
		return Measure{}, err
	}
	defer cl.Close()
	count := n.Load
	if g.codec == "raw" {
		count = func() int64 { return n.Load() / int64(w.Size) }
	}
	return pumpWindow(ctx, env, count, g.sender(cl, g.payload(w.Size)))
}

// micros returns d in microseconds.
func micros(d time.Duration) float64 { return float64(d) / 1e3 }

// rtt keeps a FIFO of send times and a histogram of round trips.
type rtt struct {
	mu        sync.Mutex
	fifo      []int64
	head, n   int
	h         Histogram
	count     int64
	measuring bool
	base      time.Time
}

func newRTT(window int) *rtt { return &rtt{fifo: make([]int64, window+1), base: time.Now()} }

func (r *rtt) now() int64 { return int64(time.Since(r.base)) }

// sent records a send time (before the send).
func (r *rtt) sent() { r.sentAt(r.now()) }

// sentAt records t as a send time: the time got returned, for a message
// sent in reply to the one just received. The C reference does the same
// (it stamps a batch of replies with the time of the read that brought
// their requests), and a clock read costs about 25 ns here: two per round
// trip were a tenth of a one-CPU round-trip run.
func (r *rtt) sentAt(t int64) {
	r.mu.Lock()
	r.fifo[(r.head+r.n)%len(r.fifo)] = t
	r.n++
	r.mu.Unlock()
}

// got records the oldest round trip's end and returns the time it read.
func (r *rtt) got() int64 {
	t := r.now()
	r.mu.Lock()
	if r.n > 0 {
		s := r.fifo[r.head]
		r.head = (r.head + 1) % len(r.fifo)
		r.n--
		r.count++
		if r.measuring {
			r.h.Add(time.Duration(t - s))
		}
	}
	r.mu.Unlock()
	return t
}

// measure runs the window and reads the histogram.
func (r *rtt) measure(ctx context.Context, env *Env) (Measure, error) {
	if err := sleepCtx(ctx, env.Warmup); err != nil {
		return Measure{}, err
	}
	r.mu.Lock()
	r.measuring = true
	r.h.Reset()
	n0 := r.count
	r.mu.Unlock()
	m0, t0 := mallocs(), time.Now()
	if err := sleepCtx(ctx, env.Duration); err != nil {
		return Measure{}, err
	}
	r.mu.Lock()
	r.measuring = false
	el := time.Since(t0)
	m := Measure{Msgs: r.count - n0, Elapsed: el, P50: micros(r.h.Quantile(0.5)), P99: micros(r.h.Quantile(0.99)), P999: micros(r.h.Quantile(0.999))}
	r.mu.Unlock()
	m.Allocs = mallocs() - m0
	if m.Msgs == 0 {
		return m, errors.New("no round trips")
	}
	return m, nil
}

func (g *goipcImpl) RoundTrips(ctx context.Context, env *Env, w Workload) (Measure, error) {
	if g.codec == "raw" || g.batch {
		return Measure{}, ErrNotApplicable // raw has no frames to echo one by one
	}
	srv, err := goipc.Listen(listenAddr(env, w.Transport), g.roundTripOpts()...)
	if err != nil {
		return Measure{}, err
	}
	if g.events() {
		srv.Handle("m", func(c *goipc.Conn, m goipc.Message) { _ = g.reply(c, m.Data) })
	} else {
		srv.OnData(func(c *goipc.Conn, b []byte) { _ = g.reply(c, b) })
	}
	stopSrv := serveGoipc(srv)
	defer stopSrv()
	return g.clientRoundTrips(ctx, env, w, srv.Addr())
}

// clientRoundTrips is the client half of RoundTrips: a goipc Client on addr
// (an echo server speaking g's codec, in this process or another) keeps
// w.Window round trips in flight and measures them over env.Duration after
// env.Warmup. Allocs counts this process's allocations.
func (g *goipcImpl) clientRoundTrips(ctx context.Context, env *Env, w Workload, addr string) (Measure, error) {
	cl, err := goipc.NewClient(addr, g.roundTripOpts()...)
	if err != nil {
		return Measure{}, err
	}
	defer cl.Close()
	r := newRTT(w.Window)
	p := g.payload(w.Size)
	var stop atomic.Bool
	var serr atomic.Pointer[error]
	next := func() {
		t := r.got()
		if stop.Load() {
			return
		}
		r.sentAt(t)
		if err := g.send(cl, p); err != nil {
			keepErr(&serr, err)
		}
	}
	if g.events() {
		cl.Handle("m", func(goipc.Message) { next() })
	} else {
		cl.OnData(func([]byte) { next() })
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cl.Connect(cctx); err != nil {
		return Measure{}, err
	}
	for range w.Window {
		r.sent()
		if err := g.send(cl, p); err != nil {
			return Measure{}, err
		}
	}
	m, err := r.measure(ctx, env)
	stop.Store(true)
	if e := serr.Load(); e != nil && err == nil {
		return m, *e
	}
	return m, err
}

func (g *goipcImpl) UDP(ctx context.Context, env *Env, w Workload) (Measure, error) {
	if g.codec == "raw" || g.busy > 0 {
		return Measure{}, ErrNotApplicable
	}
	var n atomic.Int64
	srv, err := goipc.Listen(listenAddr(env, "udp"), g.codecOpt())
	if err != nil {
		return Measure{}, err
	}
	if g.events() {
		srv.Handle("m", func(*goipc.Conn, goipc.Message) { n.Add(1) })
	} else {
		srv.OnData(func(*goipc.Conn, []byte) { n.Add(1) })
	}
	stopSrv := serveGoipc(srv)
	defer stopSrv()
	cl, err := dialGoipc(ctx, srv.Addr(), g.codecOpt())
	if err != nil {
		return Measure{}, err
	}
	defer cl.Close()
	m, err := pumpWindow(ctx, env, n.Load, g.sender(cl, g.payload(w.Size)))
	m.Note = "received datagrams (loss under overload is not counted)"
	return m, err
}

func (g *goipcImpl) Broadcast(ctx context.Context, env *Env, w Workload) (Measure, error) {
	if !g.events() || g.batch || g.busy > 0 {
		return Measure{}, ErrNotApplicable // Server.Broadcast emits events; BroadcastBytes is the raw one
	}
	srv, err := goipc.Listen(listenAddr(env, w.Transport), g.codecOpt(), goipc.WithMaxPending(0, goipc.Block, 10*time.Second))
	if err != nil {
		return Measure{}, err
	}
	var conns, n atomic.Int64
	srv.OnConnect(func(*goipc.Conn) { conns.Add(1) })
	stopSrv := serveGoipc(srv)
	defer stopSrv()
	for range w.Clients {
		cl, err := goipc.NewClient(srv.Addr(), g.codecOpt())
		if err != nil {
			return Measure{}, err
		}
		cl.Handle("m", func(goipc.Message) { n.Add(1) })
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = cl.Connect(cctx)
		cancel()
		if err != nil {
			return Measure{}, err
		}
		defer cl.Close()
	}
	if err := waitFor(ctx, func() bool { return conns.Load() >= int64(w.Clients) }); err != nil {
		return Measure{}, fmt.Errorf("clients connected: %d of %d", conns.Load(), w.Clients)
	}
	p := g.payload(w.Size)
	m, err := pumpWindow(ctx, env, n.Load, func() error { _, err := srv.Broadcast("m", p); return err })
	m.Note = "deliveries/s (broadcasts × clients)"
	return m, err
}

func (g *goipcImpl) Idle(ctx context.Context, env *Env, w Workload) (Measure, error) {
	if g.codec != "length" && g.codec != "event" || g.batch || g.busy > 0 {
		return Measure{}, ErrNotApplicable
	}
	var conns atomic.Int64
	before := memSnapshot()
	srv, err := goipc.Listen(listenAddr(env, "unix"), g.codecOpt(), goipc.WithMaxConns(w.Conns+16))
	if err != nil {
		return Measure{}, err
	}
	srv.OnConnect(func(*goipc.Conn) { conns.Add(1) })
	if g.events() {
		srv.Handle("m", func(c *goipc.Conn, m goipc.Message) { _ = c.Emit("m", m.Data) })
	} else {
		srv.OnData(func(c *goipc.Conn, b []byte) { _ = c.Send(b) })
	}
	stopSrv := serveGoipc(srv)
	defer stopSrv()
	path := strings.TrimPrefix(srv.Addr(), "unix://")
	frameBytes := rawFrame(w.Size, g.codec == "event")
	return idleRun(ctx, env, w, path, &conns, before, frameBytes)
}

// rawFrame is one wire frame a raw-socket client sends: a 4-byte length and
// the payload, or (event) a binary event envelope "m" inside it.
func rawFrame(size int, event bool) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = 'x'
	}
	if event {
		env, err := frame.AppendEvent(nil, "m", 0, 0, p)
		if err == nil {
			p = env
		}
	}
	out := make([]byte, 4+len(p))
	out[0], out[1], out[2], out[3] = byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p))
	copy(out[4:], p)
	return out
}

type memSnap struct {
	heap, rss  int64
	goroutines int
}

func memSnapshot() memSnap {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSnap{heap: int64(ms.HeapInuse + ms.StackInuse), rss: vmRSS(), goroutines: runtime.NumGoroutine()}
}

// idleRun opens w.Conns raw client sockets to the unix socket path (no Go
// state per client: plain file descriptors), waits until the server counted
// them, measures memory per connection, then keeps 1% of them busy with
// one round trip each in flight for env.Duration.
func idleRun(ctx context.Context, env *Env, w Workload, path string, conns *atomic.Int64, before memSnap, fr []byte) (Measure, error) {
	n := w.Conns
	if lim := int(nofile()); 2*n+256 > lim {
		n = (lim - 256) / 2
	}
	if n <= 0 {
		return Measure{}, errors.New("RLIMIT_NOFILE too low")
	}
	fds := make([]int, 0, n)
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	sa := &unix.SockaddrUnix{Name: path}
	for range n {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return Measure{}, fmt.Errorf("socket %d: %w", len(fds), err)
		}
		for {
			err = unix.Connect(fd, sa)
			if err != unix.EAGAIN && err != unix.EINTR {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if err != nil {
			unix.Close(fd)
			return Measure{}, fmt.Errorf("connect %d: %w", len(fds), err)
		}
		fds = append(fds, fd)
	}
	if err := waitFor(ctx, func() bool { return conns.Load() >= int64(n) }); err != nil {
		return Measure{}, fmt.Errorf("server accepted %d of %d", conns.Load(), n)
	}
	time.Sleep(100 * time.Millisecond)
	after := memSnapshot()
	m := Measure{
		HeapPerConn:       float64(after.heap-before.heap) / float64(n),
		RSSPerConn:        float64(after.rss-before.rss) / float64(n),
		GoroutinesPerConn: float64(after.goroutines-before.goroutines) / float64(n),
	}
	if n != w.Conns {
		m.Note = fmt.Sprintf("only %d connections (RLIMIT_NOFILE)", n)
	}
	active := fds[:max(1, n/100)]
	buf := make([]byte, len(fr))
	round := func() error {
		for _, fd := range active {
			if _, err := unix.Write(fd, fr); err != nil {
				return err
			}
		}
		for _, fd := range active {
			for got := 0; got < len(fr); {
				k, err := unix.Read(fd, buf[got:])
				if err == unix.EINTR {
					continue
				}
				if err != nil || k == 0 {
					return fmt.Errorf("read echo: %v (%d bytes)", err, k)
				}
				got += k
			}
		}
		return nil
	}
	if err := round(); err != nil {
		return m, err
	}
	m0, t0 := mallocs(), time.Now()
	end := t0.Add(env.Duration)
	var rounds int64
	for time.Now().Before(end) && ctx.Err() == nil {
		if err := round(); err != nil {
			return m, err
		}
		rounds++
	}
	m.Elapsed = time.Since(t0)
	m.Allocs = mallocs() - m0
	m.Msgs = rounds * int64(len(active))
	return m, nil
}

// waitFor polls cond for up to 30 s.
func waitFor(ctx context.Context, cond func() bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		if err := sleepCtx(ctx, 2*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// udpBatchImpl streams datagrams with goipc's udp package directly:
// WriteBatch (sendmmsg) to ReadBatch (recvmmsg), 64 a call.
type udpBatchImpl struct {
	noWorkloads // Stream, RoundTrips, Broadcast, Idle
}

func (udpBatchImpl) Name() string                          { return "goipc/udp-batch" }
func (udpBatchImpl) InProcess() bool                       { return true }
func (udpBatchImpl) Available(context.Context, *Env) error { return nil }

func (udpBatchImpl) UDP(ctx context.Context, env *Env, w Workload) (Measure, error) {
	const batch = 64
	rc, err := udp.Listen(ctx, "udp4", "127.0.0.1:0")
	if err != nil {
		return Measure{}, err
	}
	defer rc.Close()
	rc.SetReadBuffer(4 << 20)
	sc, err := udp.Listen(ctx, "udp4", "127.0.0.1:0")
	if err != nil {
		return Measure{}, err
	}
	defer sc.Close()
	var n atomic.Int64
	var stop atomic.Bool
	rdone := make(chan struct{})
	go func() {
		defer close(rdone)
		msgs := make([]udp.Message, batch)
		for i := range msgs {
			msgs[i].Buf = make([]byte, 2048)
		}
		for !stop.Load() {
			rc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			k, _ := rc.ReadBatch(msgs)
			n.Add(int64(k))
		}
	}()
	to := rc.LocalAddr()
	p := make([]byte, w.Size)
	out := make([]udp.Message, batch)
	for i := range out {
		out[i] = udp.Message{Buf: p, Addr: to}
	}
	var serr atomic.Pointer[error]
	sdone := make(chan struct{})
	go func() {
		defer close(sdone)
		for !stop.Load() {
			if _, err := sc.WriteBatch(out); err != nil && !errors.Is(err, unix.ENOBUFS) && !errors.Is(err, unix.ECONNREFUSED) {
				keepErr(&serr, err)
				return
			}
		}
	}()
	m, err := window(ctx, env, n.Load)
	stop.Store(true)
	<-sdone
	<-rdone
	if e := serr.Load(); e != nil && err == nil {
		err = *e
	}
	m.Note = "received datagrams"
	return m, err
}
