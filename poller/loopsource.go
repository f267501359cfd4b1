//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package poller

import (
	"io"

	"github.com/panjf2000/gnet/v2"
)

// loopSource is the frame.Source of a connection on a gnet loop. It keeps
// gnet's own inbound buffer empty between reads: the bytes of a frame
// that a read left incomplete are moved into the connection's carry, a
// pooled chunk, before OnTraffic returns, and the next read's bytes are
// then read in place from gnet's read buffer once the carried frame is
// complete.
//
// Why not leave them with gnet: gnet moves unread bytes into a ring
// buffer, and its Peek joins a range that wraps that ring, or spans it
// and the next read, into a buffer from its byte-slice pool. The decoder
// peeks everything buffered, so that copied the whole of every read that
// followed an incomplete frame. And gnet v2.10.0 never returns the pooled
// buffer when the ring alone held the range (its Peek returns before it
// records the buffer for Discard to put back): every such frame cost a
// fresh allocation. With the ring kept empty, gnet's Peek only ever
// slices its read buffer.
//
// While bytes are carried, Buffered reports only those, so the decoder
// looks at them first; a Peek past them moves the rest of the frame (the
// decoder asks for exactly that much with a length-prefixed codec) from
// gnet's read buffer into the carry. Loop only, like the decoder.
type loopSource struct {
	gc    gnet.Conn
	carry *chunk // carried bytes are carry.b[off:]; nil when none
	off   int
	want  int  // the size of the last Peek that failed: the frame's length, once its header is in
	exact bool // the codec's Need is the frame's length (length field), not a lower bound
}

// held returns the number of bytes carried.
func (s *loopSource) held() int {
	if s.carry == nil {
		return 0
	}
	return len(s.carry.b) - s.off
}

// total returns the bytes received and not yet consumed, carried or in
// gnet's buffer.
func (s *loopSource) total() int { return s.held() + s.gc.InboundBuffered() }

// Buffered implements frame.Source: the carried bytes while there are
// any, else what gnet's read buffer holds.
func (s *loopSource) Buffered() int {
	if h := s.held(); h > 0 {
		return h
	}
	return s.gc.InboundBuffered()
}

// Peek implements frame.Source.
func (s *loopSource) Peek(n int) ([]byte, error) {
	h := s.held()
	if h == 0 {
		b, err := s.gc.Peek(n)
		if err == io.ErrShortBuffer {
			s.want = n
		}
		return b, err
	}
	if n > h {
		avail := s.gc.InboundBuffered()
		more := n - h
		if more > avail {
			s.want = n
			return nil, io.ErrShortBuffer
		}
		if !s.exact {
			// Where the frame ends is not known: take at least as much
			// again as is carried (and a chunk's worth), so a long
			// delimited frame costs a few moves, not one per byte.
			more = min(avail, max(more, h, minChunk-h))
		}
		if err := s.take(more); err != nil {
			return nil, err
		}
	}
	return s.carry.b[s.off : s.off+n], nil
}

// Discard implements frame.Source.
func (s *loopSource) Discard(n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	h := s.held()
	if h == 0 {
		return s.gc.Discard(n)
	}
	k := min(n, h)
	s.off += k
	if k == h {
		s.drop()
	}
	if n == k {
		return n, nil
	}
	m, err := s.gc.Discard(n - k)
	return k + m, err
}

// stash carries whatever gnet's read buffer still holds: the start of a
// frame the read left incomplete. OnTraffic calls it before it returns.
// The carry is sized for the whole frame when its length is known, up to
// twice what has arrived, then rounded up to its chunk's power-of-two
// size class: at most four times what has arrived (at least a 4 KiB
// chunk), so a peer announcing huge frames costs memory only as it sends
// them. (Bounding the rounded size by twice instead would make a 64 KiB
// frame that arrives in two reads move its first 60 KiB twice.)
func (s *loopSource) stash() error {
	n := s.gc.InboundBuffered()
	if n == 0 {
		return nil
	}
	h := s.held()
	if s.carry == nil || cap(s.carry.b)-len(s.carry.b) < n {
		s.grow(max(h+n, min(s.want, max(2*(h+n), minChunk))))
	}
	return s.take(n)
}

// take moves n bytes from gnet's read buffer to the end of the carry.
func (s *loopSource) take(n int) error {
	p, err := s.gc.Peek(n)
	if err != nil {
		return err
	}
	if s.carry == nil || cap(s.carry.b)-len(s.carry.b) < n {
		s.grow(s.held() + n)
	}
	s.carry.b = append(s.carry.b, p...)
	_, err = s.gc.Discard(n)
	return err
}

// grow gives the carry room for n bytes, moving what it holds to the
// front of a pooled chunk of the right class.
func (s *loopSource) grow(n int) {
	old, off := s.carry, s.off
	if old != nil && cap(old.b) >= n {
		old.b = old.b[:copy(old.b, old.b[off:])]
		s.off = 0
		return
	}
	c := getChunk(n)
	if old != nil {
		c.b = append(c.b[:0], old.b[off:]...)
		old.b = old.b[:0]
		putChunk(old)
	}
	s.carry, s.off = c, 0
}

// drop returns the carry, emptied, to the pool.
func (s *loopSource) drop() {
	if c := s.carry; c != nil {
		s.carry, s.off = nil, 0
		c.b = c.b[:0]
		putChunk(c)
	}
}
