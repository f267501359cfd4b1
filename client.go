package goipc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/poller"
	"github.com/seed-fc4a2f4b/goipc/tlsconn"
	"github.com/seed-fc4a2f4b/goipc/udp"
	"github.com/seed-fc4a2f4b/goipc/unix"
)

// Client is a connection to one server that reconnects by itself (per
// WithRetry) and queues messages emitted while it is disconnected (per
// WithOutbox).
//
// Delivery guarantees: messages are sent in the order Emit was called
// (per goroutine). Messages emitted while disconnected are queued, up to
// the outbox bound, and sent after the next successful connection, in
// order, before any message emitted after it. Messages already handed to a
// connection that then drops — queued in goipc or in the kernel, not yet
// read by the server — are lost, and the server may still be reading
// some of them from the dying connection after it has taken newer ones on
// the new connection (a soak run with random faults saw 163 late
// deliveries in 25.8 million messages). WithExactlyOnce removes both: it
// numbers messages, resends what the server lacks and drops what it
// already has, in order. node-ipc drops messages emitted while
// disconnected; goipc queues them.
//
// All methods are safe for concurrent use.
type Client struct {
	ep      endpoint
	addr    address
	tlsConf *tls.Config // tls:// clients
	engine  *poller.GoEngine
	u       *udpEndpoint

	mu        sync.Mutex
	conn      atomic.Pointer[Conn]
	outbox    [][]byte
	outBytes  int
	closed    bool
	destroyed error
	started   bool
	// supervising is set once the reconnect goroutine runs; Close waits
	// for it.
	supervising bool

	// exactly-once delivery (WithExactlyOnce)
	log     *clientLog
	live    bool        // the current connection has been welcomed and caught up
	welcome chan uint64 // the server's answer to our hello
	closeCh chan struct{}
	done    chan struct{}

	onConnect    atomic.Pointer[func()]
	onDisconnect atomic.Pointer[func(error)]
	onError      atomic.Pointer[func(error)]
	onDestroy    atomic.Pointer[func(error)]
	connects     atomic.Int64
}

// NewClient returns a Client for addr without connecting: register
// handlers, then Connect.
func NewClient(addr string, opts ...Option) (*Client, error) {
	o := buildOptions(opts)
	c := &Client{closeCh: make(chan struct{}), done: make(chan struct{})}
	if err := c.ep.init(o); err != nil {
		return nil, err
	}
	a, err := parseAddr(addr, o.ns)
	if err != nil {
		return nil, err
	}
	if err := o.checkClient(a); err != nil {
		return nil, err
	}
	if a.scheme == schemeTLS {
		host, _, _ := net.SplitHostPort(a.addr)
		if c.tlsConf, err = o.tls.Client(host); err != nil {
			return nil, err
		}
	}
	c.addr = a
	if o.exactlyOnce {
		if c.ep.codec.mode != ModeEvent || a.scheme == schemeUDP {
			return nil, fmt.Errorf("%w: exactly-once delivery needs the event codec on a stream transport", ErrUnsupported)
		}
		if c.log, err = newClientLog(); err != nil {
			return nil, err
		}
		c.welcome = make(chan uint64, 1)
		c.ep.onAck = c.onAck
	}
	if a.scheme != schemeUDP {
		if c.engine, err = poller.NewGoEngine(o.pollerConfig(c.ep.fc), clientHandler{c}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Dial connects to addr (retrying per WithRetry) and returns the connected
// Client. Handlers registered after Dial may miss the first messages: use
// NewClient, register, then Connect, when the server speaks first.
func Dial(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	c, err := NewClient(addr, opts...)
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Handle registers fn for event (nil removes it).
func (c *Client) Handle(event string, fn func(m Message)) {
	if fn == nil {
		c.ep.handle(event, nil)
		return
	}
	c.ep.handle(event, func(_ *Conn, m Message) { fn(m) })
}

// HandleAny registers fn for events without a handler of their own.
func (c *Client) HandleAny(fn func(m Message)) {
	h := HandlerFunc(func(_ *Conn, m Message) { fn(m) })
	c.ep.catchAll.Store(&h)
}

// OnData registers fn for raw chunks or length-mode frames.
func (c *Client) OnData(fn func(b []byte)) {
	d := DataFunc(func(_ *Conn, b []byte) { fn(b) })
	c.ep.onData.Store(&d)
}

// OnConnect registers fn to run after every successful connection
// (the first and each reconnection), after the outbox is flushed.
func (c *Client) OnConnect(fn func()) { c.onConnect.Store(&fn) }

// OnDisconnect registers fn to run when an established connection drops;
// err says why (nil for a clean close by the server).
func (c *Client) OnDisconnect(fn func(err error)) { c.onDisconnect.Store(&fn) }

// OnError registers fn to run for each failed connection attempt.
func (c *Client) OnError(fn func(err error)) { c.onError.Store(&fn) }

// OnDestroy registers fn to run once when the client stops for good:
// retries exhausted (err wraps ErrRetriesExhausted) or Close (err nil).
func (c *Client) OnDestroy(fn func(err error)) { c.onDestroy.Store(&fn) }

// Connects returns how many times the client has connected.
func (c *Client) Connects() int64 { return c.connects.Load() }

// Connected reports whether the client has a live connection.
func (c *Client) Connected() bool { return c.openConn() != nil }

// Conn returns the current connection, or nil while disconnected.
func (c *Client) Conn() *Conn { return c.conn.Load() }

// Connect makes the first connection, retrying per WithRetry until it
// succeeds, the retries run out or ctx ends; afterwards the client
// reconnects by itself whenever the connection drops.
func (c *Client) Connect(ctx context.Context) error {
	c.mu.Lock()
	if c.started || c.closed {
		c.mu.Unlock()
		return errors.New("goipc: Connect called twice or after Close")
	}
	c.started = true
	c.mu.Unlock()
	if c.addr.scheme == schemeUDP {
		return c.connectUDP(ctx)
	}
	conn, err := c.dialRetry(ctx)
	if err != nil {
		return err
	}
	c.install(conn)
	c.mu.Lock()
	c.supervising = true
	c.mu.Unlock()
	go c.supervise(conn)
	return nil
}

func (c *Client) connectUDP(ctx context.Context) error {
	ap, err := netip.ParseAddrPort(c.addr.addr)
	if err != nil {
		addr, rerr := net.ResolveUDPAddr(c.addr.network, c.addr.addr)
		if rerr != nil {
			return fmt.Errorf("goipc: %w", rerr)
		}
		ap = addr.AddrPort()
	}
	uc, err := udp.ListenFor(ctx, ap)
	if err != nil {
		return err
	}
	c.u = newUDPEndpoint(&c.ep, uc, c.ep.opts, nil)
	conn, _ := c.u.peer(ap)
	c.u.peers.Seen(ap)
	c.u.start()
	c.install(conn)
	return nil
}

// dial makes one connection attempt.
func (c *Client) dial(ctx context.Context) (*Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.ep.opts.dialTimeout)
	defer cancel()
	var nc net.Conn
	var err error
	switch {
	case c.tlsConf != nil:
		nc, err = tlsconn.Dial(ctx, "tcp", c.addr.addr, c.tlsConf, c.ep.opts.tls.Timeout())
	case c.addr.network == "unix":
		nc, err = unix.Dial(ctx, c.addr.addr)
	case c.addr.network == "pipe":
		nc, err = dialPipe(ctx, c.addr.addr)
	default:
		d := net.Dialer{KeepAlive: c.ep.opts.keepAlive}
		nc, err = d.DialContext(ctx, c.addr.network, c.addr.addr)
	}
	if err != nil {
		return nil, err
	}
	pc, err := c.engine.Add(nc)
	if err != nil {
		return nil, err
	}
	return pc.Value.(*Conn), nil
}

// dialRetry dials until success, retries exhausted, Close or ctx's end.
func (c *Client) dialRetry(ctx context.Context) (*Conn, error) {
	o := &c.ep.opts
	interval := o.retryInterval
	for attempt := 0; ; attempt++ {
		conn, err := c.dial(ctx)
		if err == nil {
			return conn, nil
		}
		if f := c.onError.Load(); f != nil {
			(*f)(err)
		}
		if o.maxRetries != Forever && attempt >= o.maxRetries {
			if o.maxRetries == 0 {
				return nil, err
			}
			return nil, fmt.Errorf("%w after %d attempts: %w", ErrRetriesExhausted, attempt+1, err)
		}
		wait := interval
		if o.jitter && wait > 0 {
			wait += time.Duration(rand.Int64N(int64(wait)/2 + 1))
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("goipc: connect %s: %w (last error: %w)", c.addr, ctx.Err(), err)
		case <-c.closeCh:
			t.Stop()
			return nil, ErrClosed
		}
		if o.backoffMax > 0 {
			interval = min(2*interval, o.backoffMax)
		}
	}
}

// install makes conn current: the outbox goes out first, in order.
func (c *Client) install(conn *Conn) {
	if c.log != nil {
		c.installSession(conn)
		return
	}
	c.mu.Lock()
	for i, f := range c.outbox {
		if err := conn.writeFrame(f); err != nil {
			// Keep what could not be written for the next connection.
			c.outbox = c.outbox[i:]
			c.mu.Unlock()
			c.ep.opts.logger.Warn("goipc: outbox flush interrupted", "err", err)
			return
		}
		c.outBytes -= len(f)
	}
	c.outbox = nil
	c.outBytes = 0
	c.conn.Store(conn)
	c.mu.Unlock()
	c.connects.Add(1)
	if f := c.onConnect.Load(); f != nil {
		(*f)()
	}
}

// installSession makes conn current for an exactly-once client: hello,
// wait for the server's welcome, resend what it lacks, then go live. A
// server that does not answer gets its connection closed, and the
// supervisor reconnects.
func (c *Client) installSession(conn *Conn) {
	select { // a stale welcome from a previous connection
	case <-c.welcome:
	default:
	}
	if err := conn.sendControl(ctlHello, c.log.id[:]); err != nil {
		conn.Close()
		return
	}
	t := time.NewTimer(c.ep.opts.dialTimeout)
	defer t.Stop()
	select {
	case <-c.welcome:
	case <-t.C:
		c.ep.opts.logger.Warn("goipc: no welcome from the server: reconnecting", "addr", c.addr.String())
		conn.pc.CloseNow(errSessionTimeout)
		return
	case <-conn.Done():
		return
	case <-c.closeCh:
		return
	}
	c.mu.Lock()
	for _, f := range c.log.frames { // the welcome already trimmed what the server has
		if err := conn.writeFrame(f); err != nil {
			c.mu.Unlock()
			conn.pc.CloseNow(err)
			return
		}
	}
	c.conn.Store(conn)
	c.live = true
	c.mu.Unlock()
	c.connects.Add(1)
	if f := c.onConnect.Load(); f != nil {
		(*f)()
	}
}

// onAck runs on the reader goroutine for a welcome or an acknowledgement.
func (c *Client) onAck(welcome bool, seq uint64) {
	c.mu.Lock()
	c.log.trim(seq)
	c.mu.Unlock()
	if welcome {
		select {
		case c.welcome <- seq:
		default:
		}
	}
}

// stoppedLocked returns why the client can take no more messages (closed,
// or given up reconnecting), or nil. Under mu.
func (c *Client) stoppedLocked() error {
	switch {
	case c.closed:
		return ErrClosed
	case c.destroyed != nil:
		return c.destroyed
	}
	return nil
}

// sendSeq is Emit for an exactly-once client.
func (c *Client) sendSeq(event string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.stoppedLocked(); err != nil {
		return err
	}
	o := &c.ep.opts
	if len(c.log.frames) >= o.outboxMsgs {
		return ErrOutboxFull
	}
	seq := c.log.next + 1
	out, mark := c.ep.fc.Begin(make([]byte, 0, c.ep.maxLen(event, data, "")+8))
	out, err := c.ep.comp.AppendEventSeq(out, event, frame.FlagSeq, 0, seq, data)
	if err == nil {
		out, err = c.ep.fc.End(out, mark)
	}
	if err != nil {
		return err
	}
	if c.log.bytes+len(out) > o.outboxBytes {
		return ErrOutboxFull
	}
	if conn := c.conn.Load(); conn != nil && c.live {
		if err := conn.writeFrame(out); err != nil && !errors.Is(err, ErrClosed) {
			return err // not sent and not logged: the caller may retry
		}
		// Sent, or the connection just closed: logged either way, and
		// resent after the reconnect if the server does not have it.
	}
	c.log.next = seq
	c.log.frames = append(c.log.frames, out)
	c.log.seqs = append(c.log.seqs, seq)
	c.log.bytes += len(out)
	return nil
}

// Unacknowledged returns how many messages of an exactly-once client await
// the server's acknowledgement (0 for other clients).
func (c *Client) Unacknowledged() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.log == nil {
		return 0
	}
	return len(c.log.frames)
}

// supervise waits for the connection to drop and reconnects.
func (c *Client) supervise(conn *Conn) {
	defer close(c.done)
	for {
		select {
		case <-conn.Done():
		case <-c.closeCh:
			return
		}
		c.mu.Lock()
		c.conn.Store(nil)
		c.live = false
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return
		}
		if f := c.onDisconnect.Load(); f != nil {
			(*f)(conn.Err())
		}
		if c.ep.opts.maxRetries == 0 {
			c.destroy(fmt.Errorf("%w: connection lost and retry is off", ErrRetriesExhausted))
			return
		}
		next, err := c.dialRetry(context.Background())
		if err != nil {
			if !errors.Is(err, ErrClosed) {
				c.destroy(err)
			}
			return
		}
		c.install(next)
		conn = next
	}
}

func (c *Client) destroy(err error) {
	c.mu.Lock()
	c.destroyed = err
	c.outbox, c.outBytes = nil, 0
	c.mu.Unlock()
	if f := c.onDestroy.Load(); f != nil {
		(*f)(err)
	}
}

// Emit sends event with data (raw JSON in JSON mode). While disconnected
// it queues the message in the outbox (ErrOutboxFull when full). data is
// copied before Emit returns.
func (c *Client) Emit(event string, data []byte) error {
	if !c.ep.codec.events() {
		return ErrNoEvents
	}
	return c.send(event, data)
}

// EmitJSON marshals v and emits it; it allocates.
func (c *Client) EmitJSON(event string, v any) error {
	data, err := marshalJSON(v)
	if err != nil {
		return err
	}
	return c.Emit(event, data)
}

// Send writes data as one frame (length mode) or bytes (raw mode), queueing
// it while disconnected like Emit.
func (c *Client) Send(data []byte) error {
	if c.ep.codec.events() {
		return ErrEvents
	}
	if conn := c.conn.Load(); conn != nil {
		err := conn.sendFrame(data)
		if err == nil || !errors.Is(err, ErrClosed) {
			return err
		}
	}
	return c.queue("", data)
}

func (c *Client) send(event string, data []byte) error {
	if c.log != nil && event != "" {
		return c.sendSeq(event, data)
	}
	if conn := c.conn.Load(); conn != nil {
		err := conn.send(kindEvent, event, 0, data, "")
		if err == nil || !errors.Is(err, ErrClosed) {
			return err
		}
	}
	return c.queue(event, data)
}

// queue puts a message in the outbox, unless a connection came up
// meanwhile.
func (c *Client) queue(event string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.stoppedLocked(); err != nil {
		return err
	}
	if conn := c.openConn(); conn != nil {
		return conn.send(kindEvent, event, 0, data, "")
	}
	if c.ep.opts.outboxMsgs <= 0 {
		return ErrNotConnected
	}
	f, err := c.ep.appendMessage(nil, kindEvent, event, 0, data, "")
	if err != nil {
		return err
	}
	if err := c.outboxRoomLocked(1, len(f)); err != nil {
		return err
	}
	c.outboxAddLocked(f, 1)
	return nil
}

// openConn returns the current connection unless it has closed, or nil.
func (c *Client) openConn() *Conn {
	conn := c.conn.Load()
	if conn == nil {
		return nil
	}
	select {
	case <-conn.Done():
		return nil
	default:
		return conn
	}
}

// outboxRoomLocked returns ErrOutboxFull unless the outbox can take n more
// messages of size bytes in all. Under c.mu.
func (c *Client) outboxRoomLocked(n, size int) error {
	o := &c.ep.opts
	if len(c.outbox)+n > o.outboxMsgs || c.outBytes+size > o.outboxBytes {
		return ErrOutboxFull
	}
	return nil
}

// outboxAddLocked appends f, n whole encoded frames that the outbox now
// owns, one entry per message (raw mode has no message boundaries: its
// bytes stay one entry). Under c.mu, after outboxRoomLocked.
func (c *Client) outboxAddLocked(f []byte, n int) {
	c.outBytes += len(f)
	if n == 1 || c.ep.codec.mode == ModeRaw {
		c.outbox = append(c.outbox, f)
		return
	}
	for len(f) > 0 {
		_, k, err := c.ep.fc.Parse(f)
		if err != nil || k <= 0 {
			k = len(f) // not reached: f holds whole frames this endpoint encoded
		}
		c.outbox = append(c.outbox, f[:k:k])
		f = f[k:]
	}
}

// Outbox returns how many messages wait for a connection.
func (c *Client) Outbox() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.outbox)
}

// Request sends event with data and waits for the reply or ctx's end. It
// needs a live connection (ErrNotConnected otherwise).
func (c *Client) Request(ctx context.Context, event string, data []byte) ([]byte, error) {
	conn := c.conn.Load()
	if conn == nil {
		return nil, ErrNotConnected
	}
	return conn.Request(ctx, event, data)
}

// Close stops reconnecting, closes the connection gracefully (messages
// already emitted are flushed first, within the close timeout) and waits
// for it. Messages still in the outbox are dropped.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	supervising := c.supervising
	conn := c.conn.Load()
	c.outbox, c.outBytes = nil, 0
	c.mu.Unlock()
	close(c.closeCh)
	if conn != nil {
		conn.Close()
		select {
		case <-conn.Done():
		case <-time.After(c.ep.opts.closeTimeoutOr(poller.DefaultCloseTimeout) + time.Second):
		}
	}
	if supervising {
		<-c.done
	}
	if c.u != nil {
		c.u.close()
	}
	if c.engine != nil {
		c.engine.Close()
	}
	if f := c.onDestroy.Load(); f != nil && c.destroyed == nil {
		(*f)(nil)
	}
	return nil
}

// clientHandler adapts the poller's callbacks to the Client.
type clientHandler struct{ c *Client }

func (h clientHandler) OnOpen(pc *poller.Conn) {
	conn := newConn(&h.c.ep)
	conn.pc = pc
	pc.Value = conn
}

func (h clientHandler) OnFrame(pc *poller.Conn, p []byte) error {
	return h.c.ep.dispatch(pc.Value.(*Conn), p)
}

func (h clientHandler) OnClose(pc *poller.Conn, err error) {
	if conn := pc.Value.(*Conn); conn.dec != nil {
		conn.dec.Close()
	}
}
