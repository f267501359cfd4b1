package poller

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// Defaults for Config fields left zero.
const (
	DefaultRingSize       = 64 << 10
	DefaultMaxPending     = 16 << 20
	DefaultBlockPending   = 1 << 20
	DefaultBlockTimeout   = 5 * time.Second
	DefaultPartialTimeout = 30 * time.Second
	DefaultCloseTimeout   = 5 * time.Second
	DefaultReadBuffer     = 64 << 10
	DefaultLoopReadBuffer = 256 << 10
)

// Config is a connection's configuration, shared by the connections of
// one server or client. The zero value works with the default codec.
type Config struct {
	// Codec frames the stream; nil means the default length-field codec.
	Codec frame.Codec
	// RingSize is the size of the outbound queue's chunks (rounded up to
	// a power of two from 4 KiB; larger frames get a chunk of their size
	// class): frames are encoded straight into them, the first on the
	// first write. Default 64 KiB.
	RingSize int
	// MaxPending bounds the bytes queued for one connection and not yet
	// taken by the socket. A frame larger than MaxPending (up to the
	// codec's MaxFrame) is queued only into an empty queue, so a
	// connection never holds more than the larger of the two.
	//
	// Default (DefaultPending): 16 MiB, so that a writer that is refused
	// (PolicyError) can queue large messages back to back; 1 MiB under
	// PolicyBlock, whose writers wait anyway. A producer faster than its
	// peer runs MaxPending ahead of the socket, and the deeper the queue,
	// the longer each frame waits in it and the colder its bytes are in
	// the cache when the socket takes them: on the project's machine, a
	// 64-byte stream under PolicyBlock on one core took 8–12 % less time
	// per frame with 1 MiB than with 16 MiB (BenchmarkStream;
	// docs/BENCHMARKS.md, "Session 7").
	MaxPending int
	// Policy applies when a write would exceed MaxPending.
	Policy Policy
	// BlockTimeout bounds the wait of PolicyBlock. Default 5 s.
	BlockTimeout time.Duration
	// PartialTimeout closes a connection that has held an incomplete
	// frame for this long with no frame completing meanwhile (a stalled or
	// slowloris peer). Default 30 s; negative disables it.
	PartialTimeout time.Duration
	// CloseTimeout bounds how long a graceful Close waits for pending
	// bytes to reach the socket. Default 5 s.
	CloseTimeout time.Duration
	// ReadBuffer is the read buffer of goroutine-driven connections.
	// Default 64 KiB. On Linux, TCP and Unix socket connections hold one
	// only while they have input; idle, it is back on the engine's free
	// list (TLS connections keep theirs).
	ReadBuffer int
	// LoopReadBuffer is the buffer each event loop reads into, shared by
	// the loop's connections (a frame left incomplete by a read is moved
	// to its connection's own carry). Default 256 KiB: with 64 KiB reads
	// a 64-byte stream over a Unix socket, in process, took a quarter to
	// a half as long again per frame (docs/BENCHMARKS.md, "Session 8").
	LoopReadBuffer int
	// BusyPoll, when positive, is how long a connection's reader keeps
	// polling for input, without sleeping, each time its input runs dry:
	// an event loop after each turn (one spin for all the loop's
	// connections, ended by input on any of them or by a write queued
	// from another goroutine), a goroutine-engine reader before it parks.
	// Input that arrives within it is read without the wake-up of a
	// sleeping thread, which on the project's machine is most of a round
	// trip between processes on different CPUs (docs/BENCHMARKS.md,
	// "Session 9"). The price is CPU: up to BusyPoll of it per loop, or per
	// goroutine-engine connection, every time input runs dry. Worth it
	// when each end has a CPU of its own; on a shared CPU a spin only
	// delays the peer it waits for (it yields to the process's own
	// goroutines, not to other processes). So a reader whose spins mostly
	// fail, running out (a quiet connection) or finding input only after
	// the kernel took the CPU from it (a peer on the same CPU), stops
	// spinning, but for one probe every 16 to 1024 waits, until a probe
	// pays again (spinGov; docs/ARCHITECTURE.md §4.2).
	//
	// Linux only, on TCP and Unix stream sockets without TLS; elsewhere it
	// is ignored. Work that gnet queues for a loop (closing a connection
	// from another goroutine, enrolling a new one) waits for a spin to
	// end, so keep it short: tens of microseconds. Default 0: never spin.
	BusyPoll time.Duration
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Engine selects the engine NewServerEngine returns. The zero value,
	// EngineAuto, means event loops where the OS has them, except with
	// GOMAXPROCS 1, where goroutines for the first AutoGoroutineConns
	// connections (see NewServerEngine for why).
	Engine EngineKind
}

// DefaultPending returns the MaxPending used where none is set:
// DefaultBlockPending under PolicyBlock, else DefaultMaxPending.
func DefaultPending(p Policy) int {
	if p == PolicyBlock {
		return DefaultBlockPending
	}
	return DefaultMaxPending
}

// EngineKind selects a server's engine (Config.Engine).
type EngineKind uint8

const (
	// EngineAuto picks per NewServerEngine's rule.
	EngineAuto EngineKind = iota
	// EngineLoop forces event loops (LoopEngine) where the OS has them:
	// no goroutine and no read buffer per idle connection.
	EngineLoop
	// EngineGoroutine forces the goroutine engine (GoEngine).
	EngineGoroutine
)

func (c Config) withDefaults() Config {
	if c.Codec == nil {
		c.Codec = frame.MustLengthField(frame.LengthFieldConfig{})
	}
	if c.RingSize <= 0 {
		c.RingSize = DefaultRingSize
	}
	if c.MaxPending <= 0 {
		c.MaxPending = DefaultPending(c.Policy)
	}
	if c.BlockTimeout <= 0 {
		c.BlockTimeout = DefaultBlockTimeout
	}
	if c.PartialTimeout == 0 {
		c.PartialTimeout = DefaultPartialTimeout
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.ReadBuffer <= 0 {
		c.ReadBuffer = DefaultReadBuffer
	}
	if c.LoopReadBuffer <= 0 {
		c.LoopReadBuffer = DefaultLoopReadBuffer
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Handler receives a connection's events. For connections driven by an
// event loop the methods run on the loop: they must not block. Payloads
// alias the receive buffer and are valid only during OnFrame.
type Handler interface {
	// OnOpen runs once, before any OnFrame.
	OnOpen(c *Conn)
	// OnFrame receives one frame's payload. A non-nil error closes the
	// connection with that error.
	OnFrame(c *Conn, payload []byte) error
	// OnClose runs once, after the last OnFrame. err is nil for a clean
	// close by either side, else why it closed.
	OnClose(c *Conn, err error)
}

// transport is what an implementation (event loop or goroutines) provides
// a Conn.
type transport interface {
	// wake asks the flusher to write pending bytes. Called from any
	// goroutine, at most once per batch (the Conn coalesces).
	wake()
	// shutdown closes the socket now; pending bytes are dropped.
	shutdown()
	// onLoop reports whether the caller may be the goroutine that flushes
	// this connection, in which case a write must never block.
	onLoop() bool
	// fd returns the socket's descriptor for option and credential
	// queries, or -1.
	fd() int
	// netConn returns the net.Conn of goroutine-driven connections, nil
	// on event loops.
	netConn() net.Conn
}

const (
	stateOpen int32 = iota
	stateClosing
	stateClosed
)

// Conn is one connection: its codec, its outbound queue and its state. All
// methods are safe for concurrent use unless stated otherwise.
type Conn struct {
	cfg    *Config
	reg    *registry // the engine's, for the housekeeper's attention
	out    outbound
	tr     transport
	local  net.Addr
	remote net.Addr

	wakeFlag     atomic.Bool  // a flush is already requested or under way
	state        atomic.Int32 // stateOpen, stateClosing, stateClosed
	partialSince atomic.Int64 // unix nanos when an incomplete frame was first seen; 0 if none
	closeOnce    sync.Once
	closeErr     error
	done         chan struct{} // closed when the connection is fully closed

	// Value is for the owner of the connection (the goipc facade) to hang
	// its per-connection state on. Set it in OnOpen; it is not synchronised.
	Value any
}

func newConn(cfg *Config, reg *registry, tr transport, local, remote net.Addr) *Conn {
	c := &Conn{cfg: cfg, reg: reg, tr: tr, local: local, remote: remote, done: make(chan struct{})}
	c.out.init(cfg.RingSize, cfg.MaxPending, cfg.Policy, cfg.BlockTimeout)
	return c
}

// Codec returns the connection's codec.
func (c *Conn) Codec() frame.Codec { return c.cfg.Codec }

// LocalAddr returns the local address.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr returns the peer's address (empty for most Unix socket peers).
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// Fd returns the socket's file descriptor for read-only queries such as
// peer credentials, or -1. Do not read, write or close it.
func (c *Conn) Fd() int { return c.tr.fd() }

// NetConn returns the underlying net.Conn of a goroutine-driven
// connection (TLS, clients, Windows), for read-only inspection such as a
// TLS connection state; nil for event-loop connections. Do not read from,
// write to or close it.
func (c *Conn) NetConn() net.Conn { return c.tr.netConn() }

// Pending returns the outbound bytes queued and not yet handed to the
// socket.
func (c *Conn) Pending() int { return c.out.pendingBytes() }

// Done is closed once the connection is closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection closed, after Done is closed.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.closeErr
	default:
		return nil
	}
}

// Begin starts a frame of at most n bytes: it returns a zero-length slice
// with capacity for n bytes, inside the outbound queue's last chunk or a
// fresh one. The
// caller appends exactly one encoded frame (typically codec.Begin, an
// envelope, codec.End) and passes the result to Commit, or calls Abort.
// Between Begin and Commit/Abort the connection's write lock is held: do
// nothing else there, and in particular don't write to this connection.
//
// If the queue is full, Begin applies the Policy and may return
// ErrBackpressure; on a closed connection it returns ErrClosed.
func (c *Conn) Begin(n int) ([]byte, error) { return c.begin(n, c.tr.onLoop()) }

// begin is Begin; noWait refuses at once when the queue is full, whatever
// the policy.
func (c *Conn) begin(n int, noWait bool) ([]byte, error) {
	if c.state.Load() != stateOpen {
		return nil, ErrClosed
	}
	b, err := c.out.begin(n, noWait)
	return b, c.refused(err)
}

// refused returns the queue's answer to a write, closing the connection
// first if the queue had no room and the policy is PolicyClose.
func (c *Conn) refused(err error) error {
	if err == ErrBackpressure && c.cfg.Policy == PolicyClose {
		c.CloseNow(ErrBackpressure)
	}
	return err
}

// Commit publishes the frame built on the slice Begin returned and gets it
// flushed.
func (c *Conn) Commit(b []byte) {
	c.out.commit(b)
	c.requestFlush()
}

// Abort ends a Begin without writing anything.
func (c *Conn) Abort() { c.out.abort() }

// Write queues p, which must be one whole encoded frame, and gets it
// flushed. Frames from one goroutine go out in the order written; frames
// from different goroutines never interleave. p is copied; the caller may
// reuse it at once.
func (c *Conn) Write(p []byte) error { return c.write(p, c.tr.onLoop()) }

func (c *Conn) write(p []byte, noWait bool) error {
	b, err := c.begin(len(p), noWait)
	if err != nil {
		return err
	}
	c.Commit(append(b, p...))
	return nil
}

// WriteBuffer queues the frames in buf.B, whole encoded frames, as one
// Write: in order, never interleaved with other writers' frames. A buffer
// at least half full goes into the queue as it is, and buf gets fresh
// memory of the same size; a buffer less full is copied. Either way buf.B
// is empty, with all of buf's memory, when WriteBuffer returns nil; on
// error it is as it was, the frames unsent. Errors as for Write.
func (c *Conn) WriteBuffer(buf *Buffer) error {
	n := len(buf.B)
	if n == 0 {
		return nil
	}
	if !buf.lendable() {
		if err := c.Write(buf.B); err != nil {
			return err
		}
		buf.empty()
		return nil
	}
	if c.state.Load() != stateOpen {
		return ErrClosed
	}
	// Once adopted the chunk is the queue's: the flusher may write it out
	// and pool it at once, so nothing of it is read afterwards.
	size := cap(buf.c.b)
	if err := c.refused(c.out.adopt(buf.c, n, c.tr.onLoop())); err != nil {
		return err
	}
	buf.refill(size)
	c.requestFlush()
	return nil
}

// WriteNoWait is Write that never waits for room, whatever the policy: a
// full queue is ErrBackpressure at once (and, under PolicyClose, closes
// the connection). Broadcast uses it, so one slow peer cannot hold up the
// others.
func (c *Conn) WriteNoWait(p []byte) error { return c.write(p, true) }

// requestFlush wakes the flusher unless a flush is already requested.
func (c *Conn) requestFlush() {
	// A plain load first: while a flush is requested or under way (the
	// common case when streaming) the flusher clears the flag before it
	// looks at the queue, so it will see what was just committed, and an
	// atomic exchange per message is not needed.
	if c.wakeFlag.Load() {
		return
	}
	if !c.wakeFlag.Swap(true) {
		c.tr.wake()
	}
}

// Close closes the connection gracefully: further writes fail with
// ErrClosed, bytes already queued are flushed (for at most CloseTimeout),
// then the socket closes. It returns at once; wait on Done for the end.
func (c *Conn) Close() error {
	if c.state.CompareAndSwap(stateOpen, stateClosing) {
		c.out.close()
		c.reg.watchAdd(c) // the close timeout
		// A flush under way or requested (the flag set) sees the close
		// when it finds the queue empty; else start one.
		c.requestFlush()
	}
	return nil
}

// CloseNow closes the connection at once, dropping queued bytes, and
// records err as the reason.
func (c *Conn) CloseNow(err error) {
	c.state.Store(stateClosed)
	c.out.close()
	c.setErr(err)
	c.tr.shutdown()
}

func (c *Conn) setErr(err error) {
	c.closeOnce.Do(func() { c.closeErr = err })
}

// closing reports whether a graceful close is under way.
func (c *Conn) closing() bool { return c.state.Load() == stateClosing }

// finish marks the connection closed and releases waiters. Called once by
// the implementation, after the last handler call.
func (c *Conn) finish(err error) error {
	c.state.Store(stateClosed)
	c.out.release()
	if errors.Is(err, io.EOF) {
		err = nil
	}
	c.setErr(err)
	close(c.done)
	return c.closeErr
}

// notePartial records, at a read boundary, whether an incomplete frame
// remains buffered and whether a frame completed since the last boundary;
// it feeds the partial-frame timeout. The clock restarts whenever a frame
// completes, so a busy peer whose reads keep ending in the middle of a
// frame is never taken for a stalled one: only an incomplete frame with no
// frame completed for PartialTimeout counts.
func (c *Conn) notePartial(buffered int, progressed bool, now int64) {
	switch {
	case buffered == 0:
		if c.partialSince.Load() != 0 {
			c.partialSince.Store(0)
		}
	case progressed || c.partialSince.Load() == 0:
		c.partialSince.Store(now)
	}
}

// stalled reports whether an incomplete frame has waited longer than the
// partial-frame timeout.
func (c *Conn) stalled(now int64) bool {
	if c.cfg.PartialTimeout < 0 {
		return false
	}
	since := c.partialSince.Load()
	return since != 0 && now-since > int64(c.cfg.PartialTimeout)
}
