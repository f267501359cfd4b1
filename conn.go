package goipc

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/poller"
	"github.com/seed-fc4a2f4b/goipc/unix"
)

var connIDs atomic.Uint64

// Conn is one peer: a stream connection (Unix socket, TCP, TLS) or, over
// UDP, a peer address. Emit, Send, Request and Close are safe from any
// goroutine; messages from one goroutine arrive in the order sent, and
// messages from different goroutines never interleave on the wire.
type Conn struct {
	ep *endpoint
	pc *poller.Conn // stream connections
	up *udpPeer     // UDP peers
	id uint64

	// Reader-side state, used only by the goroutine or loop that
	// dispatches this connection's input.
	dec  *frame.Decompressor
	jp   frame.JSONParser
	sess *connSession // exactly-once session of a server connection
	// The handler found last and the table it came from: a stream of one
	// event finds its handler without hashing the name each time.
	hlast  *handlerEntry
	htable *map[string]*handlerEntry

	value atomic.Pointer[any]
}

func newConn(ep *endpoint) *Conn {
	c := &Conn{ep: ep, id: connIDs.Add(1)}
	c.jp.Options = ep.codec.json
	return c
}

// handler returns the handler registered for the event name, or nil.
// Reader side only (see Conn's reader-side state).
func (c *Conn) handler(name []byte) *handlerEntry {
	t := c.ep.handlers.Load()
	if h := c.hlast; h != nil && c.htable == t && h.name == string(name) {
		return h
	}
	h := (*t)[string(name)]
	if h != nil {
		c.hlast, c.htable = h, t
	}
	return h
}

// ID returns a number unique to this connection within the process.
func (c *Conn) ID() uint64 { return c.id }

// SetValue attaches v to the connection (for the application's session
// state); Value returns it. Safe from any goroutine.
func (c *Conn) SetValue(v any) { c.value.Store(&v) }

// Value returns what SetValue stored, or nil.
func (c *Conn) Value() any {
	if p := c.value.Load(); p != nil {
		return *p
	}
	return nil
}

func (c *Conn) decompressor() *frame.Decompressor {
	if c.dec == nil {
		c.dec = frame.NewDecompressor(c.ep.maxDec)
	}
	return c.dec
}

// Emit sends event with data: raw JSON in JSON mode (nil or empty means
// {}), any bytes in event mode. data is copied before Emit returns. It
// returns ErrBackpressure when the connection's queue is full (see
// WithMaxPending), ErrClosed after Close.
func (c *Conn) Emit(event string, data []byte) error {
	if !c.ep.codec.events() {
		return ErrNoEvents
	}
	return c.send(kindEvent, event, 0, data, "")
}

// EmitJSON marshals v with encoding/json (HTML escaping off) and emits it.
// In event mode the envelope is flagged JSON. It allocates.
func (c *Conn) EmitJSON(event string, v any) error {
	data, err := marshalJSON(v)
	if err != nil {
		return err
	}
	return c.Emit(event, data)
}

// Send writes data as one frame (length mode) or as bytes (raw mode).
func (c *Conn) Send(data []byte) error {
	if c.ep.codec.events() {
		return ErrEvents
	}
	return c.sendFrame(data)
}

// Request sends event with data and waits for the reply, or for ctx to end.
// The reply's data is a fresh copy. A peer without a handler for event
// answers with an error wrapping ErrNoHandler; an error reply is a
// *RemoteError.
func (c *Conn) Request(ctx context.Context, event string, data []byte) ([]byte, error) {
	return c.ep.request(ctx, c, event, data)
}

// send encodes one message straight into the connection's outbound queue.
func (c *Conn) send(kind msgKind, event string, id uint32, data []byte, errMsg string) error {
	if c.up != nil {
		return c.up.send(c, kind, event, id, data, errMsg)
	}
	b, err := c.pc.Begin(c.ep.maxLen(event, data, errMsg))
	if err != nil {
		return err
	}
	out, err := c.ep.appendMessage(b, kind, event, id, data, errMsg)
	if err != nil {
		c.pc.Abort()
		return err
	}
	c.pc.Commit(out)
	return nil
}

// sendFrame writes data as one frame with no envelope (length and raw
// modes): Send's path, encoded by the frame codec alone, straight into the
// outbound queue.
func (c *Conn) sendFrame(data []byte) error {
	if c.up != nil {
		return c.up.send(c, kindEvent, "", 0, data, "")
	}
	ep := c.ep
	b, err := c.pc.Begin(ep.hdr + len(data) + frameSlack)
	if err != nil {
		return err
	}
	if b, err = ep.appendFrame(b, data); err != nil {
		c.pc.Abort()
		return err
	}
	c.pc.Commit(b)
	return nil
}

// writeFrameNoWait queues an encoded frame without waiting for room.
func (c *Conn) writeFrameNoWait(f []byte) error {
	if c.up != nil {
		return c.up.write(f)
	}
	return c.pc.WriteNoWait(f)
}

// writeFrame queues an already encoded frame.
func (c *Conn) writeFrame(f []byte) error {
	if c.up != nil {
		return c.up.write(f)
	}
	return c.pc.Write(f)
}

// Close closes the connection gracefully: messages already emitted are
// flushed first (for at most the close timeout). It returns at once; Done
// is closed when the connection is gone.
func (c *Conn) Close() error {
	if c.up != nil {
		return c.up.close()
	}
	return c.pc.Close()
}

// Done is closed when the connection has closed.
func (c *Conn) Done() <-chan struct{} {
	if c.up != nil {
		return c.up.done
	}
	return c.pc.Done()
}

// Err returns why the connection closed (nil for a clean close), once
// Done is closed.
func (c *Conn) Err() error {
	if c.up != nil {
		return nil
	}
	return c.pc.Err()
}

// Pending returns the bytes queued for this connection and not yet taken
// by its socket.
func (c *Conn) Pending() int {
	if c.up != nil {
		return 0
	}
	return c.pc.Pending()
}

// LocalAddr returns the local address.
func (c *Conn) LocalAddr() net.Addr {
	if c.up != nil {
		return c.up.local
	}
	return c.pc.LocalAddr()
}

// RemoteAddr returns the peer's address (often empty for Unix sockets).
func (c *Conn) RemoteAddr() net.Addr {
	if c.up != nil {
		return net.UDPAddrFromAddrPort(c.up.addr)
	}
	return c.pc.RemoteAddr()
}

// TLS returns the TLS connection state of a tls:// connection: the
// negotiated version and cipher, and on a mutual-TLS server the verified
// client certificate chain (PeerCertificates[0] is the client's: its
// Subject and SANs identify the peer). ok is false for other transports.
func (c *Conn) TLS() (state tls.ConnectionState, ok bool) {
	if c.pc == nil {
		return tls.ConnectionState{}, false
	}
	tc, ok := c.pc.NetConn().(*tls.Conn)
	if !ok {
		return tls.ConnectionState{}, false
	}
	return tc.ConnectionState(), true
}

// PeerAddr returns a UDP peer's address; ok is false for stream
// connections.
func (c *Conn) PeerAddr() (addr netip.AddrPort, ok bool) {
	if c.up != nil {
		return c.up.addr, true
	}
	return netip.AddrPort{}, false
}

// PeerCred returns the uid, gid and pid of the process at the other end of
// a Unix socket connection (SO_PEERCRED on Linux, LOCAL_PEERCRED on macOS
// and FreeBSD, where the pid is -1 on FreeBSD), as the kernel saw it when
// the connection was made. Other systems return ErrUnsupported.
func (c *Conn) PeerCred() (unix.Cred, error) {
	if c.up != nil || c.pc.Fd() < 0 {
		return unix.Cred{}, ErrUnsupported
	}
	return unix.PeerCred(c.pc.Fd())
}

// marshalJSON encodes v as node-ipc's JSON.stringify would (see
// frame.AppendJSONEventValue for the differences), by encoding an envelope
// with an empty type and taking its data member.
func marshalJSON(v any) ([]byte, error) {
	const head = `{"type":"","data":`
	b, err := frame.AppendJSONEventValue(nil, "", v)
	if err != nil {
		return nil, err
	}
	return b[len(head) : len(b)-1], nil
}
