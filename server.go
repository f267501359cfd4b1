package goipc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-fc4a2f4b/goipc/poller"
	"github.com/seed-fc4a2f4b/goipc/tlsconn"
	"github.com/seed-fc4a2f4b/goipc/unix"
)

// Server accepts connections on one address and dispatches their events.
//
// Register handlers (Handle, HandleAny, OnData, OnConnect, OnDisconnect)
// before Serve; registering later is safe but races with messages already
// arriving. Emit to one Conn, Broadcast to all, Conns for a snapshot. All
// methods are safe for concurrent use.
type Server struct {
	ep      endpoint
	addr    address
	engine  poller.Engine
	lns     []net.Listener
	udp     *udpEndpoint
	maxConn int32

	mu      sync.Mutex
	connSet map[*Conn]struct{}      // open connections, under mu
	conns   atomic.Pointer[[]*Conn] // snapshot of connSet, nil when stale; rebuilt on demand
	open    atomic.Int32

	onConnect    atomic.Pointer[func(*Conn)]
	onDisconnect atomic.Pointer[func(*Conn, error)]

	tlsConf    *tls.Config // tls:// servers
	handshakes sync.WaitGroup

	serving   atomic.Bool
	closeOnce sync.Once
	closed    chan struct{}
	accepting sync.WaitGroup
	bcast     sync.Pool // *[]byte scratch for Broadcast
}

// Listen binds addr and returns a Server ready to Serve. Binding happens
// here, so errors such as an address in use are reported at once.
//
// Unix socket paths are handled safely: an existing socket nobody listens
// on (left by a crashed server) is replaced; a live one is
// unix.ErrAddrInUse; any other file at the path is unix.ErrNotSocket and is
// never removed.
func Listen(addr string, opts ...Option) (*Server, error) {
	o := buildOptions(opts)
	s := &Server{closed: make(chan struct{}), maxConn: int32(o.maxConns)}
	if err := s.ep.init(o); err != nil {
		return nil, err
	}
	a, err := parseAddr(addr, o.ns)
	if err != nil {
		return nil, err
	}
	if err := o.checkServer(a); err != nil {
		return nil, err
	}
	s.addr = a
	s.connSet = make(map[*Conn]struct{})
	if o.codec.mode == ModeEvent {
		s.ep.sessions = &sessionTable{max: 4096}
	}
	switch a.scheme {
	case schemeUDP:
		s.udp, err = listenUDP(&s.ep, a, o, s)
		if err != nil {
			return nil, err
		}
		return s, nil
	case schemeTLS:
		if s.tlsConf, err = o.tls.Server(); err != nil {
			return nil, err
		}
	}
	lns, err := listenStream(a, o)
	if err != nil {
		return nil, err
	}
	s.lns = lns
	if lns[0].Addr().Network() == "tcp" {
		s.addr.addr = lns[0].Addr().String()
	}
	if s.tlsConf != nil {
		// crypto/tls needs blocking connections: goroutines, not loops.
		s.engine, err = poller.NewGoEngine(o.pollerConfig(s.ep.fc), serverHandler{s})
	} else {
		s.engine, err = poller.NewServerEngine(o.pollerConfig(s.ep.fc), serverHandler{s}, o.loops)
	}
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return nil, err
	}
	return s, nil
}

// Addr returns the address the server listens on in goipc syntax, with a
// port chosen by the OS filled in (tcp://127.0.0.1:0 → the real port) and
// ipc:// ids resolved to their socket path.
func (s *Server) Addr() string {
	if s.udp != nil {
		return "udp://" + s.udp.conn.LocalAddr().String()
	}
	return s.addr.String()
}

// Handle registers fn for event, replacing any previous handler; a nil fn
// removes it.
func (s *Server) Handle(event string, fn HandlerFunc) { s.ep.handle(event, fn) }

// HandleAny registers fn for events with no handler of their own. Their
// m.Event aliases the receive buffer: Clone the message to keep it.
func (s *Server) HandleAny(fn HandlerFunc) { s.ep.catchAll.Store(&fn) }

// OnData registers fn for raw chunks (raw mode) or frames (length mode).
func (s *Server) OnData(fn DataFunc) { s.ep.onData.Store(&fn) }

// OnConnect registers fn to run when a connection opens (for UDP, when a
// peer is first heard from), before its first message.
func (s *Server) OnConnect(fn func(c *Conn)) { s.onConnect.Store(&fn) }

// OnDisconnect registers fn to run when a connection closes; err is nil
// for a clean close.
func (s *Server) OnDisconnect(fn func(c *Conn, err error)) { s.onDisconnect.Store(&fn) }

// Conns returns a snapshot of the open connections (UDP: known peers). The
// slice is shared and read-only.
func (s *Server) Conns() []*Conn {
	if s.udp != nil {
		return s.udp.peerConns()
	}
	return s.snapshot()
}

// snapshot returns the open connections. The slice is rebuilt only after
// connections opened or closed, so a Broadcast in a steady state does not
// allocate, and a connection storm costs one map update per connection,
// not a copy of the whole list.
func (s *Server) snapshot() []*Conn {
	if p := s.conns.Load(); p != nil {
		return *p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.conns.Load(); p != nil {
		return *p
	}
	snap := make([]*Conn, 0, len(s.connSet))
	for c := range s.connSet {
		snap = append(snap, c)
	}
	s.conns.Store(&snap)
	return snap
}

// Peer returns the Conn for a UDP peer at addr ("host:port"), creating it
// if the server has not heard from it yet, so the server can emit to an
// address of its choosing. It fails on stream servers.
func (s *Server) Peer(addr string) (*Conn, error) {
	if s.udp == nil {
		return nil, fmt.Errorf("%w: Peer is for UDP servers", ErrUnsupported)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadAddress, addr, err)
	}
	s.udp.peers.Seen(ap)
	c, _ := s.udp.peer(ap)
	return c, nil
}

// Broadcast emits event with data to every open connection (UDP: to every
// peer heard from). The message is encoded once and copied into each
// connection's queue. It never waits for room, even under the Block
// policy: a connection whose queue is full misses the message (its error
// is counted; under Disconnect it is closed), so one slow peer cannot hold
// up the others. It returns how many connections it reached and the
// first error (a full or closed connection does not stop the others).
func (s *Server) Broadcast(event string, data []byte) (int, error) {
	if !s.ep.codec.events() {
		return 0, ErrNoEvents
	}
	return s.broadcast(kindEvent, event, data)
}

// BroadcastBytes sends data as one frame (length mode) or as bytes (raw
// mode) to every open connection.
func (s *Server) BroadcastBytes(data []byte) (int, error) {
	if s.ep.codec.events() {
		return 0, ErrEvents
	}
	return s.broadcast(kindEvent, "", data)
}

func (s *Server) broadcast(kind msgKind, event string, data []byte) (int, error) {
	bp, _ := s.bcast.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer s.bcast.Put(bp)
	f, err := s.ep.appendMessage((*bp)[:0], kind, event, 0, data, "")
	*bp = f[:0]
	if err != nil {
		return 0, err
	}
	if s.udp != nil {
		return s.udp.broadcast(f)
	}
	var first error
	n := 0
	for _, c := range s.snapshot() {
		// Never wait for one slow peer: it would hold up every other.
		if err := c.writeFrameNoWait(f); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		n++
	}
	return n, first
}

// Serve accepts connections until ctx ends or Close is called, then closes
// the server gracefully. It returns nil after a Close or the end of ctx,
// else the error that stopped it.
func (s *Server) Serve(ctx context.Context) error {
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("goipc: Serve called twice")
	}
	if s.udp != nil {
		s.udp.start()
	} else {
		errc := make(chan error, len(s.lns))
		for _, ln := range s.lns {
			s.accepting.Add(1)
			go func() {
				defer s.accepting.Done()
				errc <- s.accept(ln)
			}()
		}
		go func() {
			select {
			case err := <-errc:
				if err != nil {
					s.ep.opts.logger.Error("goipc: accept failed", "addr", s.Addr(), "err", err)
				}
				s.Close()
			case <-s.closed:
			}
		}()
	}
	select {
	case <-ctx.Done():
	case <-s.closed:
	}
	return s.Close()
}

func (s *Server) accept(ln net.Listener) error {
	o := &s.ep.opts
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.closed:
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// EMFILE and friends: back off as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				o.logger.Warn("goipc: accept", "err", err, "retry_in", delay)
				select {
				case <-time.After(delay):
					continue
				case <-s.closed:
					return nil
				}
			}
			return err
		}
		delay = 0
		if s.maxConn > 0 && s.open.Load() >= s.maxConn {
			o.logger.Warn("goipc: connection refused: too many connections", "max", s.maxConn)
			nc.Close()
			continue
		}
		if err := o.allowPeer(nc); err != nil {
			o.logger.Warn("goipc: connection refused", "err", err)
			nc.Close()
			continue
		}
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
			switch {
			case o.keepAlive > 0:
				tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: o.keepAlive, Interval: o.keepAlive, Count: 3})
			case o.keepAlive < 0:
				tc.SetKeepAlive(false) // the net package enables it on every accepted conn
			}
		}
		s.open.Add(1)
		if s.tlsConf != nil {
			// The handshake runs on its own goroutine, bounded by the
			// handshake timeout, so a slow or hostile peer holds up no one.
			s.handshakes.Add(1)
			go s.handshake(nc)
			continue
		}
		s.add(nc)
	}
}

func (s *Server) add(nc net.Conn) {
	if _, err := s.engine.Add(nc); err != nil {
		s.open.Add(-1)
		s.ep.opts.logger.Warn("goipc: cannot serve connection", "err", err)
	}
}

func (s *Server) handshake(nc net.Conn) {
	defer s.handshakes.Done()
	tc := tls.Server(nc, s.tlsConf)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-s.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := tlsconn.Handshake(ctx, tc, s.ep.opts.tls.Timeout())
	cancel()
	if err != nil {
		s.open.Add(-1)
		s.ep.opts.logger.Warn("goipc: TLS handshake failed", "remote", nc.RemoteAddr(), "err", err)
		nc.Close()
		return
	}
	s.add(tc)
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

// Close stops accepting, closes every connection gracefully (queued
// messages are flushed first, bounded by the close timeout), waits for
// them, and removes a Unix socket file it created. It is safe to call more
// than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		if s.udp != nil {
			err = s.udp.close()
			return
		}
		for _, ln := range s.lns {
			if e := ln.Close(); e != nil && err == nil && !errors.Is(e, net.ErrClosed) {
				err = e
			}
		}
		s.accepting.Wait()
		s.handshakes.Wait()
		conns := s.snapshot()
		for _, c := range conns {
			c.Close()
		}
		timeout := time.After(s.ep.opts.closeTimeoutOr(poller.DefaultCloseTimeout) + time.Second)
		for _, c := range conns {
			select {
			case <-c.Done():
			case <-timeout:
			}
		}
		if e := s.engine.Close(); e != nil && err == nil {
			err = e
		}
	})
	return err
}

func (o *options) closeTimeoutOr(d time.Duration) time.Duration {
	if o.closeTimeout > 0 {
		return o.closeTimeout
	}
	return d
}

func (s *Server) addConn(c *Conn) {
	s.mu.Lock()
	s.connSet[c] = struct{}{}
	s.conns.Store(nil)
	s.mu.Unlock()
}

func (s *Server) removeConn(c *Conn) {
	s.mu.Lock()
	delete(s.connSet, c)
	s.conns.Store(nil)
	s.mu.Unlock()
}

// serverHandler adapts the poller's callbacks to the Server.
type serverHandler struct{ s *Server }

func (h serverHandler) OnOpen(pc *poller.Conn) {
	c := newConn(&h.s.ep)
	c.pc = pc
	pc.Value = c
	h.s.addConn(c)
	if f := h.s.onConnect.Load(); f != nil {
		(*f)(c)
	}
}

func (h serverHandler) OnFrame(pc *poller.Conn, p []byte) error {
	return h.s.ep.dispatch(pc.Value.(*Conn), p)
}

func (h serverHandler) OnClose(pc *poller.Conn, err error) {
	c := pc.Value.(*Conn)
	h.s.removeConn(c)
	h.s.open.Add(-1)
	if c.dec != nil {
		c.dec.Close()
	}
	if err != nil {
		h.s.ep.opts.logger.Debug("goipc: connection closed", "conn", c.id, "err", err)
	}
	if f := h.s.onDisconnect.Load(); f != nil {
		(*f)(c, err)
	}
}

// listenStream opens the listeners for a stream address.
func listenStream(a address, o options) ([]net.Listener, error) {
	switch a.network {
	case "unix":
		// The assured profile wants an owner-only directory around every
		// socket, not only around goipc's default root.
		ensure := a.defaultRoot || (o.profile == ProfileAssured && !strings.HasPrefix(a.addr, "@"))
		ln, err := unix.Listen(a.addr, unix.ListenOptions{Mode: o.socketMode, EnsureRoot: ensure})
		if err != nil {
			return nil, err
		}
		return []net.Listener{ln}, nil
	case "tcp":
		return listenTCP(a.addr, o.reusePort)
	case "pipe":
		return listenPipe(a.addr, o)
	}
	return nil, fmt.Errorf("%w: cannot listen on %s", ErrBadAddress, a)
}
