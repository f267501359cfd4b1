package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/seed-fc4a2f4b/goipc/rawbuf"
)

// printer formats received messages for serve, listen, connect and send.
// It is safe for concurrent use: each message is written with one Write.
type printer struct {
	mu      sync.Mutex
	w       io.Writer
	events  bool // event or json mode: messages have a type
	jsonOut bool // JSON lines
	stamp   bool // timestamp and size (listen, serve); connect and send print the bare message
	hex     bool // raw/length: always hexdump
	buf     []byte
}

// received is one message to print.
type received struct {
	event string
	data  []byte
	from  string // peer, for servers; may be empty
}

// print writes m.
func (p *printer) print(m received) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.buf[:0]
	if p.jsonOut || (p.events && !p.stamp) {
		b = p.appendJSON(b, m)
	} else {
		b = p.appendText(b, m)
	}
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

// appendJSON appends m as one JSON line: {"type":T,"data":D} for events
// (D is the payload when it is valid JSON, else a JSON string of it),
// {"text":S} or {"hex":H} for raw and length modes; with stamps, "time",
// "size" and "from" come first.
func (p *printer) appendJSON(b []byte, m received) []byte {
	b = append(b, '{')
	if p.stamp {
		b = append(b, `"time":"`...)
		b = time.Now().AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","size":`...)
		b = strconv.AppendInt(b, int64(len(m.data)), 10)
		if m.from != "" {
			b = append(b, `,"from":`...)
			b = appendJSONString(b, m.from)
		}
		b = append(b, ',')
	}
	if p.events {
		b = append(b, `"type":`...)
		b = appendJSONString(b, m.event)
		b = append(b, `,"data":`...)
		b = appendJSONData(b, m.data)
	} else if text, ok := printable(m.data); ok && !p.hex {
		b = append(b, `"text":`...)
		b = appendJSONString(b, string(text))
	} else {
		b = append(b, `"hex":"`...)
		b = rawbuf.AppendHex(b, m.data)
		b = append(b, '"')
	}
	return append(b, "}\n"...)
}

// appendText appends m for people: with stamps, one header line
//
//	15:04:05.000000  [from]  type=T  N B  view
//
// where view is the text when it is printable, else a hexdump on the
// following lines; without stamps (connect, send in raw/length mode) just
// the text line or the hexdump.
func (p *printer) appendText(b []byte, m received) []byte {
	text, ok := printable(m.data)
	if p.hex {
		ok = false
	}
	if p.stamp {
		b = time.Now().AppendFormat(b, "15:04:05.000000")
		if m.from != "" {
			b = append(b, "  "...)
			b = append(b, m.from...)
		}
		if p.events {
			b = append(b, "  type="...)
			b = append(b, m.event...)
		}
		b = append(b, "  "...)
		b = strconv.AppendInt(b, int64(len(m.data)), 10)
		b = append(b, " B"...)
		if ok {
			if len(text) > 0 {
				b = append(b, "  "...)
				b = append(b, text...)
			}
			return append(b, '\n')
		}
		b = append(b, '\n')
		return rawbuf.AppendHexdump(b, m.data, 0)
	}
	if ok {
		b = append(b, text...)
		return append(b, '\n')
	}
	return rawbuf.AppendHexdump(b, m.data, 0)
}

// printable returns b without trailing line breaks, and whether what is
// left is valid UTF-8 made of printable characters and tabs.
func printable(b []byte) ([]byte, bool) {
	b = bytes.TrimRight(b, "\r\n")
	if !utf8.Valid(b) {
		return b, false
	}
	for _, r := range string(b) {
		if r != '\t' && !unicode.IsPrint(r) {
			return b, false
		}
	}
	return b, true
}

// appendJSONData appends data as a JSON value: compacted when it is valid
// JSON, else as a JSON string (invalid UTF-8 becomes U+FFFD).
func appendJSONData(b, data []byte) []byte {
	if len(data) > 0 && json.Valid(data) {
		var c bytes.Buffer
		if json.Compact(&c, data) == nil {
			return append(b, c.Bytes()...)
		}
	}
	return appendJSONString(b, string(data))
}

// appendJSONString appends s as a JSON string without HTML escaping.
func appendJSONString(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...)
}

// inputEvent is one JSON line of stdin in event and json modes.
type inputEvent struct {
	Type *string         `json:"type"`
	Data json.RawMessage `json:"data"`
}

// parseEventLine parses {"type":T,"data":D}; data is D's raw bytes (nil
// when absent).
func parseEventLine(line []byte) (typ string, data []byte, err error) {
	var in inputEvent
	d := json.NewDecoder(bytes.NewReader(line))
	if err := d.Decode(&in); err != nil {
		return "", nil, fmt.Errorf("want a JSON line {\"type\":T,\"data\":D}: %v", err)
	}
	if d.More() {
		return "", nil, fmt.Errorf("trailing data after the JSON object")
	}
	if in.Type == nil || *in.Type == "" {
		return "", nil, fmt.Errorf(`missing "type"`)
	}
	return *in.Type, in.Data, nil
}
