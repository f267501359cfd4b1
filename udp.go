package goipc

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"

	"github.com/seed-fc4a2f4b/goipc/udp"
)

// udpEndpoint runs one UDP socket: every datagram is exactly one message
// (one frame of the codec), peers are learned from the datagrams that
// arrive, and broadcast reaches every peer heard from — node-ipc's UDP
// semantics. A message too large for a datagram is an error to the sender,
// never a silent drop.
type udpEndpoint struct {
	ep    *endpoint
	conn  *udp.Conn
	peers *udp.Peers
	srv   *Server // nil for a client
	local net.Addr

	mu     sync.Mutex
	byAddr map[netip.AddrPort]*Conn

	bufs sync.Pool // *[]byte encoding buffers
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// udpPeer is a Conn's state for a UDP peer.
type udpPeer struct {
	u     *udpEndpoint
	c     *Conn
	addr  netip.AddrPort
	local net.Addr
	done  chan struct{}
	once  sync.Once
}

func listenUDP(ep *endpoint, a address, o options, srv *Server) (*udpEndpoint, error) {
	c, err := udp.Listen(context.Background(), a.network, a.addr)
	if err != nil {
		return nil, err
	}
	return newUDPEndpoint(ep, c, o, srv), nil
}

func newUDPEndpoint(ep *endpoint, c *udp.Conn, o options, srv *Server) *udpEndpoint {
	max := o.maxPeers
	if max <= 0 {
		max = udp.DefaultMaxPeers
	}
	_ = c.SetReadBuffer(4 << 20)
	_ = c.SetWriteBuffer(4 << 20)
	return &udpEndpoint{
		ep: ep, conn: c, srv: srv, peers: udp.NewPeers(max),
		local:  net.UDPAddrFromAddrPort(c.LocalAddr()),
		byAddr: make(map[netip.AddrPort]*Conn),
		done:   make(chan struct{}),
	}
}

// peer returns the Conn for addr, creating it on first contact.
func (u *udpEndpoint) peer(addr netip.AddrPort) (c *Conn, isNew bool) {
	u.mu.Lock()
	if c = u.byAddr[addr]; c != nil {
		u.mu.Unlock()
		return c, false
	}
	var evicted []*Conn
	if len(u.byAddr) >= u.peers.Cap() {
		// The peer table evicted someone: forget Conns it no longer holds.
		for a, old := range u.byAddr {
			if !u.peers.Contains(a) {
				delete(u.byAddr, a)
				evicted = append(evicted, old)
			}
		}
	}
	c = newConn(u.ep)
	c.up = &udpPeer{u: u, c: c, addr: addr, local: u.local, done: make(chan struct{})}
	u.byAddr[addr] = c
	u.mu.Unlock()
	for _, old := range evicted {
		old.up.close() // takes u.mu, and runs OnDisconnect: outside the lock
	}
	return c, true
}

func (u *udpEndpoint) peerConns() []*Conn {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]*Conn, 0, len(u.byAddr))
	for _, c := range u.byAddr {
		out = append(out, c)
	}
	return out
}

// start runs the read loop.
func (u *udpEndpoint) start() {
	u.wg.Add(1)
	go u.serve()
}

// serve reads datagrams in batches until close.
func (u *udpEndpoint) serve() {
	defer u.wg.Done()
	const batch = 16
	msgs := make([]udp.Message, batch)
	for i := range msgs {
		msgs[i].Buf = make([]byte, udp.MaxDatagram6+1)
	}
	log := u.ep.opts.logger
	for {
		n, err := u.conn.ReadBatch(msgs)
		if err != nil && !errors.Is(err, udp.ErrTruncated) {
			select {
			case <-u.done:
			default:
				log.Error("goipc: udp read", "err", err)
			}
			return
		}
		for i := range msgs[:n] {
			m := &msgs[i]
			if m.Truncated {
				log.Warn("goipc: udp datagram larger than the receive buffer dropped", "from", m.Addr)
				continue
			}
			u.handle(m.Addr, m.Buf[:m.N])
		}
	}
}

func (u *udpEndpoint) handle(from netip.AddrPort, d []byte) {
	u.peers.Seen(from)
	c, isNew := u.peer(from)
	if isNew && u.srv != nil {
		if f := u.srv.onConnect.Load(); f != nil {
			(*f)(c)
		}
	}
	p, n, err := u.ep.fc.Parse(d)
	if err == nil && n != len(d) && u.ep.codec.mode != ModeRaw {
		err = errors.New("goipc: datagram is not exactly one frame")
	}
	if err == nil && n == 0 && len(d) > 0 {
		err = errors.New("goipc: datagram holds an incomplete frame")
	}
	if err == nil && len(d) > 0 {
		err = u.ep.dispatch(c, p)
	}
	if err != nil {
		// A datagram can't be resynchronised or closed: drop it, keep the peer.
		u.ep.opts.logger.Warn("goipc: bad datagram dropped", "from", from, "err", err)
	}
}

func (u *udpEndpoint) getBuf() *[]byte {
	bp, _ := u.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, udp.MaxDatagram6+64)
		bp = &b
	}
	return bp
}

func (p *udpPeer) send(c *Conn, kind msgKind, event string, id uint32, data []byte, errMsg string) error {
	u := p.u
	bp := u.getBuf()
	defer u.bufs.Put(bp)
	f, err := u.ep.appendMessage((*bp)[:0], kind, event, id, data, errMsg)
	*bp = f[:0]
	if err != nil {
		return err
	}
	return p.write(f)
}

func (p *udpPeer) write(f []byte) error {
	select {
	case <-p.done:
		return ErrClosed
	default:
	}
	return p.u.conn.WriteTo(f, p.addr)
}

// close forgets the peer; a later datagram from it makes a new Conn.
func (p *udpPeer) close() error {
	p.once.Do(func() {
		close(p.done)
		u := p.u
		u.peers.Remove(p.addr)
		u.mu.Lock()
		if c := u.byAddr[p.addr]; c != nil && c.up == p {
			delete(u.byAddr, p.addr)
		}
		u.mu.Unlock()
		if u.srv != nil {
			if f := u.srv.onDisconnect.Load(); f != nil {
				(*f)(p.c, nil)
			}
		}
	})
	return nil
}

func (u *udpEndpoint) broadcast(f []byte) (int, error) {
	return u.conn.Broadcast(f, u.peers)
}

func (u *udpEndpoint) close() error {
	var err error
	u.once.Do(func() {
		close(u.done)
		err = u.conn.Close()
		u.wg.Wait()
	})
	return err
}
