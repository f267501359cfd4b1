package frame

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
)

// Source is a buffered byte stream read in place: Peek shows buffered
// bytes without consuming them, Discard consumes them. *bufio.Reader
// satisfies it; so does goipc's source for a gnet.Conn (poller's
// loopSource), which reports as Buffered only the bytes it can show
// without a copy and moves more in when a Peek asks for them.
//
// Peek(n) must either return n bytes or an error: a blocking source waits
// for them (bufio.Reader), a non-blocking one fails at once (gnet returns
// io.ErrShortBuffer). A source whose buffer can't hold n bytes returns
// bufio.ErrBufferFull with what it has.
type Source interface {
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
	Buffered() int
}

// Decoder reads frames of one Codec from a Source, in place: a frame that
// fits the source's buffer is returned as a slice of that buffer, with no
// copy. A frame larger than the source can buffer is assembled in the
// Decoder's own buffer, which grows on demand up to the codec's MaxFrame
// and is reused afterwards; that is the only allocation a Decoder makes.
//
// A Decoder is not safe for concurrent use; it belongs to one connection.
type Decoder struct {
	src   Source
	codec Codec
	lf    *LengthField // codec, when it is one: parsed without an interface call
	// plainMax, when the codec is a LengthField with the default header
	// (4-byte big-endian payload length, stripped), is its largest
	// accepted length: Next parses such frames inline. Zero otherwise.
	plainMax uint64
	res      resumer // codec, when it can resume a delimiter scan
	// win holds the source's buffered bytes as the last Peek returned them,
	// starting at the source's read position; off of them belong to frames
	// already returned. They are discarded from the source in one call when
	// the window has no whole frame left (or on Discard), not once per
	// frame.
	win     []byte
	off     int
	scanned int    // bytes of the partial frame already scanned for a delimiter
	big     []byte // assembly buffer for frames the source can't hold
	inBig   bool   // the last frame was assembled in big: its bytes are consumed already
}

// NewDecoder returns a Decoder reading frames of codec from src.
func NewDecoder(src Source, codec Codec) *Decoder {
	d := &Decoder{src: src, codec: codec}
	d.lf, _ = codec.(*LengthField)
	if d.lf != nil && d.lf.plain {
		d.plainMax = d.lf.maxLen
	}
	d.res, _ = codec.(resumer)
	return d
}

// Reset makes d read from src, dropping any state about the previous
// source. It keeps the assembly buffer.
func (d *Decoder) Reset(src Source) {
	d.src, d.win, d.off, d.scanned, d.big, d.inBig = src, nil, 0, 0, d.big[:0], false
}

type resumer interface {
	parseFrom(b []byte, from int) ([]byte, int, error)
}

func (d *Decoder) parse(b []byte) ([]byte, int, error) {
	if d.lf != nil {
		return d.lf.Parse(b)
	}
	if r := d.res; r != nil {
		p, n, err := r.parseFrom(b, d.scanned)
		if n == 0 && err == nil {
			d.scanned = len(b)
		}
		return p, n, err
	}
	return d.codec.Parse(b)
}

// Next returns the next frame's payload. The payload aliases the source's
// buffer (or the Decoder's): it is valid until the next call of Next,
// Discard or Reset, and must not be kept or modified.
//
// Errors: a *ProtocolError for a wire violation (close the connection:
// the stream can't be resynchronised); io.EOF at a clean end of stream;
// io.ErrUnexpectedEOF when the stream ends inside a frame; any other error
// from the source as it is. With a non-blocking source, io.ErrShortBuffer
// means "no whole frame buffered yet": call Next again when more bytes
// have arrived; nothing is lost.
func (d *Decoder) Next() ([]byte, error) {
	// Fast path: the next frame is whole in the window of the last Peek.
	if w := d.win[d.off:]; len(w) >= 4 && d.plainMax != 0 {
		// The default header, inline: Parse's checks for it.
		if v := uint64(binary.BigEndian.Uint32(w)); v <= d.plainMax && v+4 <= uint64(len(w)) {
			d.off += int(v) + 4
			d.scanned = 0
			return w[4 : v+4 : v+4], nil
		}
	}
	if d.off < len(d.win) {
		p, m, err := d.parse(d.win[d.off:])
		if err != nil {
			return nil, err
		}
		if m > 0 {
			d.off += m
			d.scanned = 0
			return p, nil
		}
	}
	if err := d.Discard(); err != nil {
		return nil, err
	}
	need := d.codec.Need(nil)
	for {
		n := max(need, d.src.Buffered())
		b, err := d.src.Peek(n)
		if err == nil {
			// A blocking source may have read more than asked for while
			// waiting: look at all of it, so a raw chunk or a run of small
			// frames is not cut down to the bytes first asked for.
			if m := d.src.Buffered(); m > len(b) {
				b, err = d.src.Peek(m)
			}
		}
		if len(b) > 0 {
			p, m, perr := d.parse(b)
			if perr != nil {
				return nil, perr
			}
			if m > 0 {
				d.win, d.off, d.scanned = b, m, 0
				return p, nil
			}
		}
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return d.assemble(b)
			}
			if err == io.EOF && len(b) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		need = d.codec.Need(b)
	}
}

// Discard consumes from the source the frames Next returned, if that has
// not happened yet: Next does it in one call once the bytes it last
// peeked hold no whole frame, before it peeks again. Call Discard
// yourself to release the source's buffer before waiting for more input
// elsewhere.
func (d *Decoder) Discard() error {
	if d.inBig {
		d.inBig, d.big = false, d.big[:0]
	}
	n := d.off
	d.win, d.off = nil, 0
	if n == 0 {
		return nil
	}
	_, err := d.src.Discard(n)
	return err
}

// Idle reports whether the decoder holds no bytes of the source: every
// byte read so far was returned in a frame, so the next Next must read
// the source. The goroutine engine gives its read buffer back while a
// connection is idle.
func (d *Decoder) Idle() bool {
	// Bytes of the last window not yet returned are buffered: no need to
	// ask the source (a call per frame on a stream).
	return d.off >= len(d.win) && d.src.Buffered() == d.off
}

// assemble collects a frame longer than the source's buffer into d.big.
// Each chunk is copied tentatively; only the bytes that belong to the
// frame are discarded from the source, so nothing after the frame is lost.
func (d *Decoder) assemble(b []byte) ([]byte, error) {
	d.big = d.big[:0]
	for {
		prev := len(d.big)
		limit := d.codec.MaxFrame() - prev
		if len(b) > limit {
			b = b[:limit+1] // one past the limit is enough to prove the frame too large
		}
		d.big = append(d.big, b...)
		p, m, err := d.parse(d.big)
		if err != nil {
			d.big = d.big[:0]
			return nil, err
		}
		if m > 0 {
			if _, err := d.src.Discard(m - prev); err != nil {
				d.big = d.big[:0]
				return nil, err
			}
			d.big = d.big[:m]
			d.scanned, d.inBig = 0, true
			return p, nil
		}
		if _, err := d.src.Discard(len(b)); err != nil {
			d.big = d.big[:0]
			return nil, err
		}
		var err2 error
		b, err2 = d.src.Peek(max(1, d.src.Buffered()))
		if len(b) == 0 && err2 != nil {
			d.big = d.big[:0]
			if err2 == io.EOF {
				err2 = io.ErrUnexpectedEOF
			}
			return nil, err2
		}
	}
}
