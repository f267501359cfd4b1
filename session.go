package goipc

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// Exactly-once delivery across reconnects (event mode, client to server).
//
// A client made WithExactlyOnce numbers every message it emits (envelope
// flag 0x40, a u64 sequence number) and keeps it in a log until the server
// acknowledges it. On every connection the client first sends a "hello"
// control message carrying its 16-byte session id; the server answers
// "welcome" with the highest sequence number it has delivered for that
// session; the client drops what the server has, sends the rest in order,
// and only then lets new messages through. The server delivers a sequenced
// message only if its number is above the session's last one, so a message
// resent after a cut is never delivered twice; it acknowledges ("ack", the
// last number delivered) every ackEvery messages, so the client's log stays
// short. docs/PROTOCOL.md section 5.5 specifies the bytes.

// Control operations (the envelope's name when the control flag is set).
const (
	ctlHello   = "hello"
	ctlWelcome = "welcome"
	ctlAck     = "ack"
)

// ackEvery is how many delivered messages a server lets pass before it
// acknowledges; the client's log holds at most about this many between
// acknowledgements when the server keeps up.
const ackEvery = 32

// sessionID identifies one client's delivery session.
type sessionID [16]byte

// serverSession is a server's record of one client session.
type serverSession struct {
	id sessionID
	// mu is held from the check of a sequenced message to the end of its
	// handler: after a cut the old connection may still be delivering
	// what it had read while the new one delivers the client's resends,
	// and without it a resent message could be handed to its handler
	// before an older one still on its way through the old connection.
	mu sync.Mutex
	// last is the highest sequence number delivered. Written under mu;
	// atomic so that a hello may read it without mu.
	last atomic.Uint64
	seen time.Time
}

// sessionTable holds a server's sessions, bounded: when full, the session
// heard from least recently is forgotten (its client would then get a
// welcome of 0 and resend what it still holds: at-least-once for a client
// silent that long).
type sessionTable struct {
	mu  sync.Mutex
	m   map[sessionID]*serverSession
	max int
}

func (t *sessionTable) get(id sessionID, now time.Time) *serverSession {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[sessionID]*serverSession)
	}
	if s := t.m[id]; s != nil {
		s.seen = now
		return s
	}
	if len(t.m) >= t.max {
		var oldest *serverSession
		for _, s := range t.m {
			if oldest == nil || s.seen.Before(oldest.seen) {
				oldest = s
			}
		}
		delete(t.m, oldest.id)
	}
	s := &serverSession{id: id, seen: now}
	t.m[id] = s
	return s
}

// connSession is a server connection's view of its session (reader side).
type connSession struct {
	s       *serverSession
	unacked int // delivered since the last ack
}

// appendControl encodes one control message as a frame.
func (ep *endpoint) appendControl(dst []byte, op string, payload []byte) ([]byte, error) {
	out, mark := ep.fc.Begin(dst)
	out, err := frame.AppendEvent(out, op, frame.FlagControl, 0, payload)
	if err != nil {
		return dst, err
	}
	return ep.fc.End(out, mark)
}

// sendControl sends a control message on c.
func (c *Conn) sendControl(op string, payload []byte) error {
	b, err := c.pc.Begin(c.ep.hdr + len(op) + len(payload) + 16)
	if err != nil {
		return err
	}
	out, err := c.ep.appendControl(b, op, payload)
	if err != nil {
		c.pc.Abort()
		return err
	}
	c.pc.Commit(out)
	return nil
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v) }

// control handles an incoming control message on the reading side of c.
func (ep *endpoint) control(c *Conn, op, payload []byte) error {
	switch string(op) {
	case ctlHello:
		if ep.sessions == nil || len(payload) != len(sessionID{}) {
			return nil // a client-side endpoint, or a malformed hello: ignore
		}
		s := ep.sessions.get(sessionID(payload), time.Now())
		c.sess = &connSession{s: s}
		return c.sendControl(ctlWelcome, u64(s.last.Load()))
	case ctlWelcome, ctlAck:
		if ep.onAck == nil || len(payload) != 8 {
			return nil
		}
		ep.onAck(string(op) == ctlWelcome, binary.BigEndian.Uint64(payload))
	}
	// Unknown operations are ignored, for peers newer than us.
	return nil
}

// deliverSequenced delivers a sequenced message unless c's session has
// delivered it already (a resend after a cut), in order across the
// session's connections, and acknowledges from time to time. Messages on a
// connection without a session are always delivered.
func (ep *endpoint) deliverSequenced(c *Conn, seq uint64, name, data []byte, id uint32) {
	cs := c.sess
	if cs == nil {
		ep.deliver(c, name, data, id)
		return
	}
	cs.s.mu.Lock()
	if c.sequenced(seq) {
		ep.deliver(c, name, data, id)
	}
	cs.s.mu.Unlock()
}

// sequenced decides whether seq is new for c's session and records it;
// under the session's mu.
func (c *Conn) sequenced(seq uint64) (deliver bool) {
	cs := c.sess
	if seq <= cs.s.last.Load() {
		return false // a resend of something already delivered
	}
	cs.s.last.Store(seq)
	cs.unacked++
	if cs.unacked >= ackEvery {
		cs.unacked = 0
		_ = c.sendControl(ctlAck, u64(seq))
	}
	return true
}

// clientLog is an exactly-once client's record of messages not yet
// acknowledged, oldest first. Guarded by the client's mutex.
type clientLog struct {
	id     sessionID
	next   uint64 // last sequence number used
	acked  uint64 // highest acknowledged
	frames [][]byte
	seqs   []uint64
	bytes  int
}

func newClientLog() (*clientLog, error) {
	l := &clientLog{}
	if _, err := rand.Read(l.id[:]); err != nil {
		return nil, fmt.Errorf("goipc: session id: %w", err)
	}
	return l, nil
}

// trim drops messages up to seq.
func (l *clientLog) trim(seq uint64) {
	if seq <= l.acked {
		return
	}
	l.acked = seq
	i := 0
	for i < len(l.seqs) && l.seqs[i] <= seq {
		l.bytes -= len(l.frames[i])
		l.frames[i] = nil
		i++
	}
	l.frames = l.frames[i:]
	l.seqs = l.seqs[i:]
}

var errSessionTimeout = errors.New("goipc: no welcome from the server")
