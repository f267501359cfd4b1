package frame

// node-ipc JSON events.
//
// A node-ipc peer (the JavaScript library) sends one event as the UTF-8
// bytes of JSON.stringify({type: T, data: D}) followed by the delimiter
// "\f" (0x0C); emit(T) without data sends "data":{}. This file produces and
// consumes the JSON bytes of one such frame, without the delimiter: the
// Delimiter codec adds and strips the 0x0C. Because JSON.stringify escapes
// every control character inside strings and 0x0C is not JSON whitespace,
// a valid frame never contains 0x0C.
//
// Wire format (one frame, before the delimiter):
//
//	{"type":<JSON string>,"data":<JSON value>}
//
// goipc extends it with request/reply correlation that node-ipc peers
// tolerate (node-ipc dispatches only message.type and message.data and
// ignores other members):
//
//	{"type":<JSON string>,"data":<JSON value>,"id":<1..4294967295>}
//	{"type":<JSON string>,"data":<JSON value>,"replyTo":<1..4294967295>}
//	{"type":<JSON string>,"data":<JSON value>,"replyTo":<N>,"error":<JSON string>}
//
// Encoding is byte-identical to JSON.stringify for the same type string and
// data bytes. Decoding accepts any RFC 8259 JSON text whose top-level value
// is an object with a string member "type", in the manner of node-ipc's
// "guarded" parser profile (entities/EventParser.js).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// DefaultMaxTypeLen is the longest event type, in bytes of UTF-8, that a
// JSONParser accepts when JSONOptions.MaxTypeLen is zero. It equals the
// binary envelope's limit, so every accepted JSON event can be re-framed in
// the binary envelope. (node-ipc's guarded profile defaults to 256 UTF-16
// code units; see JSONOptions.)
const DefaultMaxTypeLen = 255

// DefaultMaxErrorLen is the longest error message of an error reply, in
// bytes of UTF-8 after unescaping, that a JSONParser accepts when
// JSONOptions.MaxErrorLen is zero.
const DefaultMaxErrorLen = 1024

// DefaultMaxJSONDepth is the nesting limit for arrays and objects inside a
// member value of the envelope when JSONOptions.MaxDepth is zero.
const DefaultMaxJSONDepth = 128

// ReservedLifecycle lists the event names that node-ipc publishes locally
// for connection lifecycle and raw data, and that its guarded parser
// therefore refuses from the wire unless allowReservedEvents is set. It is
// the set reservedEventTypes of node-ipc's entities/EventParser.js; where
// each name is published (dao/socketServer.js, dao/client.js):
//
//   - "start": the server started listening (Server.onStart).
//   - "connect": a socket was accepted (Server.addSocket), a UDP server bound,
//     or a client connected (Client.connected).
//   - "disconnect": a client lost its connection (Client.closed).
//   - "destroy": a client gave up reconnecting (Client.closed).
//   - "close": an accepted socket closed (Server.addSocket).
//   - "socket.disconnected": the server removed a closed socket
//     (Server.removeSocket).
//   - "error": socket, server or protocol errors (both sides).
//   - "data": a raw-buffer chunk (receiveRaw on both sides).
//
// Pass it as JSONOptions.Reserved to refuse these from the wire. The slice
// is shared: do not modify it; append to a copy instead.
var ReservedLifecycle = []string{
	"start",
	"connect",
	"disconnect",
	"destroy",
	"close",
	"socket.disconnected",
	"error",
	"data",
}

// ObjectPrototypeNames lists the property names of JavaScript's
// Object.prototype (Node 20). node-ipc's guarded parser refuses them as event
// types ("not safe for the active event dispatcher") because its dispatcher
// looks handlers up in a plain object. They are harmless to Go, but a Go
// process that relays events to node-ipc peers may add them to
// JSONOptions.Reserved. The slice is shared: do not modify it.
var ObjectPrototypeNames = []string{
	"constructor",
	"__defineGetter__",
	"__defineSetter__",
	"hasOwnProperty",
	"__lookupGetter__",
	"__lookupSetter__",
	"isPrototypeOf",
	"propertyIsEnumerable",
	"toString",
	"valueOf",
	"__proto__",
	"toLocaleString",
}

// AppendJSONEvent appends the JSON bytes of one node-ipc event, exactly what
// JSON.stringify({type: typ, data: D}) produces in JavaScript, and returns
// the extended slice:
//
//	{"type":<typ>,"data":<data>}
//
// The type is escaped by AppendJSONString. data must be one valid JSON value
// (for example from json.Marshal or a Data field received earlier); it is
// copied verbatim and not checked. nil or empty data means no data and is
// written as {} (node-ipc's emit(type) without data). The delimiter is not
// appended.
//
// AppendJSONEvent allocates only when dst lacks capacity, growing it at most
// once. It is safe for concurrent use by multiple goroutines as long as
// they pass distinct dst slices; dst and data must not overlap.
func AppendJSONEvent(dst []byte, typ string, data []byte) []byte {
	dst, data = jsonGrow(dst, typ, data, 0)
	dst = appendJSONHead(dst, typ, data)
	return append(dst, '}')
}

var jsonEmptyObject = []byte("{}")

// AppendJSONRequest appends a goipc request in node-ipc JSON form, an event
// that also carries the request id, and returns the extended slice:
//
//	{"type":<typ>,"data":<data>,"id":<id>}
//
// The members come in exactly that order; id is written in decimal. typ and
// data are treated as by AppendJSONEvent (nil or empty data is written as
// {}). A node-ipc peer sees an ordinary event typ with data (it ignores the
// "id" member); a goipc peer sees JSONEvent.ID == id and answers with
// AppendJSONReply. The delimiter is not appended.
//
// id must not be 0: 0 means "no id" in JSONEvent.ID and receivers refuse
// "id":0, so AppendJSONRequest panics when id is 0. A caller that numbers
// requests with a wrapping counter must skip 0.
//
// AppendJSONRequest allocates only when dst lacks capacity. It is safe for
// concurrent use with distinct dst slices; dst and data must not overlap.
func AppendJSONRequest(dst []byte, typ string, id uint32, data []byte) []byte {
	if id == 0 {
		panic("frame: AppendJSONRequest with id 0")
	}
	dst, data = jsonGrow(dst, typ, data, len(`,"id":4294967295`))
	dst = appendJSONHead(dst, typ, data)
	dst = append(dst, `,"id":`...)
	dst = strconv.AppendUint(dst, uint64(id), 10)
	return append(dst, '}')
}

// AppendJSONReply appends a goipc reply in node-ipc JSON form and returns the
// extended slice. With an empty errMsg it is a successful reply:
//
//	{"type":<typ>,"data":<data>,"replyTo":<replyTo>}
//
// and with a non-empty errMsg an error reply, errMsg escaped by
// AppendJSONString:
//
//	{"type":<typ>,"data":<data>,"replyTo":<replyTo>,"error":<errMsg>}
//
// The members come in exactly that order. replyTo is the id of the request
// answered (its JSONEvent.ID). typ and data are treated as by
// AppendJSONEvent: nil or empty data, usual for an error reply, is written
// as {}. A node-ipc peer sees an ordinary event typ with data.
//
// replyTo must not be 0 (receivers refuse "replyTo":0, and an error member
// needs a replyTo): AppendJSONReply panics when replyTo is 0. errMsg is
// written in full; receivers with default options refuse error messages
// longer than DefaultMaxErrorLen bytes after unescaping (each invalid UTF-8
// byte of errMsg becomes the 3 bytes of U+FFFD), so keep it short.
//
// AppendJSONReply allocates only when dst lacks capacity. It is safe for
// concurrent use with distinct dst slices; dst and data must not overlap.
func AppendJSONReply(dst []byte, typ string, replyTo uint32, data []byte, errMsg string) []byte {
	if replyTo == 0 {
		panic("frame: AppendJSONReply with replyTo 0")
	}
	extra := len(`,"replyTo":4294967295`)
	if errMsg != "" {
		extra += len(`,"error":""`) + len(errMsg)
	}
	dst, data = jsonGrow(dst, typ, data, extra)
	dst = appendJSONHead(dst, typ, data)
	dst = append(dst, `,"replyTo":`...)
	dst = strconv.AppendUint(dst, uint64(replyTo), 10)
	if errMsg != "" {
		dst = append(dst, `,"error":`...)
		dst = AppendJSONString(dst, errMsg)
	}
	return append(dst, '}')
}

// jsonGrow substitutes {} for empty data and grows dst for an envelope with
// extra bytes of members after "data" (escapes may need more).
func jsonGrow(dst []byte, typ string, data []byte, extra int) ([]byte, []byte) {
	if len(data) == 0 {
		data = jsonEmptyObject
	}
	return slices.Grow(dst, len(`{"type":"","data":}`)+len(typ)+len(data)+extra+8), data
}

// appendJSONHead appends `{"type":<typ>,"data":<data>` without the closing
// brace.
func appendJSONHead(dst []byte, typ string, data []byte) []byte {
	dst = append(dst, `{"type":`...)
	dst = AppendJSONString(dst, typ)
	dst = append(dst, `,"data":`...)
	return append(dst, data...)
}

// jsonHex is lower-case, as JSON.stringify writes \u001f.
const jsonHex = "0123456789abcdef"

// jsonPlain[c] is true for the ASCII bytes that JSON.stringify copies into
// a string unchanged: 0x20..0x7f except '"' and '\\'. Bytes >= 0x80 are
// false: they go through UTF-8 validation.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendJSONString appends s as a quoted JSON string, byte-identical to
// JavaScript's JSON.stringify(s) for every valid UTF-8 s, and returns the
// extended slice:
//
//   - '"' and '\\' become \" and \\;
//   - \b \f \n \r \t become those two-character escapes;
//   - other bytes below 0x20 become \u00XX with lower-case hex;
//   - 0x7f and all non-ASCII characters, including U+2028 and U+2029, are
//     copied raw (unlike encoding/json, which escapes U+2028 and U+2029);
//   - '<', '>' and '&' are not escaped (no HTML escaping);
//   - '/' is not escaped.
//
// A Go string may hold invalid UTF-8, which a JavaScript string cannot:
// each byte that is not part of a valid UTF-8 sequence is replaced by
// U+FFFD (the bytes EF BF BD), as encoding/json does. This matches what a
// Node.js peer gets from Buffer.toString('utf8') for a single bad byte, but
// Node replaces a truncated multi-byte sequence by one U+FFFD where this
// function writes one per byte.
//
// AppendJSONString allocates only when dst lacks capacity. It is safe for
// concurrent use with distinct dst slices.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendJSONEventValue appends a node-ipc event like AppendJSONEvent, with
// data produced by encoding/json from v (HTML escaping off). It is the
// convenience path: it allocates, and it is not meant for the hot path.
// An untyped nil v is written as {} (node-ipc's emit(type) without data);
// a typed nil such as a nil pointer is written as null.
//
// The bytes equal JSON.stringify of the same JavaScript value except where
// encoding/json and JavaScript disagree:
//
//   - U+2028 and U+2029, which encoding/json escapes, are written raw as
//     JSON.stringify does;
//   - map keys are sorted (JavaScript keeps insertion order); struct fields
//     keep declaration order;
//   - negative zero is written -0 (JSON.stringify writes 0);
//   - NaN and ±Inf are an error (JSON.stringify writes null);
//   - other floats use encoding/json's shortest form, which matches
//     JavaScript's Number#toString in the cases checked (1e+21, 1e-7,
//     5e-324), and integers are written exactly even beyond 2^53, where a
//     JavaScript peer loses precision when it parses them;
//   - []byte is written as a base64 string, nil slices and maps as null;
//   - invalid UTF-8 in strings becomes U+FFFD per byte.
//
// On error dst is returned unchanged (same length) with the error from
// encoding/json wrapped. Safe for concurrent use with distinct dst slices.
func AppendJSONEventValue(dst []byte, typ string, v any) ([]byte, error) {
	if v == nil {
		return AppendJSONEvent(dst, typ, nil), nil
	}
	orig := len(dst)
	dst = append(dst, `{"type":`...)
	dst = AppendJSONString(dst, typ)
	dst = append(dst, `,"data":`...)
	w := jsonSliceWriter{b: dst}
	enc := json.NewEncoder(&w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return w.b[:orig], fmt.Errorf("frame: encode JSON event data: %w", err)
	}
	start := len(dst)
	out := w.b
	if n := len(out); n > start && out[n-1] == '\n' {
		out = out[:n-1]
	}
	out = out[:start+jsonUnescapeLineSeps(out[start:])]
	return append(out, '}'), nil
}

// jsonSliceWriter appends to a byte slice; json.Encoder writes one value
// per Encode call.
type jsonSliceWriter struct{ b []byte }

func (w *jsonSliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// jsonUnescapeLineSeps rewrites the escapes \u2028 and \u2029 in the valid
// JSON text b as the raw characters, in place, and returns the new length.
// It steps over every escape sequence whole, so an escaped backslash
// followed by "u2028" is left alone.
func jsonUnescapeLineSeps(b []byte) int {
	i := bytes.IndexByte(b, '\\')
	if i < 0 {
		return len(b)
	}
	w := i
	for i < len(b) {
		c := b[i]
		if c != '\\' {
			b[w] = c
			w++
			i++
			continue
		}
		if i+5 < len(b) && b[i+1] == 'u' && b[i+2] == '2' && b[i+3] == '0' && b[i+4] == '2' && (b[i+5] == '8' || b[i+5] == '9') {
			// U+2028 is E2 80 A8, U+2029 is E2 80 A9.
			b[w], b[w+1], b[w+2] = 0xe2, 0x80, 0xa8+(b[i+5]-'8')
			w += 3
			i += 6
			continue
		}
		// Any other escape: copy the backslash and the byte after it, so
		// "\\" is never mistaken for the start of an escape.
		b[w] = c
		w++
		i++
		if i < len(b) {
			b[w] = b[i]
			w++
			i++
		}
	}
	return w
}

// JSONOptions validate incoming events in the manner of node-ipc's guarded
// parser profile. The zero value accepts any non-empty string type of at
// most DefaultMaxTypeLen bytes, reserves no names, and limits nesting to
// DefaultMaxJSONDepth. To refuse node-ipc's lifecycle names, as the guarded
// profile does by default, set Reserved to ReservedLifecycle.
//
// Options are read by every Parse call: do not change them while a Parse
// is running, and share a JSONOptions between goroutines only read-only.
type JSONOptions struct {
	// MaxTypeLen is the longest accepted type, in bytes of UTF-8 after
	// unescaping; longer types are refused with ErrNameTooLong. Zero or
	// negative means DefaultMaxTypeLen. node-ipc's maxEventNameLength
	// counts UTF-16 code units instead (default 256), so types with
	// non-ASCII characters count longer here.
	MaxTypeLen int
	// AllowEmptyType accepts "" as a type. By default an empty type is
	// refused with ErrBadType, as node-ipc's guarded profile does.
	AllowEmptyType bool
	// Reserved lists types refused with ErrReservedType, compared byte for
	// byte after unescaping; ReservedLifecycle is the node-ipc set.
	Reserved []string
	// MaxDepth limits the nesting of arrays and objects inside each member
	// value of the envelope ("data":{} has depth 1, "data":[[1]] depth 2);
	// deeper frames are refused with ErrBadJSON. Zero or negative means
	// DefaultMaxJSONDepth. A frame whose top-level value is not an object
	// may nest MaxDepth+1 deep before it is reported as ErrNotEnvelope.
	MaxDepth int
	// MaxErrorLen is the longest accepted "error" message of an error
	// reply, in bytes of UTF-8 after unescaping; longer messages are
	// refused with ErrNotEnvelope. Zero or negative means
	// DefaultMaxErrorLen. It also bounds the parser's scratch buffer.
	MaxErrorLen int
}

// JSONEvent is one node-ipc event found by JSONParser.Parse. Type, Data and
// Error alias memory that the caller or the parser reuses; copy them to keep
// them. An event is a plain event (ID and ReplyTo 0), a request (ID != 0),
// or a reply (ReplyTo != 0), never both a request and a reply.
type JSONEvent struct {
	// Type is the unescaped event type, valid UTF-8. It aliases the input
	// frame when the type has no escapes, else the parser's scratch buffer;
	// it is valid until the next Parse on the same parser and until the
	// input is reused, whichever comes first.
	Type []byte
	// Data is the raw JSON value of the "data" member exactly as received
	// (escapes kept, surrounding whitespace trimmed), aliasing the input
	// frame, or nil when the frame has no "data" member. A JSON null is
	// the 4 bytes "null", not nil.
	Data []byte
	// ID is the request id of a request (member "id"), 1..4294967295, or
	// 0 when the frame is not a request. Answer it with AppendJSONReply.
	ID uint32
	// ReplyTo is the id of the request that a reply answers (member
	// "replyTo"), 1..4294967295, or 0 when the frame is not a reply.
	ReplyTo uint32
	// Error is the unescaped message of an error reply (member "error",
	// valid UTF-8), or nil when the frame is not an error reply; only a
	// reply can carry it. An "error":"" member gives a non-nil empty
	// Error (AppendJSONReply never writes one). Like Type, it aliases the
	// input frame when the message has no escapes, else the parser's
	// scratch buffer (in a region separate from Type's, so both stay
	// valid), until the next Parse on the same parser and until the input
	// is reused, whichever comes first.
	Error []byte
}

// JSONParser validates node-ipc JSON frames and finds the event in them in
// one pass without allocating (after the first call that unescapes a type
// or an error message, which sizes the scratch buffer once for the current
// options).
//
// The zero value is ready to use with default options. A JSONParser is not
// safe for concurrent use: use one per connection or goroutine.
type JSONParser struct {
	// Options apply to every Parse; see JSONOptions.
	Options JSONOptions

	scratch []byte    // unescaped type [0:MaxTypeLen+4), then error message
	inline  [4]uint64 // container-kind bits for depth <= 256
	deep    []uint64  // container-kind bits when MaxDepth > 256
}

// jsonTop holds what the top-level member scan found. Start offsets are
// -1 for absent members.
type jsonTop struct {
	typeStart, typeEnd   int  // the last "type" string value, inside the quotes
	typeEsc              bool // it has escapes
	typeOK               bool // the last "type" member is a string
	dataStart, dataEnd   int  // the last "data" value
	idStart, idEnd       int  // the last "id" value
	replyStart, replyEnd int  // the last "replyTo" value
	errStart, errEnd     int  // the last "error" value, inside the quotes if a string
	errEsc               bool // it has escapes
	errOK                bool // the last "error" member is a string
}

// Parse validates frame, the bytes of one frame without its delimiter, and
// returns the event in it. frame must be one RFC 8259 JSON text, with
// optional JSON whitespace around it; its top-level value must be an object
// with a member "type" whose value is a string. When a key appears more than
// once the last member counts, as with JSON.parse; keys are compared after
// unescaping, so "t\u0079pe" is "type". Members other than "type", "data",
// "id", "replyTo" and "error" are validated and ignored, as node-ipc
// ignores them.
//
// The goipc request/reply members are checked: "id" and "replyTo", when
// present, must be JSON integers in 1..4294967295 written without sign,
// fraction or exponent (1.0, 1e0, 0, -1, "1" are refused), and not both
// may be present; "error" must be a string of at most MaxErrorLen bytes
// after unescaping, and only in a frame with "replyTo". Each violation is
// ErrNotEnvelope. See JSONEvent.ID, ReplyTo and Error.
//
// Parse is stricter than node-ipc in two places, both documented as
// deviations: invalid UTF-8 anywhere in the frame is ErrBadJSON (a Node.js
// peer can only send valid UTF-8; Node decodes bad bytes to U+FFFD before
// JSON.parse), and an escaped lone surrogate in the type (\ud800) becomes
// U+FFFD instead of being kept as a JavaScript string would.
//
// Every error is a *ProtocolError wrapping ErrBadJSON (not JSON, nesting
// deeper than MaxDepth), ErrNotEnvelope (valid JSON without a string
// "type", or with invalid request/reply members), ErrNameTooLong, ErrBadType (empty type) or ErrReservedType, in
// that order of precedence. Details give offsets, never payload bytes.
// frame is never modified. See JSONEvent for the lifetime of the result.
func (p *JSONParser) Parse(frame []byte) (JSONEvent, error) {
	maxDepth := p.Options.MaxDepth
	if maxDepth <= 0 {
		maxDepth = DefaultMaxJSONDepth
	}
	b := frame
	i := jsonSkipWS(b, 0)
	if i >= len(b) {
		return JSONEvent{}, protoErr(CodeBadJSON, "empty frame")
	}
	if b[i] != '{' {
		end, err := p.scanValue(b, i, maxDepth+1)
		if err != nil {
			return JSONEvent{}, err
		}
		if end = jsonSkipWS(b, end); end != len(b) {
			return JSONEvent{}, jsonSyntaxErr(b, end)
		}
		return JSONEvent{}, protoErr(CodeNotEnvelope, "top-level value is not an object")
	}
	top, err := p.scanTop(b, i, maxDepth)
	if err != nil {
		return JSONEvent{}, err
	}
	if !top.typeOK {
		return JSONEvent{}, protoErr(CodeNotEnvelope, `no string member "type"`)
	}
	var ev JSONEvent
	if top.idStart >= 0 {
		if ev.ID, err = jsonCorrelationID(b[top.idStart:top.idEnd], `"id"`); err != nil {
			return JSONEvent{}, err
		}
	}
	if top.replyStart >= 0 {
		if ev.ReplyTo, err = jsonCorrelationID(b[top.replyStart:top.replyEnd], `"replyTo"`); err != nil {
			return JSONEvent{}, err
		}
		if ev.ID != 0 {
			return JSONEvent{}, protoErr(CodeNotEnvelope, `both "id" and "replyTo"`)
		}
	}
	if top.errStart >= 0 {
		if !top.errOK {
			return JSONEvent{}, protoErr(CodeNotEnvelope, `member "error" is not a string`)
		}
		if ev.ReplyTo == 0 {
			return JSONEvent{}, protoErr(CodeNotEnvelope, `member "error" without "replyTo"`)
		}
	}
	maxType := p.Options.MaxTypeLen
	if maxType <= 0 {
		maxType = DefaultMaxTypeLen
	}
	maxErr := p.Options.MaxErrorLen
	if maxErr <= 0 {
		maxErr = DefaultMaxErrorLen
	}
	// One scratch buffer: the unescaped type in [0, typeCap), the unescaped
	// error message in [typeCap, need). jsonUnescape writes at most
	// limit+utf8.UTFMax bytes, so neither region overflows into the other.
	typeCap := maxType + utf8.UTFMax
	need := 0
	if top.typeEsc {
		need = typeCap
	}
	if top.errEsc {
		need = typeCap + maxErr + utf8.UTFMax
	}
	if cap(p.scratch) < need {
		p.scratch = make([]byte, 0, need)
	}
	if top.errStart >= 0 {
		raw := b[top.errStart:top.errEnd]
		if !top.errEsc {
			if len(raw) > maxErr {
				return JSONEvent{}, protoErr(CodeNotEnvelope, "error message is "+strconv.Itoa(len(raw))+" bytes, limit "+strconv.Itoa(maxErr))
			}
			ev.Error = raw[:len(raw):len(raw)]
		} else {
			msg, ok := jsonUnescape(p.scratch[typeCap:typeCap:need], raw, maxErr)
			if !ok {
				return JSONEvent{}, protoErr(CodeNotEnvelope, "error message exceeds "+strconv.Itoa(maxErr)+" bytes")
			}
			ev.Error = msg[:len(msg):len(msg)]
		}
	}
	var typ []byte
	raw := b[top.typeStart:top.typeEnd]
	if !top.typeEsc {
		if len(raw) > maxType {
			return JSONEvent{}, protoErr(CodeNameTooLong, "type is "+strconv.Itoa(len(raw))+" bytes, limit "+strconv.Itoa(maxType))
		}
		typ = raw
	} else {
		var ok bool
		typ, ok = jsonUnescape(p.scratch[0:0:typeCap], raw, maxType)
		if !ok {
			return JSONEvent{}, protoErr(CodeNameTooLong, "type exceeds "+strconv.Itoa(maxType)+" bytes")
		}
	}
	if len(typ) == 0 && !p.Options.AllowEmptyType {
		return JSONEvent{}, protoErr(CodeBadType, "empty type")
	}
	for _, r := range p.Options.Reserved {
		if string(typ) == r {
			return JSONEvent{}, protoErr(CodeReservedType, "type is a reserved lifecycle name")
		}
	}
	ev.Type = typ
	if top.dataStart >= 0 {
		ev.Data = b[top.dataStart:top.dataEnd:top.dataEnd]
	}
	return ev, nil
}

// scanTop scans the top-level object starting at b[i] == '{' and the
// whitespace after it up to the end of b.
func (p *JSONParser) scanTop(b []byte, i, maxDepth int) (jsonTop, error) {
	top := jsonTop{dataStart: -1, idStart: -1, replyStart: -1, errStart: -1}
	i = jsonSkipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return top, jsonSyntaxErr(b, i)
			}
			keyStart := i + 1
			end, esc, err := jsonScanString(b, i)
			if err != nil {
				return top, err
			}
			key := b[keyStart : end-1]
			i = jsonSkipWS(b, end)
			if i >= len(b) || b[i] != ':' {
				return top, jsonSyntaxErr(b, i)
			}
			i = jsonSkipWS(b, i+1)
			if i >= len(b) {
				return top, jsonSyntaxErr(b, i)
			}
			vStart := i
			kind := jsonKeyKind(key, esc)
			valEsc := false
			isStr := b[i] == '"'
			if isStr && (kind == jsonKeyType || kind == jsonKeyError) {
				end, valEsc, err = jsonScanString(b, i)
			} else {
				end, err = p.scanValue(b, i, maxDepth)
			}
			if err != nil {
				return top, err
			}
			switch kind {
			case jsonKeyType:
				top.typeOK = isStr
				top.typeStart, top.typeEnd, top.typeEsc = vStart+1, end-1, valEsc
			case jsonKeyData:
				top.dataStart, top.dataEnd = vStart, end
			case jsonKeyID:
				top.idStart, top.idEnd = vStart, end
			case jsonKeyReplyTo:
				top.replyStart, top.replyEnd = vStart, end
			case jsonKeyError:
				top.errOK = isStr
				top.errStart, top.errEnd, top.errEsc = vStart+1, end-1, valEsc
			}
			i = jsonSkipWS(b, end)
			if i < len(b) && b[i] == ',' {
				i = jsonSkipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return top, jsonSyntaxErr(b, i)
		}
	}
	if i = jsonSkipWS(b, i); i != len(b) {
		return top, jsonSyntaxErr(b, i)
	}
	return top, nil
}

// scanValue validates the JSON value starting at b[i] (not whitespace) and
// returns the offset just past it. Arrays and objects may nest at most
// maxDepth deep. It does not recurse: the kind of each open container is
// one bit in p.inline or p.deep.
func (p *JSONParser) scanValue(b []byte, i, maxDepth int) (int, error) {
	stack := p.inline[:]
	if maxDepth > len(p.inline)*64 {
		if need := (maxDepth + 63) / 64; len(p.deep) < need {
			p.deep = make([]uint64, need)
		}
		stack = p.deep
	}
	depth := 0
	for {
		// A value is expected at b[i].
		if i >= len(b) {
			return i, jsonSyntaxErr(b, i)
		}
		switch c := b[i]; {
		case c == '{' || c == '[':
			if depth >= maxDepth {
				return i, protoErr(CodeBadJSON, "nesting deeper than "+strconv.Itoa(maxDepth)+" at offset "+strconv.Itoa(i))
			}
			w, bit := depth>>6, uint64(1)<<(depth&63)
			depth++
			i = jsonSkipWS(b, i+1)
			if c == '[' {
				stack[w] &^= bit
				if i < len(b) && b[i] == ']' {
					depth--
					i++
					break
				}
				continue
			}
			stack[w] |= bit
			if i < len(b) && b[i] == '}' {
				depth--
				i++
				break
			}
			var err error
			if i, err = jsonScanKey(b, i); err != nil {
				return i, err
			}
			continue
		case c == '"':
			end, _, err := jsonScanString(b, i)
			if err != nil {
				return end, err
			}
			i = end
		case c == '-' || c-'0' <= 9:
			end, ok := jsonScanNumber(b, i)
			if !ok {
				return end, protoErr(CodeBadJSON, "invalid number at offset "+strconv.Itoa(i))
			}
			i = end
		case c == 't':
			if !bytes.HasPrefix(b[i:], []byte("true")) {
				return i, jsonSyntaxErr(b, i)
			}
			i += 4
		case c == 'f':
			if !bytes.HasPrefix(b[i:], []byte("false")) {
				return i, jsonSyntaxErr(b, i)
			}
			i += 5
		case c == 'n':
			if !bytes.HasPrefix(b[i:], []byte("null")) {
				return i, jsonSyntaxErr(b, i)
			}
			i += 4
		default:
			return i, jsonSyntaxErr(b, i)
		}
		// A value ended just before b[i]: close containers until one
		// continues with ',' or the outermost value is done.
		for {
			if depth == 0 {
				return i, nil
			}
			i = jsonSkipWS(b, i)
			if i >= len(b) {
				return i, jsonSyntaxErr(b, i)
			}
			d := depth - 1
			isObj := stack[d>>6]&(uint64(1)<<(d&63)) != 0
			c := b[i]
			if c == ',' {
				i = jsonSkipWS(b, i+1)
				if isObj {
					var err error
					if i, err = jsonScanKey(b, i); err != nil {
						return i, err
					}
				}
				break
			}
			if (isObj && c == '}') || (!isObj && c == ']') {
				depth--
				i++
				continue
			}
			return i, jsonSyntaxErr(b, i)
		}
	}
}

// jsonScanKey scans `"key" :` and the whitespace after the colon, starting
// at b[i], and returns the offset of the member value.
func jsonScanKey(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return i, jsonSyntaxErr(b, i)
	}
	end, _, err := jsonScanString(b, i)
	if err != nil {
		return end, err
	}
	i = jsonSkipWS(b, end)
	if i >= len(b) || b[i] != ':' {
		return i, jsonSyntaxErr(b, i)
	}
	return jsonSkipWS(b, i+1), nil
}

func jsonSyntaxErr(b []byte, i int) error {
	if i >= len(b) {
		return protoErr(CodeBadJSON, "unexpected end of frame")
	}
	return protoErr(CodeBadJSON, "unexpected byte at offset "+strconv.Itoa(i))
}

// jsonSkipWS returns the offset of the first byte at or after i that is not
// JSON whitespace (space, tab, LF, CR).
func jsonSkipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// jsonScanString validates the string starting at b[i] == '"' and returns
// the offset just past its closing quote and whether it holds escapes.
// Raw control characters, bad escapes and invalid UTF-8 are errors.
func jsonScanString(b []byte, i int) (end int, esc bool, err error) {
	i++
	for {
		// Fast path: eight plain bytes at a time.
		for i+8 <= len(b) && jsonPlain[b[i]] && jsonPlain[b[i+1]] && jsonPlain[b[i+2]] && jsonPlain[b[i+3]] &&
			jsonPlain[b[i+4]] && jsonPlain[b[i+5]] && jsonPlain[b[i+6]] && jsonPlain[b[i+7]] {
			i += 8
		}
		if i >= len(b) {
			return i, esc, protoErr(CodeBadJSON, "unterminated string")
		}
		c := b[i]
		switch {
		case jsonPlain[c]:
			i++
		case c == '"':
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return i, esc, protoErr(CodeBadJSON, "unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || jsonHex4(b[i+2:i+6]) < 0 {
					return i, esc, protoErr(CodeBadJSON, "invalid \\u escape at offset "+strconv.Itoa(i))
				}
				i += 6
			default:
				return i, esc, protoErr(CodeBadJSON, "invalid escape at offset "+strconv.Itoa(i))
			}
		case c < 0x20:
			return i, esc, protoErr(CodeBadJSON, "control character in string at offset "+strconv.Itoa(i))
		default: // c >= 0x80
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return i, esc, protoErr(CodeBadJSON, "invalid UTF-8 at offset "+strconv.Itoa(i))
			}
			i += size
		}
	}
}

// jsonHex4 decodes four hex digits, or returns -1.
func jsonHex4(h []byte) rune {
	var r rune
	for _, c := range h[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// jsonScanNumber scans the number starting at b[i] per RFC 8259:
// -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?
func jsonScanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, false
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = jsonDigits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := jsonDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := jsonDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func jsonDigits(b []byte, i int) int {
	for i < len(b) && b[i]-'0' <= 9 {
		i++
	}
	return i
}

// Top-level member keys that Parse interprets.
const (
	jsonKeyOther = iota
	jsonKeyType
	jsonKeyData
	jsonKeyID
	jsonKeyReplyTo
	jsonKeyError
)

// jsonKeyMax is the length of the longest interpreted key, "replyTo".
const jsonKeyMax = 7

// jsonKeyKind classifies the raw key (between the quotes, already
// validated), comparing after unescaping.
func jsonKeyKind(key []byte, esc bool) int {
	if esc {
		// Each escape is at most 6 bytes (12 for a surrogate pair, which
		// unescapes to 4 bytes): a longer raw key unescapes too long.
		if len(key) > 6*jsonKeyMax {
			return jsonKeyOther
		}
		var buf [jsonKeyMax + utf8.UTFMax]byte
		out, ok := jsonUnescape(buf[:0], key, jsonKeyMax)
		if !ok {
			return jsonKeyOther
		}
		key = out
	}
	switch string(key) {
	case "type":
		return jsonKeyType
	case "data":
		return jsonKeyData
	case "id":
		return jsonKeyID
	case "replyTo":
		return jsonKeyReplyTo
	case "error":
		return jsonKeyError
	}
	return jsonKeyOther
}

// jsonCorrelationID decodes the value of an "id" or "replyTo" member: a
// validated JSON value that must be an integer in 1..4294967295 without
// sign, fraction or exponent (valid JSON has no leading zeros).
func jsonCorrelationID(v []byte, name string) (uint32, error) {
	if len(v) == 0 || len(v) > 10 || v[0] < '1' || v[0] > '9' {
		return 0, protoErr(CodeNotEnvelope, "member "+name+" is not an integer in 1..4294967295")
	}
	var n uint64
	for _, c := range v {
		if c-'0' > 9 {
			return 0, protoErr(CodeNotEnvelope, "member "+name+" is not an integer in 1..4294967295")
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<32-1 {
		return 0, protoErr(CodeNotEnvelope, "member "+name+" is not an integer in 1..4294967295")
	}
	return uint32(n), nil
}

// jsonUnescape appends the unescaped form of raw, the validated bytes
// between the quotes of a JSON string, to dst. It stops and returns false
// as soon as more than maxLen bytes have been written beyond len(dst),
// writing at most maxLen+utf8.UTFMax of them. Escaped surrogate pairs become
// one character; a lone surrogate becomes U+FFFD.
func jsonUnescape(dst, raw []byte, maxLen int) ([]byte, bool) {
	base := len(dst)
	for i := 0; i < len(raw); {
		if len(dst)-base > maxLen {
			return dst, false
		}
		// Copy a run of plain bytes, never more than one byte past maxLen.
		j, limit := i, i+maxLen+1-(len(dst)-base)
		for j < len(raw) && j < limit && raw[j] != '\\' {
			j++
		}
		if j > i {
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		// raw[i] == '\\'; validated, so the escape is complete.
		var r rune
		switch raw[i+1] {
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			r = jsonHex4(raw[i+2:])
			i += 4
			if utf8.RuneLen(r) < 0 { // a surrogate
				r2 := rune(-1)
				if r < 0xdc00 && i+8 <= len(raw) && raw[i+2] == '\\' && raw[i+3] == 'u' {
					r2 = jsonHex4(raw[i+4:])
				}
				if r2 >= 0xdc00 && r2 <= 0xdfff {
					r = 0x10000 + (r-0xd800)<<10 + (r2 - 0xdc00)
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
		default: // '"', '\\', '/'
			r = rune(raw[i+1])
		}
		i += 2
		dst = utf8.AppendRune(dst, r)
	}
	if len(dst)-base > maxLen {
		return dst, false
	}
	return dst, true
}

// UnescapeJSONString appends the value of the JSON string token raw
// (including its quotes, surrounding JSON whitespace allowed, for example a
// JSONEvent.Data holding a string) to dst and returns the extended slice.
// Escaped surrogate pairs become one character and lone surrogates U+FFFD.
// A raw that is not exactly one valid JSON string, or that holds invalid
// UTF-8, is a *ProtocolError wrapping ErrBadJSON, and dst is returned
// unchanged. It allocates only when dst lacks capacity; safe for concurrent
// use with distinct dst slices.
func UnescapeJSONString(dst, raw []byte) ([]byte, error) {
	i := jsonSkipWS(raw, 0)
	if i >= len(raw) || raw[i] != '"' {
		return dst, jsonSyntaxErr(raw, i)
	}
	end, _, err := jsonScanString(raw, i)
	if err != nil {
		return dst, err
	}
	if e := jsonSkipWS(raw, end); e != len(raw) {
		return dst, jsonSyntaxErr(raw, e)
	}
	out, _ := jsonUnescape(dst, raw[i+1:end-1], len(raw))
	return out, nil
}

// DecodeData unmarshals e.Data into v with encoding/json, numbers as
// json.Number (UseNumber) so that integers beyond 2^53 and -0 keep their
// digits. It allocates and is meant for convenience, not the hot path. When
// the frame had no "data" member (e.Data is nil) v is left untouched and
// DecodeData returns nil, as a node-ipc handler then gets undefined. Errors
// come from encoding/json. e.Data is not retained after the call.
func (e JSONEvent) DecodeData(v any) error {
	if e.Data == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(e.Data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("frame: decode JSON event data: %w", err)
	}
	return nil
}

// ValidJSON reports whether b is exactly one JSON value (RFC 8259; leading
// and trailing whitespace allowed) that a JSONParser with default options
// accepts as data: strings must be valid UTF-8 and nesting at most
// DefaultMaxJSONDepth deep. It does not allocate, and is several times
// faster than encoding/json.Valid; goipc's senders use it so that what
// they send is what a goipc receiver takes.
func ValidJSON(b []byte) bool {
	var p JSONParser
	i := jsonSkipWS(b, 0)
	end, err := p.scanValue(b, i, DefaultMaxJSONDepth)
	if err != nil {
		return false
	}
	return jsonSkipWS(b, end) == len(b)
}
