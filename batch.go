package goipc

import (
	"encoding/binary"
	"errors"

	"github.com/seed-fc4a2f4b/goipc/poller"
	"github.com/seed-fc4a2f4b/goipc/udp"
)

// A Batch collects messages for one connection and hands them over
// together, the way bufio.Writer collects bytes for one Write (or Netty's
// write collects for flush): each Emit or Send encodes its message into
// the batch's own buffer, and Flush puts every buffered message on the
// connection's outbound queue in one operation. A stream of small messages
// then costs one lock, one publication and one wake per buffer rather than
// per message.
//
// Messages leave only when Flush is called or the buffer is full (it holds
// RingSize bytes, WithRingSize, at most MaxPending; a message larger than
// that flushes the batch and goes on its own). Call Flush when a burst
// ends: nothing sends a batch's messages behind its back.
//
// Frames from a batch never interleave with other writers' frames and go
// out in the order they were added. On UDP each message stays one
// datagram; Flush sends up to 64 of them with one sendmmsg(2) on Linux.
//
// A Batch belongs to one goroutine at a time: it is not safe for
// concurrent use. Emit and Send copy data, which the caller may reuse at
// once. They allocate nothing. Over a stream the buffer is memory of the
// connection queues' pool: a Flush at least half full hands it to the
// queue as it is, with no copy, and takes fresh memory from the pool
// (poller.Buffer); a Flush less full copies, as Emit does.
type Batch struct {
	cl   *Client // the client whose current connection a flush goes to, or nil
	conn *Conn   // else the connection it goes to
	ep   *endpoint
	buf  []byte // encoded frames; its capacity never changes
	n    int    // messages in buf

	// mem is buf's memory over a stream: a Flush at least half full
	// hands it to the connection's queue as it is, no copy, and gets
	// fresh memory back (poller.Buffer). Nil for UDP.
	mem *poller.Buffer

	// plain: Send writes frames itself, the codec being bare length
	// frames (ModeLength) with the default header
	// (frame.LengthField.DefaultHeader) over a stream; plainMax is the
	// largest payload it accepts.
	plain    bool
	plainMax int

	// UDP only: where each datagram in buf ends, and the argument to
	// WriteBatch.
	ends []int
	msgs []udp.Message
}

// udpBatchMax is how many datagrams a UDP batch holds before it flushes:
// the udp package's sendmmsg batch.
const udpBatchMax = 64

// NewBatch returns a Batch that sends to the client's current connection
// (or, like Emit, queues in the outbox while it is disconnected).
func (c *Client) NewBatch() *Batch { return newBatch(&c.ep, c, nil, c.u != nil) }

// NewBatch returns a Batch that sends to c.
func (c *Conn) NewBatch() *Batch { return newBatch(c.ep, nil, c, c.up != nil) }

func newBatch(ep *endpoint, cl *Client, conn *Conn, dgram bool) *Batch {
	o := &ep.opts
	size, maxPending := o.ringSize, o.maxPending
	if size <= 0 {
		size = poller.DefaultRingSize
	}
	if maxPending <= 0 {
		maxPending = poller.DefaultPending(o.policy)
	}
	size = min(size, maxPending)
	b := &Batch{cl: cl, conn: conn, ep: ep}
	if dgram {
		b.buf = make([]byte, 0, size)
		b.ends = make([]int, 0, udpBatchMax)
		b.msgs = make([]udp.Message, 0, udpBatchMax)
		return b
	}
	// The memory is rounded up to the queue's chunk size: keep the
	// batch to size, so it never holds more than MaxPending.
	b.mem = poller.NewBuffer(size)
	b.buf = b.mem.B[:0:size]
	if ep.lf != nil && ep.codec.mode == ModeLength {
		b.plainMax, b.plain = ep.lf.DefaultHeader()
	}
	return b
}

// Emit adds an event (event and JSON modes). It returns an encoding error
// (the message is not added), or the error of a flush it had to make for
// room: see Flush.
//
// On a client with exactly-once delivery, events are numbered and logged
// one at a time: Emit flushes the batch and emits the event on its own.
func (b *Batch) Emit(event string, data []byte) error {
	if !b.ep.codec.events() {
		return ErrNoEvents
	}
	if b.cl != nil && b.cl.log != nil {
		if err := b.Flush(); err != nil {
			return err
		}
		return b.cl.sendSeq(event, data)
	}
	return b.add(false, event, data)
}

// Send adds data as one frame (length mode) or as bytes (raw mode). Errors
// are as for Emit.
func (b *Batch) Send(data []byte) error {
	if n := len(data); b.plain && n <= b.plainMax && len(b.buf)+4+n <= cap(b.buf) {
		// The default header, written here: what add and the codec's
		// Append would write, without their calls.
		b.buf = append(binary.BigEndian.AppendUint32(b.buf, uint32(n)), data...)
		b.n++
		return nil
	}
	if b.ep.codec.events() {
		return ErrEvents
	}
	return b.add(true, "", data)
}

// add encodes one message into the buffer: data as a bare frame for Send,
// else an event (whose name may be empty) in the endpoint's envelope.
func (b *Batch) add(send bool, event string, data []byte) error {
	ep := b.ep
	need := ep.maxLen(event, data, "")
	full := len(b.buf)+need > cap(b.buf)
	if b.ends != nil && len(b.ends) == cap(b.ends) {
		full = true
	}
	if full {
		if err := b.Flush(); err != nil {
			return err
		}
		if need > cap(b.buf) {
			return b.sendAlone(send, event, data)
		}
	}
	var out []byte
	var err error
	if send {
		out, err = ep.appendFrame(b.buf, data)
	} else {
		out, err = ep.appendMessage(b.buf, kindEvent, event, 0, data, "")
	}
	if err != nil {
		return err
	}
	if b.ends != nil {
		// A datagram too large to send is refused now, as Emit refuses
		// it, rather than failing every later Flush.
		p := b.peer()
		if p == nil {
			return ErrNotConnected
		}
		size := len(out) - len(b.buf)
		if max := p.u.conn.MaxPayload(p.addr); size > max {
			return &udp.TooLargeError{Size: size, Max: max, To: p.addr}
		}
		b.ends = append(b.ends, len(out))
	}
	b.buf = out
	b.n++
	return nil
}

// peer returns the UDP peer a flush goes to, nil while a client has none.
func (b *Batch) peer() *udpPeer {
	conn := b.conn
	if b.cl != nil {
		if conn = b.cl.conn.Load(); conn == nil {
			return nil
		}
	}
	return conn.up
}

// sendAlone sends a message too large for the buffer the way Emit and
// Send do.
func (b *Batch) sendAlone(send bool, event string, data []byte) error {
	if b.cl != nil {
		if send {
			return b.cl.Send(data)
		}
		return b.cl.send(event, data)
	}
	if send {
		return b.conn.sendFrame(data)
	}
	return b.conn.send(kindEvent, event, 0, data, "")
}

// Buffered returns how many messages wait for Flush.
func (b *Batch) Buffered() int { return b.n }

// Reset drops the buffered messages.
func (b *Batch) Reset() {
	b.buf, b.n = b.buf[:0], 0
	if b.ends != nil {
		b.ends = b.ends[:0]
	}
}

// Flush hands every buffered message to the connection and empties the
// batch. Its errors are those of Emit: ErrBackpressure when the queue has
// no room (per the MaxPending policy), ErrClosed when the connection is
// gone (a client queues in its outbox instead, ErrOutboxFull when that is
// full). On error the batch keeps its messages, all of them unsent: call
// Flush again to retry, or Reset to drop them. On UDP a flush that fails
// part way keeps only the datagrams not sent.
func (b *Batch) Flush() error {
	if b.n == 0 {
		return nil
	}
	if b.mem == nil {
		err := b.flushDatagrams()
		if err == nil {
			b.Reset()
		}
		return err
	}
	size := cap(b.buf)
	b.mem.B = b.buf
	var err error
	if b.cl != nil {
		err = b.cl.writeBuffer(b.mem, b.n)
	} else {
		err = b.conn.pc.WriteBuffer(b.mem)
	}
	if err != nil {
		return err
	}
	// Empty now, and possibly new memory.
	b.buf, b.n = b.mem.B[:0:size], 0
	return nil
}

// flushDatagrams sends each buffered message as one datagram.
func (b *Batch) flushDatagrams() error {
	p := b.peer()
	if p == nil {
		return ErrNotConnected
	}
	select {
	case <-p.done:
		return ErrClosed
	default:
	}
	start := 0
	for _, end := range b.ends {
		b.msgs = append(b.msgs, udp.Message{Buf: b.buf[start:end], Addr: p.addr})
		start = end
	}
	sent, err := p.u.conn.WriteBatch(b.msgs)
	clear(b.msgs)
	b.msgs = b.msgs[:0]
	if err != nil && sent > 0 {
		// Keep what was not sent, at the front of the buffer.
		cut := b.ends[sent-1]
		k := copy(b.buf, b.buf[cut:])
		b.buf = b.buf[:k]
		for i, end := range b.ends[sent:] {
			b.ends[i] = end - cut
		}
		b.ends = b.ends[:len(b.ends)-sent]
		b.n -= sent
	}
	return err
}

// writeBuffer writes buf's frames, n of them, to the current stream
// connection as one piece (poller.Conn.WriteBuffer), or copies them to
// the outbox while disconnected. On success buf.B is empty.
func (c *Client) writeBuffer(buf *poller.Buffer, n int) error {
	if conn := c.conn.Load(); conn != nil {
		err := conn.pc.WriteBuffer(buf)
		if err == nil || !errors.Is(err, ErrClosed) {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.stoppedLocked(); err != nil {
		return err
	}
	if conn := c.openConn(); conn != nil {
		return conn.pc.WriteBuffer(buf)
	}
	if c.ep.opts.outboxMsgs <= 0 {
		return ErrNotConnected
	}
	if err := c.outboxRoomLocked(n, len(buf.B)); err != nil {
		return err
	}
	c.outboxAddLocked(append([]byte(nil), buf.B...), n)
	buf.B = buf.B[:0]
	return nil
}
