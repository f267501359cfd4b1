package udp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Maximum datagram payloads, in bytes, after framing: one message must fit
// in one datagram. IPv4: 65535 - 20 (IP header) - 8 (UDP header). IPv6:
// 65535 - 8 (the IPv6 payload length excludes its own header; jumbograms are
// not supported). The OS may impose a smaller limit (macOS's default
// net.inet.udp.maxdgram is 9216); the send then fails with an error, never
// silently.
const (
	MaxDatagram4 = 65507
	MaxDatagram6 = 65527
)

// MaxBatch is the most datagrams one sendmmsg/recvmmsg system call handles
// (the Linux UIO_MAXIOV limit). WriteBatch splits longer batches into calls
// of at most MaxBatch; ReadBatch reads at most MaxBatch datagrams per call.
const MaxBatch = 1024

// defaultBatch is the batch capacity preallocated by Listen; larger batches
// grow the Conn's arrays once, up to MaxBatch.
const defaultBatch = 64

// MaxPayload returns the largest payload one datagram can carry on network:
// MaxDatagram4 for "udp4", MaxDatagram6 for "udp6", and MaxDatagram4 for
// "udp" (the family is not known, so the smaller limit applies). It returns
// 0 for any other network.
func MaxPayload(network string) int {
	switch network {
	case "udp4", "udp":
		return MaxDatagram4
	case "udp6":
		return MaxDatagram6
	}
	return 0
}

// Message is one datagram in a batch.
//
// For WriteBatch, Buf is the whole payload and Addr the destination; N is
// set to the number of bytes sent. For ReadBatch, Buf is a caller-provided
// buffer (its length, not its capacity, is the space offered); ReadBatch
// sets N to the number of bytes stored in Buf, Addr to the sender, and
// Truncated when the datagram did not fit. The package never keeps Buf
// after the call returns; the caller owns it throughout.
type Message struct {
	Buf  []byte
	N    int
	Addr netip.AddrPort
	// Truncated is set by ReadBatch when the datagram was larger than Buf:
	// Buf[:N] then holds only its first len(Buf) bytes and must not be
	// treated as a whole message.
	Truncated bool
}

// Conn is a UDP endpoint bound to its own port.
//
// A Conn is safe for concurrent use by multiple goroutines. WriteTo and
// ReadFrom run in parallel freely; WriteBatch and Broadcast calls serialise
// with each other (they share the Conn's preallocated send arrays), and
// ReadBatch calls serialise with each other (the receive arrays).
type Conn struct {
	uc        *net.UDPConn
	network   string // "udp4" or "udp6"
	is6       bool
	local     netip.AddrPort
	maxSelf   int // largest payload for a destination of the Conn's family
	truncated atomic.Uint64

	bmu     sync.Mutex // guards bcAddrs, bcMsgs
	bcAddrs []netip.AddrPort
	bcMsgs  []Message

	batch batchState // platform-specific batching state
}

// Listen binds a UDP endpoint. network is "udp4", "udp6" or "udp"; "udp"
// becomes "udp6" when address's host is an IPv6 literal (such as "[::1]:0")
// and "udp4" otherwise (an IPv4 literal, a host name or an empty host). With
// port 0 the OS picks a port; LocalAddr reports it. ctx bounds only the
// setup, not the Conn's lifetime.
func Listen(ctx context.Context, network, address string) (*Conn, error) {
	nw, err := resolveNetwork(network, address)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, nw, address)
	if err != nil {
		return nil, err
	}
	uc, ok := pc.(*net.UDPConn)
	if !ok { // cannot happen for udp networks
		pc.Close()
		return nil, fmt.Errorf("udp: listen %s %s: not a *net.UDPConn", nw, address)
	}
	c := &Conn{uc: uc, network: nw, is6: nw == "udp6"}
	if c.is6 {
		c.maxSelf = MaxDatagram6
	} else {
		c.maxSelf = MaxDatagram4
	}
	if la, ok := uc.LocalAddr().(*net.UDPAddr); ok {
		c.local = la.AddrPort()
		if !c.is6 {
			c.local = netip.AddrPortFrom(c.local.Addr().Unmap(), c.local.Port())
		}
	}
	if err := c.batch.init(c, defaultBatch); err != nil {
		uc.Close()
		return nil, fmt.Errorf("udp: listen %s %s: %w", nw, address, err)
	}
	return c, nil
}

// ListenFor binds an endpoint on an OS-chosen port, of the address family
// that can reach remote: the client side of node-ipc's UDP model, where the
// client is itself a server that remote replies to. If remote is a loopback
// address the endpoint binds the loopback address of that family (so it is
// not reachable from other hosts); otherwise it binds the unspecified
// address (0.0.0.0 or [::]).
func ListenFor(ctx context.Context, remote netip.AddrPort) (*Conn, error) {
	ra := remote.Addr().Unmap()
	if !remote.IsValid() || !ra.IsValid() {
		return nil, fmt.Errorf("%w: %v", ErrAddress, remote)
	}
	var bind netip.Addr
	network := "udp4"
	switch {
	case ra.Is4() && ra.IsLoopback():
		bind = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	case ra.Is4():
		bind = netip.IPv4Unspecified()
	case ra.IsLoopback():
		bind, network = netip.IPv6Loopback(), "udp6"
	default:
		bind, network = netip.IPv6Unspecified(), "udp6"
	}
	return Listen(ctx, network, netip.AddrPortFrom(bind, 0).String())
}

func resolveNetwork(network, address string) (string, error) {
	switch network {
	case "udp4", "udp6":
		return network, nil
	case "udp":
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return "", fmt.Errorf("udp: listen %s %q: %w", network, address, err)
		}
		if a, err := netip.ParseAddr(host); err == nil && a.Is6() && !a.Is4In6() {
			return "udp6", nil
		}
		return "udp4", nil
	}
	return "", fmt.Errorf("udp: unsupported network %q (want udp, udp4 or udp6)", network)
}

// LocalAddr returns the address the Conn is bound to, with the real port
// when Listen was given port 0. IPv4 addresses are returned unmapped.
func (c *Conn) LocalAddr() netip.AddrPort { return c.local }

// Network returns "udp4" or "udp6".
func (c *Conn) Network() string { return c.network }

// MaxPayload returns the largest payload WriteTo accepts for to: MaxDatagram4
// for an IPv4 (or IPv4-mapped) destination, MaxDatagram6 for an IPv6 one.
func (c *Conn) MaxPayload(to netip.AddrPort) int {
	if c.is6 && !to.Addr().Is4() && !to.Addr().Is4In6() {
		return MaxDatagram6
	}
	return MaxDatagram4
}

// check validates one outgoing datagram without sending it.
func (c *Conn) check(p []byte, to netip.AddrPort) error {
	a := to.Addr()
	if !to.IsValid() || !a.IsValid() {
		return addrError(to, c.network, "no address")
	}
	if !c.is6 && !a.Is4() && !a.Is4In6() {
		return addrError(to, c.network, "IPv6 destination")
	}
	if max := c.MaxPayload(to); len(p) > max {
		return &TooLargeError{Size: len(p), Max: max, To: to}
	}
	if z := a.Zone(); z != "" {
		if _, err := zoneIndex(z); err != nil {
			return addrError(to, c.network, err.Error())
		}
	}
	return nil
}

// WriteTo sends p as one datagram to to. A p longer than MaxPayload(to)
// returns a *TooLargeError (wrapping ErrTooLarge) and sends nothing. p is
// not retained after WriteTo returns. Safe for concurrent use; it does not
// allocate.
func (c *Conn) WriteTo(p []byte, to netip.AddrPort) error {
	if err := c.check(p, to); err != nil {
		return err
	}
	n, err := c.uc.WriteToUDPAddrPort(p, to)
	if err == nil && n != len(p) { // never happens for UDP; never hide it
		err = fmt.Errorf("udp: short write %d of %d bytes to %v", n, len(p), to)
	}
	return err
}

// ReadFrom reads one datagram into buf and returns its length and sender
// (IPv4-mapped senders are returned as plain IPv4). If the datagram was
// larger than buf, n is len(buf), buf holds its first n bytes, and err is a
// *TruncatedError wrapping ErrTruncated. buf is not retained. Safe for
// concurrent use; it does not allocate (except to build an error).
func (c *Conn) ReadFrom(buf []byte) (n int, from netip.AddrPort, err error) {
	n, _, flags, from, err := c.uc.ReadMsgUDPAddrPort(buf, nil)
	from = unmap(from)
	if err != nil {
		if isTruncErr(err) {
			c.truncated.Add(1)
			return n, from, &TruncatedError{From: from, BufLen: len(buf)}
		}
		return n, from, err
	}
	if flags&msgTrunc != 0 {
		c.truncated.Add(1)
		return n, from, &TruncatedError{From: from, BufLen: len(buf)}
	}
	return n, from, nil
}

// WriteBatch sends msgs[i].Buf to msgs[i].Addr for each message, in order,
// and sets msgs[i].N to the bytes sent. On Linux it uses sendmmsg(2), one
// system call per up to MaxBatch messages; elsewhere one send per message.
//
// Every message is checked first: if any is too large for its destination
// (a *TooLargeError) or has an unusable address, nothing is sent and the
// error names the index. Otherwise it returns the number of messages sent;
// if that is less than len(msgs), err says why msgs[sent] failed and the
// messages after it were not attempted.
//
// Buffers are not retained after the call. Safe for concurrent use
// (concurrent WriteBatch/Broadcast calls serialise); no allocation in steady
// state.
func (c *Conn) WriteBatch(msgs []Message) (int, error) {
	for i := range msgs {
		if err := c.check(msgs[i].Buf, msgs[i].Addr); err != nil {
			return 0, fmt.Errorf("udp: batch message %d: %w", i, err)
		}
	}
	return c.writeBatch(msgs)
}

// ReadBatch waits for at least one datagram, then reads as many as are
// queued, up to len(msgs) (and MaxBatch), into msgs[i].Buf. It returns how
// many messages were filled; for each it sets N, Addr and Truncated. On
// Linux it uses recvmmsg(2); elsewhere it reads one datagram per call.
//
// If any filled message was truncated, ReadBatch still returns the full
// count, marks those messages Truncated, counts them in Conn.Truncated, and
// returns a *TruncatedError (wrapping ErrTruncated) for the first of them:
// process all n messages, skipping those marked Truncated.
//
// Buffers are not retained after the call. Safe for concurrent use
// (concurrent ReadBatch calls serialise); no allocation in steady state.
func (c *Conn) ReadBatch(msgs []Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	if len(msgs) > MaxBatch {
		msgs = msgs[:MaxBatch]
	}
	n, err := c.readBatch(msgs)
	if err != nil && n == 0 {
		return 0, err
	}
	var terr *TruncatedError
	for i := 0; i < n; i++ {
		m := &msgs[i]
		if !m.Truncated {
			continue
		}
		size := 0 // unknown unless the kernel reported the real length in N
		if m.N > len(m.Buf) {
			size, m.N = m.N, len(m.Buf)
		}
		c.truncated.Add(1)
		if terr == nil {
			terr = &TruncatedError{From: m.Addr, BufLen: len(m.Buf), Size: size, Index: i}
		}
	}
	if terr != nil {
		return n, terr
	}
	return n, err
}

// Broadcast sends p as one datagram to every peer in peers (node-ipc's
// broadcast: every peer this endpoint has heard from), using WriteBatch
// (sendmmsg on Linux). The size is checked once against the Conn's family
// maximum: if p is too large nothing is sent. A peer that cannot be sent to
// (an IPv4 peer and a p over MaxDatagram4 on a udp6 Conn, an address of the
// wrong family, a send error) is skipped and the rest still get p; sent
// counts the peers that did, and err reports the first failure.
//
// A nil peers sends nothing. p is not retained. Safe for concurrent use
// (also with changes to peers); no allocation in steady state
// (the Conn keeps scratch space sized to the largest peer table seen).
func (c *Conn) Broadcast(p []byte, peers *Peers) (sent int, err error) {
	if len(p) > c.maxSelf {
		return 0, &TooLargeError{Size: len(p), Max: c.maxSelf}
	}
	if peers == nil {
		return 0, nil
	}
	c.bmu.Lock()
	defer c.bmu.Unlock()
	c.bcAddrs = peers.Snapshot(c.bcAddrs[:0])
	msgs := c.bcMsgs[:0]
	for _, a := range c.bcAddrs {
		if e := c.check(p, a); e != nil {
			if err == nil {
				err = e
			}
			continue
		}
		msgs = append(msgs, Message{Buf: p, Addr: a})
	}
	c.bcMsgs = msgs
	defer clear(c.bcMsgs) // do not keep p alive
	for i := 0; i < len(msgs); {
		k, e := c.writeBatch(msgs[i:])
		sent += k
		i += k
		if e == nil {
			break
		}
		if err == nil {
			err = e
		}
		if errors.Is(e, net.ErrClosed) || errors.Is(e, os.ErrDeadlineExceeded) {
			break
		}
		i++ // skip the peer that failed
	}
	return sent, err
}

// Truncated returns how many received datagrams have been reported as
// truncated (ErrTruncated) on this Conn. Safe for concurrent use.
func (c *Conn) Truncated() uint64 { return c.truncated.Load() }

// Close closes the Conn. Blocked reads and writes return an error for which
// errors.Is(err, net.ErrClosed) holds; so does every later call.
func (c *Conn) Close() error { return c.uc.Close() }

// SetReadBuffer sets the socket receive buffer (SO_RCVBUF) in bytes. The OS
// may cap it (Linux: net.core.rmem_max).
func (c *Conn) SetReadBuffer(bytes int) error { return c.uc.SetReadBuffer(bytes) }

// SetWriteBuffer sets the socket send buffer (SO_SNDBUF) in bytes.
func (c *Conn) SetWriteBuffer(bytes int) error { return c.uc.SetWriteBuffer(bytes) }

// SetDeadline sets the read and write deadlines, as net.Conn does; they
// also bound ReadBatch, WriteBatch and Broadcast.
func (c *Conn) SetDeadline(t time.Time) error { return c.uc.SetDeadline(t) }

// SetReadDeadline sets the deadline for ReadFrom and ReadBatch.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.uc.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline for WriteTo, WriteBatch and Broadcast.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.uc.SetWriteDeadline(t) }

func unmap(a netip.AddrPort) netip.AddrPort {
	if a.Addr().Is4In6() {
		return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	}
	return a
}

// zoneIndex resolves an IPv6 zone (an interface name or number) to an
// interface index. Only link-local destinations carry a zone; this path may
// allocate.
func zoneIndex(zone string) (uint32, error) {
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, err
	}
	return uint32(ifi.Index), nil
}
