//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package poller

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	gio "github.com/panjf2000/gnet/v2/pkg/io"
	"github.com/panjf2000/gnet/v2/pkg/logging"
	"golang.org/x/sys/unix"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// LoopEngine drives connections on gnet event loops (epoll/kqueue). It is
// goipc's server engine on Linux, macOS and the BSDs. Connections come
// from goipc's own listeners (so socket-path safety stays goipc's, never
// gnet's RemoveAll) and are enrolled into the loops.
//
// Per loop turn a connection's input is decoded in place from gnet's
// buffer, each frame is handed to the Handler on the loop, and everything
// the handlers (or other goroutines) queued is flushed with one writev.
type LoopEngine struct {
	cfg    Config
	h      Handler
	cli    *gnet.Client
	reg    registry
	closed atomic.Bool
	busy   sync.Map // gnet.EventLoop → *atomic.Int32: the loop is running handlers
	wmu    sync.Mutex
	wakers map[gnet.EventLoop]*loopWaker
	smu    sync.Mutex                   // guards spins (not wmu: waker holds that while its loop runs OnOpen, which joins the set)
	spins  map[gnet.EventLoop]*loopSpin // Config.BusyPoll's sets; a nil entry: none could be made
	// tasks counts the work goipc has handed gnet's task queues (enrolling
	// a connection or a waker, closing a connection) that the loops have
	// not done yet; from Close on it stays positive. Busy-poll spins end
	// while it is positive, since gnet's queues are not in the spin sets.
	tasks atomic.Int32
}

// loopBusy returns the counter that is non-zero while loop runs handlers.
func (e *LoopEngine) loopBusy(loop gnet.EventLoop) *atomic.Int32 {
	v, _ := e.busy.LoadOrStore(loop, new(atomic.Int32))
	return v.(*atomic.Int32)
}

// NewLoopEngine starts loops event loops (0 means GOMAXPROCS) for
// connections configured by cfg and handled by h.
func NewLoopEngine(cfg Config, h Handler, loops int) (*LoopEngine, error) {
	cfg = cfg.withDefaults()
	if loops <= 0 {
		loops = runtime.GOMAXPROCS(0)
	}
	e := &LoopEngine{cfg: cfg, h: h, wakers: make(map[gnet.EventLoop]*loopWaker), spins: make(map[gnet.EventLoop]*loopSpin)}
	e.reg.init()
	cli, err := gnet.NewClient(&gnetHandler{e: e},
		gnet.WithMulticore(loops > 1),
		gnet.WithNumEventLoop(loops),
		gnet.WithLogger(slogAdapter{cfg.Logger}),
		gnet.WithLogLevel(logging.ErrorLevel),
		gnet.WithReadBufferCap(cfg.LoopReadBuffer),
		// No WithWriteBufferCap: flush writes the socket itself and gnet's
		// outbound buffer is never used.
	)
	if err != nil {
		return nil, fmt.Errorf("poller: gnet: %w", err)
	}
	if err := cli.Start(); err != nil {
		return nil, fmt.Errorf("poller: gnet: %w", err)
	}
	e.cli = cli
	go e.reg.housekeep(slowInterval(cfg), e.tick)
	return e, nil
}

// Add implements Engine. nc is duplicated into the loop and closed.
func (e *LoopEngine) Add(nc net.Conn) (*Conn, error) {
	if e.closed.Load() {
		nc.Close()
		return nil, ErrClosed
	}
	// The transport is created here and passed as gnet's context, so this
	// goroutine never reads gnet's connection state, which the loop owns.
	t := &gnetConn{e: e}
	e.tasks.Add(1)
	_, err := e.cli.EnrollContext(nc, t) // returns once the loop ran OnOpen, or failed
	e.tasks.Add(-1)
	if err != nil {
		return nil, fmt.Errorf("poller: enroll: %w", err)
	}
	// Enroll returns after the loop ran OnOpen, which set t.c and t.gc.
	if t.c == nil {
		return nil, ErrClosed
	}
	w, err := e.waker(t.gc.EventLoop())
	if err != nil {
		e.cfg.Logger.Warn("poller: no waker, falling back to gnet's Wake", "err", err)
	} else {
		t.waker.Store(w)
	}
	return t.c, nil
}

// Close implements Engine.
func (e *LoopEngine) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	e.tasks.Add(1) // for good: stopping is queued to the loops
	e.reg.close()
	err := e.cli.Stop()
	e.closeWakers()
	e.closeSpins()
	return err
}

// spinFor returns loop's busy-poll set, made at its first call, or nil
// when Config.BusyPoll is 0 or no set could be made (which is logged).
func (e *LoopEngine) spinFor(loop gnet.EventLoop) *loopSpin {
	if e.cfg.BusyPoll <= 0 {
		return nil
	}
	e.smu.Lock()
	defer e.smu.Unlock()
	s, ok := e.spins[loop]
	if !ok && e.spins != nil {
		var err error
		if s, err = newLoopSpin(e.cfg.BusyPoll, &e.tasks); err != nil {
			e.cfg.Logger.Warn("poller: this event loop will not busy-poll", "err", err)
		}
		e.spins[loop] = s
	}
	return s
}

// join puts fd, the loop end of a connection or a waker, into loop's
// busy-poll set and returns the set, or nil when there is none or fd
// could not join (logged: then input on fd waits for the end of other
// connections' spins, at most Config.BusyPoll). On the loop.
func (e *LoopEngine) join(loop gnet.EventLoop, fd int) *loopSpin {
	s := e.spinFor(loop)
	if s == nil {
		return nil
	}
	if err := s.add(fd); err != nil {
		e.cfg.Logger.Warn("poller: a connection will not busy-poll", "err", err)
		return nil
	}
	return s
}

func (e *LoopEngine) closeSpins() {
	e.smu.Lock()
	defer e.smu.Unlock()
	for _, s := range e.spins {
		if s != nil {
			s.close()
		}
	}
	e.spins = nil
}

// tick is the housekeeper: it retries flushes that found the socket full
// where no room waiter could be started, finishes graceful closes and
// enforces the partial-frame timeout.
func (e *LoopEngine) tick(c *Conn, now time.Time) {
	t := c.tr.(*gnetConn)
	switch {
	case c.stalled(now.UnixNano()):
		c.CloseNow(ErrPartialTimeout)
	case c.closing() && now.Sub(t.closeStart()) > e.cfg.CloseTimeout:
		c.CloseNow(errors.New("poller: close timed out with bytes unsent"))
	case t.congested.Load() || c.closing():
		c.wakeFlag.Store(true)
		t.wake()
	default:
		e.reg.unwatch(c)
	}
}

// gnetConn is a Conn's transport on a gnet loop.
type gnetConn struct {
	e         *LoopEngine
	c         *Conn
	gc        gnet.Conn
	src       loopSource
	dec       frame.Decoder
	spin      *loopSpin // the loop's busy-poll set, which holds this socket; nil: no busy polling
	iov       [2][]byte
	busy      *atomic.Int32 // shared by the connections of one loop
	waker     atomic.Pointer[loopWaker]
	congested atomic.Bool   // the socket is full and the housekeeper retries the flush
	roomFile  *os.File      // the room waiter's duplicate of the socket; loop only
	roomCh    chan struct{} // asks the room waiter to wait for room; cap 1
	closeAt   atomic.Int64  // when a graceful close began
	closeTask atomic.Int32  // closeNone, then closeQueued (counted in e.tasks) or closeDone
}

// gnetConn.closeTask's states: shutdown queues gnet's close (once), and
// OnClose ends it however the connection closed.
const (
	closeNone = iota
	closeQueued
	closeDone
)

// wake gets the loop to flush t: through the loop's waker once Add has set
// it up, else through gnet's Wake.
func (t *gnetConn) wake() {
	if w := t.waker.Load(); w != nil {
		w.wake(t)
		return
	}
	_ = t.gc.Wake(nil)
}

// shutdown has gnet close the connection: a task for its loop.
func (t *gnetConn) shutdown() {
	if t.closeTask.CompareAndSwap(closeNone, closeQueued) {
		t.e.tasks.Add(1)
	}
	_ = t.gc.Close()
}

func (t *gnetConn) onLoop() bool      { return t.busy.Load() > 0 }
func (t *gnetConn) netConn() net.Conn { return nil }
func (t *gnetConn) fd() int           { return t.gc.Fd() }
func (t *gnetConn) closeStart() time.Time {
	if n := t.closeAt.Load(); n != 0 {
		return time.Unix(0, n)
	}
	now := time.Now()
	t.closeAt.CompareAndSwap(0, now.UnixNano())
	return now
}

type gnetHandler struct {
	gnet.BuiltinEventEngine
	e *LoopEngine
}

func (h *gnetHandler) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	e := h.e
	if w, ok := gc.Context().(*loopWaker); ok {
		w.gc = gc
		w.spin = e.join(gc.EventLoop(), gc.Fd())
		close(w.ready)
		return nil, gnet.None
	}
	t, _ := gc.Context().(*gnetConn)
	if t == nil {
		return nil, gnet.Close
	}
	t.gc, t.busy = gc, e.loopBusy(gc.EventLoop())
	t.spin = e.join(gc.EventLoop(), gc.Fd())
	_, exact := e.cfg.Codec.(*frame.LengthField)
	t.src = loopSource{gc: gc, exact: exact}
	t.dec = *frame.NewDecoder(&t.src, e.cfg.Codec)
	c := newConn(&e.cfg, &e.reg, t, gc.LocalAddr(), gc.RemoteAddr())
	t.c = c
	e.reg.add(c)
	t.busy.Add(1)
	e.h.OnOpen(c)
	t.busy.Add(-1)
	return nil, gnet.None
}

func (h *gnetHandler) OnTraffic(gc gnet.Conn) gnet.Action {
	if w, ok := gc.Context().(*loopWaker); ok {
		_, _ = gc.Discard(-1)
		for _, t := range w.drain() {
			h.wakeFlush(t)
		}
		clear(w.spare)
		if w.spin != nil {
			w.spin.spin()
		}
		return gnet.None
	}
	t, _ := gc.Context().(*gnetConn)
	if t == nil || t.c == nil {
		return gnet.Close
	}
	e, c := h.e, t.c
	if c.state.Load() == stateClosed {
		return gnet.Close
	}
	// Writers see the flag set while we run: they skip the wake, and the
	// flush below picks up what they queued.
	c.wakeFlag.Store(true)
	t.busy.Add(1)
	var err error
	frames := 0
	for c.state.Load() == stateOpen {
		var p []byte
		p, err = t.dec.Next()
		if err != nil {
			break
		}
		frames++
		if err = e.h.OnFrame(c, p); err != nil {
			break
		}
	}
	t.busy.Add(-1)
	if err == io.ErrShortBuffer {
		err = nil
	}
	if err == nil {
		// Leave gnet nothing: an incomplete frame goes to the carry.
		if err = t.dec.Discard(); err == nil {
			err = t.src.stash()
		}
	}
	if err != nil {
		c.setErr(err)
		return gnet.Close
	}
	c.notePartial(t.src.total(), frames > 0, time.Now().UnixNano())
	c.wakeFlag.Store(false)
	a := h.flush(c, t)
	if a == gnet.None && t.spin != nil {
		t.spin.spin()
	}
	return a
}

// wakeFlush runs on the loop for a connection written from elsewhere.
func (h *gnetHandler) wakeFlush(t *gnetConn) {
	c := t.c
	if c == nil || c.state.Load() == stateClosed {
		return
	}
	c.wakeFlag.Store(false)
	if h.flush(c, t) == gnet.Close {
		t.shutdown()
	}
}

// flush writes queued bytes to the socket itself, one writev per batch
// (gnet's own write buffer is never used, so nothing is copied twice),
// until the queue is empty or the socket is full; then a goroutine of the
// connection waits for room and wakes the loop (see awaitRoom).
func (h *gnetHandler) flush(c *Conn, t *gnetConn) gnet.Action {
	fd := t.gc.Fd()
	for {
		a, b := c.out.peek()
		if len(a) == 0 {
			break
		}
		t.iov[0], t.iov[1] = a, b
		iov := t.iov[:1]
		if len(b) > 0 {
			iov = t.iov[:2]
		}
		n, err := gio.Writev(fd, iov)
		t.iov[0], t.iov[1] = nil, nil
		if n > 0 {
			c.out.consume(n)
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN || err == nil && n < len(a)+len(b):
			t.awaitRoom()
			return gnet.None
		case err != nil:
			c.setErr(os.NewSyscallError("writev", err))
			return gnet.Close
		}
	}
	t.congested.Store(false)
	if c.closing() {
		// Close only once the queue is closed to writes and empty: between
		// Close's state change and its closing the queue, a write may still
		// land, and Close wakes us again after.
		if empty, closed := c.out.drained(); empty && closed {
			return gnet.Close
		}
	}
	return gnet.None
}

// awaitRoom gets the loop woken once the socket, found full, has room
// again. The connection's room waiter, a goroutine started at its first
// full socket, waits for that on a duplicate of the socket registered with
// Go's poller; a connection that never fills its socket has none. Where
// the duplicate cannot be made, the housekeeper retries every
// fastInterval instead. On the loop.
func (t *gnetConn) awaitRoom() {
	if t.roomFile == nil && !t.startRoomWaiter() {
		if !t.congested.Swap(true) {
			t.e.reg.watchAdd(t.c)
		}
		return
	}
	select {
	case t.roomCh <- struct{}{}:
	default:
	}
}

func (t *gnetConn) startRoomWaiter() bool {
	dfd, err := unix.FcntlInt(uintptr(t.gc.Fd()), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.e.cfg.Logger.Warn("poller: no room waiter", "err", err)
		return false
	}
	f := os.NewFile(uintptr(dfd), "goipc-room") // non-blocking: on Go's poller
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		t.e.cfg.Logger.Warn("poller: no room waiter", "err", err)
		return false
	}
	t.roomFile, t.roomCh = f, make(chan struct{}, 1)
	go t.waitRoom(rc, t.roomCh, t.c.done)
	return true
}

// waitRoom is the room waiter: each time the loop found the socket full,
// it waits until the socket is writable (level first, then the poller's
// edge) and wakes the loop to flush. It ends when the connection does,
// or when its duplicate is closed (OnClose: the duplicate must not keep
// the socket open).
func (t *gnetConn) waitRoom(rc syscall.RawConn, req <-chan struct{}, done <-chan struct{}) {
	writable := func(fd uintptr) bool {
		p := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(p[:], 0)
		return err != nil || n > 0 // an error: let the loop's write report it
	}
	for {
		select {
		case <-req:
		case <-done:
			return
		}
		if rc.Write(writable) != nil {
			return
		}
		t.c.wakeFlag.Store(true)
		t.wake()
	}
}

func (h *gnetHandler) OnClose(gc gnet.Conn, err error) gnet.Action {
	if w, ok := gc.Context().(*loopWaker); ok {
		if w.spin != nil {
			w.spin.remove(gc.Fd())
		}
		return gnet.None
	}
	t, _ := gc.Context().(*gnetConn)
	if t == nil || t.c == nil {
		return gnet.None
	}
	c := t.c
	if t.closeTask.Swap(closeDone) == closeQueued {
		h.e.tasks.Add(-1)
	}
	h.e.reg.remove(c)
	if t.spin != nil {
		t.spin.remove(gc.Fd())
	}
	if t.roomFile != nil {
		t.roomFile.Close() // before gnet closes the socket: no duplicate may keep it open
	}
	err = gnetCloseErr(err, gc.Fd(), t.src.total())
	t.src.drop()
	err = c.finish(err)
	c.out.dropHead() // on the loop: the flusher is done with c
	h.e.h.OnClose(c, err)
	return gnet.None
}

// gnetCloseErr turns the error gnet closes a connection with into the one
// the application is told, given the socket (still open) and the bytes of
// an incomplete frame left in the connection's buffer.
func gnetCloseErr(err error, fd, buffered int) error {
	if err == io.EOF && fd >= 0 {
		// A bare io.EOF is gnet's verdict on a hang-up or error event that
		// came without a readable one: it closes without reading, so a
		// pending socket error (a reset) is still there to be told.
		if errno, e := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); e == nil && errno != 0 {
			err = os.NewSyscallError("read", syscall.Errno(errno))
		}
	}
	if (err == nil || errors.Is(err, io.EOF)) && buffered > 0 {
		err = io.ErrUnexpectedEOF // the peer left in the middle of a frame
	}
	return err
}

// slogAdapter routes gnet's logging to the configured slog.Logger.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debugf(f string, args ...any) { a.l.Debug(fmt.Sprintf("gnet: "+f, args...)) }
func (a slogAdapter) Infof(f string, args ...any)  { a.l.Info(fmt.Sprintf("gnet: "+f, args...)) }
func (a slogAdapter) Warnf(f string, args ...any)  { a.l.Warn(fmt.Sprintf("gnet: "+f, args...)) }
func (a slogAdapter) Errorf(f string, args ...any) { a.l.Error(fmt.Sprintf("gnet: "+f, args...)) }
func (a slogAdapter) Fatalf(f string, args ...any) { a.l.Error(fmt.Sprintf("gnet: "+f, args...)) }

// NewServerEngine returns the engine servers use on this OS, as
// cfg.Engine selects: gnet event loops, except that EngineAuto with
// GOMAXPROCS 1 serves its first AutoGoroutineConns connections with the
// goroutine engine and only the rest on a loop (splitEngine).
//
// Why: a gnet loop sleeps in its own epoll_wait system call, outside the
// Go scheduler's netpoller. With one P, every hand-off between that thread
// and the goroutines (the handlers' other work, in-process clients, any
// other goroutine of the program) goes through the runtime's syscall
// hand-off and a switch between two OS threads on one core. A runtime
// trace of Latency1 under taskset -c 0 shows the goroutine that should run
// next waiting 2.3 µs at the median after the loop enters epoll_wait but
// 100–270 µs 3% of the time, which is the whole p99. The goroutine engine
// parks in the netpoller instead; measured on one core (taskset -c 0, the
// root package's benchmarks, same-run pairs) it cut 1-in-flight latency
// p50 from 14.2–14.6 to 10.2–10.3 µs and p99 from 210–222 to 11–129 µs,
// and took 64-in-flight round trips from 0.25–0.31× to 0.67–0.68× the
// std net+bufio baseline. Its cost is a goroutine per idle connection
// (about 5 KiB of heap and stack on Linux, where it holds no read buffer
// while idle), against about 2 KiB and no goroutine on a loop: so
// past the first AutoGoroutineConns, connections go to a loop.
func NewServerEngine(cfg Config, h Handler, loops int) (Engine, error) {
	switch cfg.Engine {
	case EngineGoroutine:
		return NewGoEngine(cfg, h)
	case EngineAuto:
		if runtime.GOMAXPROCS(0) == 1 {
			return newSplitEngine(cfg, h, loops)
		}
	}
	return NewLoopEngine(cfg, h, loops)
}

// AutoGoroutineConns is how many connections, open at once, EngineAuto
// serves with goroutines at GOMAXPROCS 1 before it puts further ones on
// an event loop. Their memory (about 5 KiB each, idle) is then a small
// share of a server with thousands of connections.
const AutoGoroutineConns = 64

// splitEngine is EngineAuto at GOMAXPROCS 1: a GoEngine for the first
// AutoGoroutineConns connections open at once, and a LoopEngine, started
// when first needed, for the connections beyond. A connection stays on
// the engine it started on; a goroutine slot freed by a close goes to the
// next connection.
type splitEngine struct {
	cfg   Config
	h     Handler
	loops int
	goe   *GoEngine
	onGo  atomic.Int64 // connections on goe, open or being added

	mu     sync.Mutex
	loop   *LoopEngine // nil until a connection needs it
	closed bool
}

func newSplitEngine(cfg Config, h Handler, loops int) (*splitEngine, error) {
	goe, err := NewGoEngine(cfg, h)
	if err != nil {
		return nil, err
	}
	e := &splitEngine{cfg: cfg, h: h, loops: loops, goe: goe}
	// Set before any connection is added: the handler's frames go to
	// it directly, and a close frees the goroutine slot.
	goe.afterClose = func() { e.onGo.Add(-1) }
	return e, nil
}

// Add implements Engine.
func (e *splitEngine) Add(nc net.Conn) (*Conn, error) {
	if e.onGo.Add(1) <= AutoGoroutineConns {
		c, err := e.goe.Add(nc)
		if err != nil {
			e.onGo.Add(-1)
		}
		return c, err
	}
	e.onGo.Add(-1)
	loop, err := e.loopEngine()
	if err != nil {
		nc.Close()
		return nil, err
	}
	return loop.Add(nc)
}

// loopEngine returns the loop side, starting it on first use.
func (e *splitEngine) loopEngine() (*LoopEngine, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if e.loop == nil {
		loop, err := NewLoopEngine(e.cfg, e.h, e.loops)
		if err != nil {
			return nil, err
		}
		e.loop = loop
	}
	return e.loop, nil
}

// Close implements Engine.
func (e *splitEngine) Close() error {
	e.mu.Lock()
	e.closed = true
	loop := e.loop
	e.mu.Unlock()
	err := e.goe.Close()
	if loop != nil {
		err = errors.Join(err, loop.Close())
	}
	return err
}
