package poller

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// GoEngine drives each connection with goroutines over the standard
// library: a reader that decodes frames in place from a bufio.Reader and
// calls the Handler, and, while the connection has bytes to write that
// the reader does not write itself (below), a writer that flushes the
// outbound queue with writev. It serves clients
// (a few connections; dialing is blocking anyway), TLS (crypto/tls needs
// a blocking net.Conn) and Windows (the runtime's IOCP poller). The codecs, queues and handlers are the
// same as on the event loops.
//
// Handlers run on the connection's reader goroutine, so a slow handler
// delays only its own connection, and a blocking write policy may block
// there safely.
//
// On Linux TCP and Unix sockets (sockIO, below), what is written to a
// connection while its reader handles input, by its handlers or by other
// goroutines, is written by the reader, in one writev, once it has handled
// everything it read and before it reads or waits again, as the event
// loops do: no goroutine starts for it and, with GOMAXPROCS above 1, no
// thread is woken to run one. So a handler that blocks holds back what
// was written meanwhile until it returns, unless a writer has to wait for
// room in the queue, which hands the flush to a writer goroutine at once.
// The reader never waits for room in the socket: where the socket is
// full, a writer goroutine takes over (a peer writing to us while we
// write to it would otherwise wait for us, and we for it). Elsewhere (TLS,
// Windows, other platforms) a writer goroutine always writes.
//
// On Linux, TCP and Unix socket connections do their I/O through the
// descriptor with raw system calls (sockIO), and hold their read buffer
// only while they have input: once every byte read has been handled, the
// buffer goes back to a pool and the reader waits for the socket to become
// readable without one, so an idle connection costs its reader goroutine
// and a few hundred bytes (about 5 KiB in all), not ReadBuffer.
type GoEngine struct {
	cfg    Config
	h      Handler
	reg    registry
	closed atomic.Bool

	bmu  sync.Mutex
	bufs []*bufio.Reader // free read buffers, at most maxFreeBufs

	// afterClose, when set (splitEngine), runs after each connection's
	// OnClose.
	afterClose func()
}

// maxFreeBufs bounds the read buffers an engine keeps for connections that
// become busy again. A free list rather than a sync.Pool: the garbage
// collector does not empty it, so connections that alternate between idle
// and busy do not allocate 64 KiB each time, and memory stays predictable.
const maxFreeBufs = 64

// NewGoEngine returns an engine for connections configured by cfg and
// handled by h.
func NewGoEngine(cfg Config, h Handler) (*GoEngine, error) {
	cfg = cfg.withDefaults()
	e := &GoEngine{cfg: cfg, h: h}
	e.reg.init()
	go e.reg.housekeep(slowInterval(cfg), e.tick)
	return e, nil
}

// Add implements Engine. OnOpen runs on the calling goroutine before Add
// returns.
func (e *GoEngine) Add(nc net.Conn) (*Conn, error) {
	if e.closed.Load() {
		nc.Close()
		return nil, ErrClosed
	}
	t := &goConn{nc: nc}
	c := newConn(&e.cfg, &e.reg, t, nc.LocalAddr(), nc.RemoteAddr())
	t.c = c
	t.writer = func() { t.flush(true) }
	if t.sock = newSockIO(nc, e.cfg.BusyPoll); t.sock == nil {
		t.src.br = e.getBuf(t) // kept for the connection's life
	} else {
		c.out.beforeWait = t.flushNow
	}
	t.dec = frame.NewDecoder(&t.src, e.cfg.Codec)
	e.reg.add(c)
	e.h.OnOpen(c)
	go e.read(t)
	return c, nil
}

// Close implements Engine: every connection closes at once.
func (e *GoEngine) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	for _, c := range e.reg.snapshot(nil, false) {
		c.CloseNow(nil)
	}
	e.reg.close()
	return nil
}

func (e *GoEngine) tick(c *Conn, now time.Time) {
	t := c.tr.(*goConn)
	switch {
	case c.stalled(now.UnixNano()):
		c.CloseNow(ErrPartialTimeout)
	case c.closing() && now.Sub(t.closeStart()) > e.cfg.CloseTimeout:
		c.CloseNow(errors.New("poller: close timed out with bytes unsent"))
	case !c.closing():
		e.reg.unwatch(c)
	}
}

type goConn struct {
	c       *Conn
	nc      net.Conn
	src     readSource
	sock    *sockIO // nil: net.Conn's methods, and the read buffer stays attached
	dec     *frame.Decoder
	writer  func() // t.flush(true), made once: starting it allocates nothing
	iov     [2][]byte
	bufs    net.Buffers
	closeAt atomic.Int64

	// The flush at the end of input (sockIO only): inInput is set while
	// the reader handles what it read, and deferred when a flush was
	// requested meanwhile; the reader or flushNow, whichever clears
	// deferred, runs that flush.
	inInput, deferred atomic.Bool
	writers           atomic.Uint64 // writer goroutines started: the tests' evidence

	// Frames decoded, and their count at the last socket read: the
	// reader goroutine's own, for the partial-frame timeout.
	frames, framesAtRead uint64
}

// wake runs the flush its caller requested. Conn calls it only when it
// set the wake flag, which the flusher holds until it ends, so one flusher
// runs at a time. While the reader handles input, the flush is left to
// the reader (endInput); else a writer goroutine starts.
func (t *goConn) wake() {
	t.deferred.Store(true)
	if !t.inInput.Load() {
		t.flushNow()
	}
}

// flushNow starts a writer goroutine for a flush requested and not yet
// run: at wake outside input, and when a writer is about to wait for room
// in the queue (outbound.beforeWait), which the reader might otherwise
// never make: the waiting writer may be the reader's own handler. Any
// goroutine.
func (t *goConn) flushNow() {
	if t.deferred.Swap(false) {
		t.startWriter()
	}
}

func (t *goConn) startWriter() {
	t.writers.Add(1)
	go t.writer()
}

// beginInput and endInput bracket the reader's handling of what one read
// brought: endInput runs once all of it is handled, before the reader
// reads or waits again, and writes what was queued meanwhile without
// waiting for room. On the reader; sockIO connections only. (The store
// comes before the swap, and wake's store before its load, so a flush
// requested around the end is seen by endInput or runs from wake.)
func (t *goConn) beginInput() { t.inInput.Store(true) }

func (t *goConn) endInput() {
	t.inInput.Store(false)
	if t.deferred.Swap(false) {
		t.flush(false)
	}
}

func (t *goConn) shutdown() {
	if t.sock != nil {
		t.sock.halt() // a spinning reader stops spinning and parks, to see the close
	}
	t.nc.Close()
}

// onLoop is false: a handler on the reader may wait for room in the queue
// although the reader runs flushes at the end of its input, because
// outbound.beforeWait hands a flush the reader holds to a writer goroutine
// before the wait.
func (t *goConn) onLoop() bool { return false }

func (t *goConn) netConn() net.Conn { return t.nc }

func (t *goConn) fd() int { return rawFd(t.nc) }

func (t *goConn) closeStart() time.Time {
	if n := t.closeAt.Load(); n != 0 {
		return time.Unix(0, n)
	}
	now := time.Now()
	t.closeAt.CompareAndSwap(0, now.UnixNano())
	return now
}

// readSource is the decoder's source: the read buffer while one is
// attached, else empty. The reader goroutine's own.
type readSource struct{ br *bufio.Reader }

func (s *readSource) Peek(n int) ([]byte, error) { return s.br.Peek(n) }
func (s *readSource) Discard(n int) (int, error) { return s.br.Discard(n) }
func (s *readSource) Buffered() int {
	if s.br == nil {
		return 0
	}
	return s.br.Buffered()
}

// getBuf returns a pooled read buffer reading from t's socket.
func (e *GoEngine) getBuf(t *goConn) *bufio.Reader {
	e.bmu.Lock()
	var br *bufio.Reader
	if n := len(e.bufs); n > 0 {
		br = e.bufs[n-1]
		e.bufs[n-1] = nil
		e.bufs = e.bufs[:n-1]
	}
	e.bmu.Unlock()
	if br == nil {
		return bufio.NewReaderSize(readHook{t}, e.cfg.ReadBuffer)
	}
	br.Reset(readHook{t})
	return br
}

// putBuf detaches t's read buffer, which holds nothing, and pools it.
func (e *GoEngine) putBuf(t *goConn) {
	if br := t.src.br; br != nil {
		t.src.br = nil
		br.Reset(nil)
		e.bmu.Lock()
		if len(e.bufs) < maxFreeBufs {
			e.bufs = append(e.bufs, br)
		}
		e.bmu.Unlock()
	}
}

// idle runs when every byte read has been handled: the read buffer goes
// back to the pool while the reader waits for the socket to be readable.
func (e *GoEngine) idle(t *goConn) error {
	t.endInput()
	if err := t.dec.Discard(); err != nil {
		return err
	}
	e.putBuf(t)
	t.c.notePartial(0, false, 0)
	if err := t.sock.wait(); err != nil {
		return err
	}
	t.src.br = e.getBuf(t)
	return nil
}

// readHook records, each time the bufio.Reader must read the socket,
// whether it holds an incomplete frame: that feeds the partial-frame
// timeout without a timer per message.
type readHook struct{ t *goConn }

func (r readHook) Read(p []byte) (int, error) {
	t := r.t
	t.c.notePartial(t.src.br.Buffered(), t.frames != t.framesAtRead, time.Now().UnixNano())
	t.framesAtRead = t.frames
	if t.sock == nil {
		return t.nc.Read(p)
	}
	t.endInput()
	n, err := t.sock.read(p)
	t.beginInput()
	return n, err
}

func (e *GoEngine) read(t *goConn) {
	c := t.c
	var err error
	for {
		if t.sock != nil && t.dec.Idle() {
			if err = e.idle(t); err != nil {
				break
			}
		}
		var p []byte
		if p, err = t.dec.Next(); err != nil {
			break
		}
		t.frames++
		if err = e.h.OnFrame(c, p); err != nil {
			break
		}
	}
	if c.state.Load() != stateOpen && (errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF)) {
		err = nil // we closed it
	}
	t.shutdown()
	_ = t.dec.Discard()
	e.putBuf(t)
	e.reg.remove(c)
	err = c.finish(err)
	e.h.OnClose(c, err)
	if e.afterClose != nil {
		e.afterClose()
	}
}

// writev writes a then b, all of them (net.Buffers) or at least some
// (sockIO: the writer loop writes the rest).
func (t *goConn) writev(a, b []byte) (int, error) {
	if t.sock != nil {
		return t.sock.writev(a, b)
	}
	t.iov[0], t.iov[1] = a, b
	t.bufs = t.iov[:1]
	if len(b) > 0 {
		t.bufs = t.iov[:2]
	}
	n, err := t.bufs.WriteTo(t.nc)
	t.iov[0], t.iov[1] = nil, nil
	return int(n), err
}

// flush writes the queue until it is empty. It runs as the connection's
// writer goroutine (wait: started when a flush is requested and none is
// under way, and waiting for room while the socket is full), or on the
// reader at the end of its input (!wait: where the socket is full it
// starts the writer goroutine, which carries on). Either way there is no
// writer while there is nothing to write. It holds the wake flag while it
// runs (writers committing meanwhile skip the wake, and it picks up what
// they queued); it clears the flag only once the queue looks empty and
// then looks again, so a frame committed around the clear either finds
// the flag clear and starts the next flush, or is seen here. Once the
// queue is closed and empty it ends for good, the flag left set: a
// graceful close half-closes the socket.
func (t *goConn) flush(wait bool) {
	c := t.c
	for {
		if a, b := c.out.peek(); len(a) > 0 {
			var n int
			var err error
			if wait {
				n, err = t.writev(a, b)
			} else {
				n, err = t.sock.writevNow(a, b)
			}
			if err != nil {
				c.out.dropHead()
				c.CloseNow(err)
				return
			}
			c.out.consume(n)
			if !wait && n < len(a)+len(b) {
				t.startWriter() // the socket is full: the writer waits for room, and holds the flag
				return
			}
			continue
		}
		// The queue looks empty: give up the flag, then look once more.
		// Until the flag is ours again another writer may run: touch
		// nothing of the flusher's.
		c.wakeFlag.Store(false)
		empty, closed := c.out.drained()
		if empty && !closed || c.wakeFlag.Swap(true) {
			return // nothing to do, or a producer set the flag and started a writer
		}
		if empty { // and closed: no frame can come
			c.out.dropHead()
			if c.closing() {
				t.closeWrite()
			}
			return
		}
		// A frame landed around the clear, and the flag is ours again.
	}
}

// closeWrite ends a graceful close whose bytes are all written:
// half-close, so the peer reads everything and then EOF, and our reader
// ends when the peer closes its side; where there is no half-close, close.
func (t *goConn) closeWrite() {
	if cw, ok := t.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		t.closeStart()
		return
	}
	t.shutdown()
}
