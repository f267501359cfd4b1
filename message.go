package goipc

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Message is one received event (or, in raw and length modes, one chunk or
// frame handed to OnData as Data).
//
// Data aliases the connection's receive buffer: it is valid only during the
// handler call. Use Clone to keep a message. Event is a stable string when
// a handler is registered for it; for messages reaching the catch-all
// handler it aliases the receive buffer too, and Clone copies it.
type Message struct {
	// Event is the event name (node-ipc's type).
	Event string
	// Data is the payload: raw JSON in JSON mode, bytes in the others.
	Data []byte

	conn  *Conn
	id    uint32 // request id, 0 if this is not a request
	owned bool   // Event and Data are the message's own memory
}

// Conn returns the connection the message arrived on.
func (m Message) Conn() *Conn { return m.conn }

// IsRequest reports whether the sender waits for a Reply.
func (m Message) IsRequest() bool { return m.id != 0 }

// Clone returns a copy of m whose Event and Data are its own memory, safe
// to keep after the handler returns.
func (m Message) Clone() Message {
	if m.owned {
		return m
	}
	m.Event = string([]byte(m.Event))
	m.Data = bytes.Clone(m.Data)
	m.owned = true
	return m
}

// Decode unmarshals Data as JSON into v, keeping numbers exact
// (json.Number for interface values). It allocates; the byte-level API does
// not.
func (m Message) Decode(v any) error {
	d := json.NewDecoder(bytes.NewReader(m.Data))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("goipc: trailing data after JSON value")
	}
	return nil
}

// Reply answers a request with data (raw JSON in JSON mode). It may be
// called after the handler returns, from any goroutine, once. For a
// message that is not a request it is a no-op returning nil.
func (m Message) Reply(data []byte) error {
	if m.id == 0 {
		return nil
	}
	return m.conn.send(kindReply, m.Event, m.id, data, "")
}

// ReplyError answers a request with an error; the requester's Request
// returns a *RemoteError carrying err's text.
func (m Message) ReplyError(err error) error {
	if m.id == 0 {
		return nil
	}
	msg := "error"
	if err != nil {
		msg = err.Error()
	}
	return m.conn.send(kindReply, m.Event, m.id, nil, msg)
}
