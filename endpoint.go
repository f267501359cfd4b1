package goipc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// HandlerFunc handles one event. It runs on the connection's event loop
// or reader goroutine: keep it short and non-blocking, and don't keep
// m.Data after it returns (Clone it).
type HandlerFunc func(c *Conn, m Message)

// DataFunc receives raw chunks (raw mode) or frames (length mode). b is
// valid only during the call.
type DataFunc func(c *Conn, b []byte)

type handlerEntry struct {
	name string
	fn   HandlerFunc
}

// msgKind is what send encodes.
type msgKind uint8

const (
	kindEvent msgKind = iota
	kindRequest
	kindReply
)

// endpoint is what a Server and a Client share: the codec, the handlers,
// and the table of requests waiting for replies.
type endpoint struct {
	codec  Codec
	fc     frame.Codec
	lf     *frame.LengthField // fc, when it is one: encoded without an interface call
	comp   *frame.Compressor
	opts   options
	hdr    int // bytes the frame codec writes ahead of a payload
	maxDec int // decompression limit

	maxName int                 // longest event name accepted, 0: the codec's own limit
	allowed map[string]struct{} // event allow-list, nil: any

	sessions *sessionTable                  // a server's exactly-once sessions (event mode)
	onAck    func(welcome bool, seq uint64) // an exactly-once client's acknowledgement handler

	hmu      sync.Mutex
	handlers atomic.Pointer[map[string]*handlerEntry]
	catchAll atomic.Pointer[HandlerFunc]
	onData   atomic.Pointer[DataFunc]

	rmu     sync.Mutex
	nextID  uint32
	pending map[uint32]pendingRequest
}

// pendingRequest is a request waiting for its reply, which is accepted
// only from the connection the request went out on.
type pendingRequest struct {
	ch chan reply
	c  *Conn
}

type reply struct {
	data []byte
	err  error
}

func (ep *endpoint) init(opts options) error {
	ep.opts = opts
	ep.codec = opts.codec
	fc, err := ep.codec.framing()
	if err != nil {
		return err
	}
	ep.fc = fc
	ep.lf, _ = fc.(*frame.LengthField)
	if ep.comp, err = ep.codec.compressor(); err != nil {
		return err
	}
	b, _ := fc.Begin(nil)
	ep.hdr = len(b)
	ep.maxDec = fc.MaxFrame()
	ep.maxName = opts.maxEventName
	if len(opts.allowed) > 0 {
		ep.allowed = make(map[string]struct{}, len(opts.allowed))
		for _, n := range opts.allowed {
			ep.allowed[n] = struct{}{}
		}
	}
	m := make(map[string]*handlerEntry)
	ep.handlers.Store(&m)
	ep.pending = make(map[uint32]pendingRequest)
	return nil
}

// handle registers fn for event; copy-on-write so dispatch reads the map
// without locks.
func (ep *endpoint) handle(event string, fn HandlerFunc) {
	ep.hmu.Lock()
	defer ep.hmu.Unlock()
	old := *ep.handlers.Load()
	m := make(map[string]*handlerEntry, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	if fn == nil {
		delete(m, event)
	} else {
		m[event] = &handlerEntry{name: event, fn: fn}
	}
	ep.handlers.Store(&m)
}

// frameSlack is room reserved past a frame's header and payload for what a
// frame codec may add after them (a delimiter).
const frameSlack = 64

// maxLen bounds the bytes send writes for one message.
func (ep *endpoint) maxLen(event string, data []byte, errMsg string) int {
	n := ep.hdr + len(data) + frameSlack
	switch ep.codec.mode {
	case ModeEvent:
		n += len(event) + len(errMsg)
		if ep.comp != nil {
			n += len(data)/6 + 40 // s2/zstd worst-case expansion plus declared length
		}
	case ModeJSON:
		n += 6*len(event) + 6*len(errMsg) + 48 + len(ep.codec.delim)
	}
	return n
}

// appendMessage encodes one message as one frame at the end of dst.
func (ep *endpoint) appendMessage(dst []byte, kind msgKind, event string, id uint32, data []byte, errMsg string) ([]byte, error) {
	switch ep.codec.mode {
	case ModeEvent:
		// A receiver expands at most its max frame: don't send what a peer
		// with the same codec must refuse, however well it compresses.
		if ep.comp != nil && len(data) > ep.maxDec {
			return dst, frame.ErrFrameTooLarge
		}
	case ModeJSON:
		// What a goipc receiver with default options refuses.
		if kind != kindReply && event == "" {
			return dst, frame.ErrBadType
		}
		if len(event) > frame.DefaultMaxTypeLen {
			return dst, frame.ErrNameTooLong
		}
	}
	var out []byte
	var mark int
	if ep.lf != nil {
		out, mark = ep.lf.Begin(dst)
	} else {
		out, mark = ep.fc.Begin(dst)
	}
	var err error
	switch ep.codec.mode {
	case ModeEvent:
		var flags frame.Flags
		switch kind {
		case kindRequest:
			flags = frame.FlagRequest
		case kindReply:
			flags = frame.FlagReply
			if errMsg != "" {
				flags |= frame.FlagError
				data = unsafe.Slice(unsafe.StringData(errMsg), len(errMsg))
			}
		}
		out, err = ep.comp.AppendEvent(out, event, flags, id, data)
	case ModeJSON:
		if len(data) > 0 && !frame.ValidJSON(data) {
			return dst, ErrBadJSON
		}
		switch kind {
		case kindRequest:
			out = frame.AppendJSONRequest(out, event, id, data)
		case kindReply:
			out = frame.AppendJSONReply(out, event, id, data, errMsg)
		default:
			out = frame.AppendJSONEvent(out, event, data)
		}
	default:
		out = append(out, data...)
	}
	if err != nil {
		return dst, err
	}
	if ep.lf != nil {
		return ep.lf.End(out, mark)
	}
	return ep.fc.End(out, mark)
}

// appendFrame encodes data as one frame with no envelope at the end of
// dst: Send's encoding (length and raw modes), which is appendMessage's
// there without its checks and mode switch.
func (ep *endpoint) appendFrame(dst, data []byte) ([]byte, error) {
	if ep.lf != nil {
		return ep.lf.Append(dst, data)
	}
	return ep.fc.Append(dst, data)
}

// dispatch decodes one frame and calls its handler.
func (ep *endpoint) dispatch(c *Conn, p []byte) error {
	switch ep.codec.mode {
	case ModeEvent:
		var ev frame.Event
		if err := ev.Parse(p); err != nil {
			return err
		}
		if ev.Flags&frame.FlagControl != 0 {
			return ep.control(c, ev.Name, ev.Data)
		}
		data := ev.Data
		if ev.Flags.Compression() != frame.None {
			var err error
			if data, err = c.decompressor().Data(ev); err != nil {
				return err
			}
		}
		if ev.Flags&frame.FlagReply != 0 {
			var rerr error
			if ev.Flags&frame.FlagError != 0 {
				rerr = &RemoteError{Event: string(ev.Name), Message: string(data)}
				data = nil
			}
			ep.resolve(c, ev.ID, data, rerr)
			return nil
		}
		if err := ep.checkEvent(ev.Name); err != nil {
			return err
		}
		var id uint32
		if ev.Flags&frame.FlagRequest != 0 {
			id = ev.ID
		}
		if ev.Flags&frame.FlagSeq != 0 {
			ep.deliverSequenced(c, ev.Seq, ev.Name, data, id)
			return nil
		}
		ep.deliver(c, ev.Name, data, id)
	case ModeJSON:
		ev, err := c.jp.Parse(p)
		if err != nil {
			return err
		}
		if ev.ReplyTo != 0 {
			var rerr error
			if ev.Error != nil {
				rerr = &RemoteError{Event: string(ev.Type), Message: string(ev.Error)}
			}
			ep.resolve(c, ev.ReplyTo, ev.Data, rerr)
			return nil
		}
		if err := ep.checkEvent(ev.Type); err != nil {
			return err
		}
		ep.deliver(c, ev.Type, ev.Data, ev.ID)
	default:
		if f := ep.onData.Load(); f != nil {
			(*f)(c, p)
		}
	}
	return nil
}

// deliver calls the handler registered for name, else the catch-all; a
// request nobody handles gets an error reply.
func (ep *endpoint) deliver(c *Conn, name, data []byte, id uint32) {
	m := Message{Data: data, conn: c, id: id}
	if h := c.handler(name); h != nil {
		m.Event = h.name
		h.fn(c, m)
		return
	}
	if f := ep.catchAll.Load(); f != nil {
		if id != 0 {
			// A request may be answered after the handler returns, with
			// the event name: give it its own copy.
			m.Event = string(name)
		} else {
			m.Event = unsafe.String(unsafe.SliceData(name), len(name))
		}
		(*f)(c, m)
		return
	}
	if id != 0 {
		_ = c.send(kindReply, string(name), id, nil, noHandlerMsg)
	}
}

// register allocates a request id and the channel its reply will arrive on.
func (ep *endpoint) register(c *Conn) (uint32, chan reply) {
	ch := make(chan reply, 1)
	ep.rmu.Lock()
	for {
		ep.nextID++
		if ep.nextID == 0 {
			ep.nextID = 1
		}
		if _, busy := ep.pending[ep.nextID]; !busy {
			break
		}
	}
	id := ep.nextID
	ep.pending[id] = pendingRequest{ch: ch, c: c}
	ep.rmu.Unlock()
	return id, ch
}

func (ep *endpoint) unregister(id uint32) {
	ep.rmu.Lock()
	delete(ep.pending, id)
	ep.rmu.Unlock()
}

// resolve hands a reply that arrived on c to its waiting Request. Replies
// nobody waits for (timed out, unknown ids) and replies arriving on another
// connection than their request's (forged) are dropped.
func (ep *endpoint) resolve(c *Conn, id uint32, data []byte, err error) {
	ep.rmu.Lock()
	p, ok := ep.pending[id]
	if ok && p.c == c {
		delete(ep.pending, id)
	} else {
		ok = false
	}
	ep.rmu.Unlock()
	if ok {
		p.ch <- reply{data: append([]byte(nil), data...), err: err}
	} else {
		ep.opts.logger.Debug("goipc: reply dropped: no request with that id on this connection", "conn", c.id)
	}
}

// request sends a request on c and waits for its reply.
func (ep *endpoint) request(ctx context.Context, c *Conn, event string, data []byte) ([]byte, error) {
	if !ep.codec.events() {
		return nil, ErrNoEvents
	}
	id, ch := ep.register(c)
	if err := c.send(kindRequest, event, id, data, ""); err != nil {
		ep.unregister(id)
		return nil, err
	}
	select {
	case r := <-ch:
		return r.data, r.err
	case <-ctx.Done():
		ep.unregister(id)
		return nil, fmt.Errorf("goipc: request %q: %w", event, ctx.Err())
	case <-c.Done():
		ep.unregister(id)
		select {
		case r := <-ch: // the reply raced the close
			return r.data, r.err
		default:
		}
		return nil, fmt.Errorf("goipc: request %q: connection closed: %w", event, errors.Join(ErrClosed, c.Err()))
	}
}
