package goipc

import (
	"log/slog"
	"os"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/poller"
	"github.com/seed-fc4a2f4b/goipc/tlsconn"
	"github.com/seed-fc4a2f4b/goipc/unix"
)

// Forever, as a retry count, retries without limit.
const Forever = -1

// Policy is what a write does when a connection already holds its maximum
// of pending outbound bytes (WithMaxPending).
type Policy = poller.Policy

// Backpressure policies.
const (
	// Refuse returns ErrBackpressure to the writer (the default).
	Refuse = poller.PolicyError
	// Block waits up to the given timeout for room, then returns
	// ErrBackpressure. Handlers running on an event loop never wait, and
	// neither does Broadcast (one slow peer must not hold up the others).
	Block = poller.PolicyBlock
	// Disconnect closes the slow peer's connection.
	Disconnect = poller.PolicyClose
)

// Option configures a Server or a Client.
type Option func(*options)

type options struct {
	codec          Codec
	logger         *slog.Logger
	ns             unix.Namespace
	socketMode     os.FileMode
	maxConns       int
	loops          int
	reusePort      int
	ringSize       int
	maxPending     int
	policy         Policy
	blockTimeout   time.Duration
	partialTimeout time.Duration
	closeTimeout   time.Duration
	keepAlive      time.Duration
	busyPoll       time.Duration
	tls            tlsconn.Config
	pipeSDDL       string

	// security
	profile        Profile
	allowed        []string
	peerUIDs       []uint32
	peerGIDs       []uint32
	peerSet        bool
	maxEventName   int
	rejectReserved bool
	outboxSet      bool
	exactlyOnce    bool
	engine         poller.EngineKind

	// client
	retryInterval time.Duration
	maxRetries    int
	backoffMax    time.Duration
	jitter        bool
	outboxMsgs    int
	outboxBytes   int
	dialTimeout   time.Duration
	maxPeers      int
}

func buildOptions(opts []Option) options {
	o := options{
		maxRetries:  0,
		outboxMsgs:  1024,
		outboxBytes: 4 << 20,
		dialTimeout: 5 * time.Second,
		keepAlive:   15 * time.Second,
	}
	for _, f := range opts {
		f(&o)
	}
	o.applyProfile()
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o *options) pollerConfig(fc frame.Codec) poller.Config {
	return poller.Config{
		Codec:          fc,
		RingSize:       o.ringSize,
		MaxPending:     o.maxPending,
		Policy:         o.policy,
		BlockTimeout:   o.blockTimeout,
		PartialTimeout: o.partialTimeout,
		CloseTimeout:   o.closeTimeout,
		BusyPoll:       o.busyPoll,
		Logger:         o.logger,
		Engine:         o.engine,
	}
}

// WithCodec selects the wire mode and its parameters (default EventCodec()).
func WithCodec(c Codec) Option { return func(o *options) { o.codec = c } }

// WithLogger sends diagnostics to l. goipc is silent by default and never
// logs payloads.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithNamespace sets the socket root and appspace that ipc://id addresses
// resolve in: root + appspace + id, as node-ipc does. The default root is
// $XDG_RUNTIME_DIR/goipc/ (else <tmp>/goipc-<uid>/), created 0700; the
// default appspace is "app.". unix.Namespace{Root: "/tmp/", AppSpace:
// "app."} reproduces node-ipc 9–12's defaults.
func WithNamespace(ns unix.Namespace) Option { return func(o *options) { o.ns = ns } }

// WithSocketMode sets the permission bits of a server's Unix socket file
// (default 0600: owner only).
func WithSocketMode(m os.FileMode) Option { return func(o *options) { o.socketMode = m } }

// WithMaxConns limits a server's open connections; further connections
// are accepted and closed at once. 0 means no limit.
func WithMaxConns(n int) Option { return func(o *options) { o.maxConns = n } }

// WithLoops sets how many event loops a server runs (default GOMAXPROCS).
func WithLoops(n int) Option { return func(o *options) { o.loops = n } }

// WithReusePort opens n TCP listeners on the same port with SO_REUSEPORT,
// each with its own accept loop, where the OS supports it.
func WithReusePort(n int) Option { return func(o *options) { o.reusePort = n } }

// WithRingSize sets the size of the chunks of each connection's outbound
// queue (default 64 KiB, rounded up to a power of two from 4 KiB): frames
// are encoded straight into them, and the writer takes up to two chunks
// per writev. A connection holds no chunk until its first write; chunks
// are pooled. How much may be queued is WithMaxPending's bound.
func WithRingSize(n int) Option { return func(o *options) { o.ringSize = n } }

// WithMaxPending bounds the bytes queued for one connection and not yet
// taken by its socket, and sets what a write does at the bound: Refuse
// (default), Block (waiting at most timeout) or Disconnect. n 0 means
// the default: 16 MiB, or 1 MiB under Block, whose writers wait for the
// peer anyway and go faster with a short queue (its bytes still in the
// cache when the socket takes them). A message larger than n (up to the
// codec's max frame) is queued only when nothing else is.
func WithMaxPending(n int, p Policy, timeout time.Duration) Option {
	return func(o *options) { o.maxPending, o.policy, o.blockTimeout = n, p, timeout }
}

// WithPartialTimeout closes a connection that has held an incomplete frame
// for d with no frame completing meanwhile: a stalled or slowloris peer,
// not a busy one whose reads end mid-frame. Default 30 s; negative
// disables. A single frame must arrive within d of its first byte.
func WithPartialTimeout(d time.Duration) Option {
	return func(o *options) { o.partialTimeout = d }
}

// WithCloseTimeout bounds how long a graceful close waits for queued bytes
// to reach the socket (default 5 s).
func WithCloseTimeout(d time.Duration) Option { return func(o *options) { o.closeTimeout = d } }

// WithKeepAlive sets the TCP keepalive period (default 15 s; negative
// disables).
func WithKeepAlive(d time.Duration) Option { return func(o *options) { o.keepAlive = d } }

// MaxBusyPoll is the longest spin WithBusyPoll accepts.
const MaxBusyPoll = time.Millisecond

// WithBusyPoll makes a server's or a client's connections poll for input
// for up to d, without sleeping, each time their input runs dry: the
// reply to a request or the next message of a stream that comes within d
// is read without waking a sleeping thread. On the project's machine that
// wake-up is most of a round trip between processes on different CPUs:
// 9–16 µs instead of 50–90 µs for one message in flight, and two to four
// times the round trips with 64 in flight (docs/BENCHMARKS.md, "Session
// 9").
//
// It costs CPU: a server's event loop spins up to d after each turn (one
// spin for all its connections), a goroutine-driven connection (a
// client's, or a server's under WithEngine(EngineGoroutine)) up to d each
// time it runs out of input. Use it when each end has a CPU to spare:
// where both ends share one CPU a spin only delays the peer it waits for.
// Spinning governs itself: a loop or connection whose spins mostly fail,
// running out (a quiet connection) or finding input only after the
// kernel took the CPU from it (a peer on the same CPU), stops spinning,
// but for a probe of at least 250 µs every 16 to 1024 waits, and spins
// again once a probe pays. So a quiet connection costs about the CPU it
// costs without busy polling, and two processes sharing one CPU keep
// about their median latency (20–27 µs against 20–24 µs without busy
// polling; 116 µs before the governor) and two thirds or more of their
// round trips with 64 in flight (docs/BENCHMARKS.md, "Session 10").
// Typical values are 20–100 µs; d is capped at MaxBusyPoll, because work
// the event loop is handed from other goroutines (closing a connection,
// taking a new one) waits for the spin. Default 0: never spin.
//
// Linux only, on TCP and Unix stream sockets without TLS; elsewhere, and
// for UDP, it is accepted and has no effect.
func WithBusyPoll(d time.Duration) Option {
	return func(o *options) { o.busyPoll = min(d, MaxBusyPoll) }
}

// WithRetry makes a client retry connecting every interval, up to max
// times in a row (0: no retry; Forever: no limit), and reconnect the same
// way when a connection drops. The default is no retry.
func WithRetry(interval time.Duration, max int) Option {
	return func(o *options) { o.retryInterval, o.maxRetries = interval, max }
}

// WithBackoff makes retry intervals double after each failure up to max,
// with random jitter of up to half the interval when jitter is true.
func WithBackoff(max time.Duration, jitter bool) Option {
	return func(o *options) { o.backoffMax, o.jitter = max, jitter }
}

// WithOutbox bounds the messages a client queues while disconnected
// (default 1024 messages and 4 MiB); Emit beyond it returns ErrOutboxFull.
// Zero messages disables queueing: Emit while disconnected returns
// ErrNotConnected.
func WithOutbox(msgs, bytes int) Option {
	return func(o *options) { o.outboxMsgs, o.outboxBytes, o.outboxSet = msgs, bytes, true }
}

// WithDialTimeout bounds each connection attempt (default 5 s).
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// WithMaxPeers bounds a UDP endpoint's peer table (default 1024); the
// least recently heard peer is forgotten first.
func WithMaxPeers(n int) Option { return func(o *options) { o.maxPeers = n } }

// WithTLS configures TLS for tls:// addresses: a server's certificate (and
// a client CA to require client certificates: mutual TLS), a client's CA,
// server name and optional client certificate. See tlsconn.Config.
func WithTLS(cfg tlsconn.Config) Option { return func(o *options) { o.tls = cfg } }

// WithPipeSecurity sets the security descriptor (SDDL) of a Windows named
// pipe server. The default grants access to the current user only.
func WithPipeSecurity(sddl string) Option { return func(o *options) { o.pipeSDDL = sddl } }

// WithExactlyOnce makes a client deliver every message it emits exactly
// once and in order, across connection cuts and reconnects: messages are
// numbered and kept until the server acknowledges them, resent after a
// reconnect, and dropped by the server if it already has them. It needs
// the event codec on both ends (goipc servers support it always) and costs
// one allocation per message for the log, bounded by WithOutbox: Emit
// returns ErrOutboxFull while that many messages await acknowledgement.
// Requests are not covered (they have their own replies).
func WithExactlyOnce() Option { return func(o *options) { o.exactlyOnce = true } }

// Engine selects how a server drives its connections.
type Engine = poller.EngineKind

// Server engines.
const (
	// EngineAuto (the default) uses gnet event loops, except with
	// GOMAXPROCS 1, where goroutines answer faster (the loop's own
	// epoll_wait thread and the Go scheduler take turns on one P): there
	// the first 64 connections open at once (poller.AutoGoroutineConns)
	// get goroutines, and only connections beyond them a loop, so that
	// thousands of mostly idle connections still cost about 2 KiB and
	// no goroutine each.
	EngineAuto = poller.EngineAuto
	// EngineLoop forces event loops: no goroutine per connection, the
	// least memory per idle connection. Not on Windows.
	EngineLoop = poller.EngineLoop
	// EngineGoroutine forces goroutines over the standard library: a
	// reader per connection, and a writer while it has bytes to write.
	// TLS servers always use it.
	EngineGoroutine = poller.EngineGoroutine
)

// WithEngine selects a server's engine (default EngineAuto).
func WithEngine(e Engine) Option { return func(o *options) { o.engine = e } }
