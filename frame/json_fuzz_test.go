package frame

import (
	"bytes"
	"encoding/json"
	"errors"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// jsonAddSeeds adds the node-ipc frames in testdata/json (written by
// JSON.stringify({type, data}) in Node 20, as node-ipc's Parser.encode does)
// and a few hand-made edge cases.
func jsonAddSeeds(f *testing.F, add func([]byte)) {
	files, err := filepath.Glob(filepath.Join("testdata", "json", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	if len(files) == 0 {
		f.Fatal("no seed frames in testdata/json")
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
	for _, s := range []string{
		` {"data":[1,{"a":null}],"t\u0079pe":"x","type":"y"} `,
		`{"type":"\ud800\udc00\ud800"}`,
		`{"type":1,"type":"a","data":-0.0e-0}`,
		`[[[[]]]]`, `"x"`, `{}`, `{"type":"a","data":01}`,
		`{"type":"sum","data":[1,2,3],"id":1}`,
		`{"type":"sum","data":6,"replyTo":4294967295}`,
		`{"type":"sum","data":{},"replyTo":1,"error":"not \u0061 number\n"}`,
		`{"id":1,"replyTo":2,"type":"a"}`, `{"type":"a","id":4294967296}`, `{"type":"a","id":1.0}`,
		`{"type":"a","error":"e"}`, `{"type":"a","replyTo":1,"error":null}`, `{"type":"a","r\u0065plyTo":1,"error":""}`,
	} {
		add([]byte(s))
	}
}

func FuzzJSONParse(f *testing.F) {
	jsonAddSeeds(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, frame []byte) {
		p := JSONParser{Options: JSONOptions{MaxTypeLen: 1 << 20, MaxErrorLen: 1 << 20, AllowEmptyType: true}}
		orig := bytes.Clone(frame)
		ev, err := p.Parse(frame)
		if !bytes.Equal(frame, orig) {
			t.Fatal("Parse modified its input")
		}
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ProtocolError", err)
			}
			if errors.Is(err, ErrNotEnvelope) && !json.Valid(frame) {
				t.Fatalf("ErrNotEnvelope for invalid JSON %q", frame)
			}
			return
		}
		if !json.Valid(frame) {
			t.Fatalf("Parse accepted %q, json.Valid rejects it", frame)
		}
		if ev.Data != nil && !json.Valid(ev.Data) {
			t.Fatalf("Data %q is not valid JSON", ev.Data)
		}
		if ev.ID != 0 && ev.ReplyTo != 0 {
			t.Fatalf("both ID %d and ReplyTo %d", ev.ID, ev.ReplyTo)
		}
		if ev.Error != nil && (ev.ReplyTo == 0 || !utf8.Valid(ev.Error)) {
			t.Fatalf("Error %q with ReplyTo %d", ev.Error, ev.ReplyTo)
		}
		jsonCheckOracle(t, &p, frame)
		// Re-encode and re-parse: the same type, data, id, replyTo and
		// error come back. An "error":"" cannot be re-encoded (an empty
		// errMsg means success) and comes back as no error.
		typ, data := string(ev.Type), bytes.Clone(ev.Data)
		id, replyTo, errMsg := ev.ID, ev.ReplyTo, string(ev.Error)
		var out []byte
		switch {
		case id != 0:
			out = AppendJSONRequest(nil, typ, id, data)
		case replyTo != 0:
			out = AppendJSONReply(nil, typ, replyTo, data, errMsg)
		default:
			out = AppendJSONEvent(nil, typ, data)
		}
		if bytes.IndexByte(out, 0x0C) >= 0 {
			t.Fatalf("encoded frame %q holds the delimiter", out)
		}
		ev2, err := p.Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if string(ev2.Type) != typ {
			t.Fatalf("type %q re-parsed as %q", typ, ev2.Type)
		}
		if data != nil && !bytes.Equal(ev2.Data, data) {
			t.Fatalf("data %q re-parsed as %q", data, ev2.Data)
		}
		if data == nil && string(ev2.Data) != "{}" {
			t.Fatalf("absent data re-encoded as %q", ev2.Data)
		}
		if ev2.ID != id || ev2.ReplyTo != replyTo || string(ev2.Error) != errMsg || (ev2.Error != nil) != (errMsg != "") {
			t.Fatalf("id %d replyTo %d error %q re-parsed as %d %d %q", id, replyTo, errMsg, ev2.ID, ev2.ReplyTo, ev2.Error)
		}
		// The escaper's output parses back to the same string.
		if s, err := UnescapeJSONString(nil, AppendJSONString(nil, typ)); err != nil || string(s) != typ {
			t.Fatalf("AppendJSONString(%q) unescapes to %q, %v", typ, s, err)
		}
	})
}

func FuzzJSONRoundTrip(f *testing.F) {
	f.Add("hello", []byte(`{"msg":"hi","n":1}`))
	f.Add("", []byte(nil))
	f.Add("\x00\x1f\x7f\"\\\u2028\u2029<>&\f", []byte(`[1,-0,1e21,5e-324]`))
	f.Add("bad\xff\xe2\x82utf8", []byte("not json \xff"))
	f.Add("\U0001f600", []byte(" \t{ \"a\" : [ ] }\n"))
	f.Add("sum", []byte(`[1,2,3]`))
	f.Add("not a \"number\"\n\xff\u2028", []byte(nil))
	// The signature stays (typ, data) so that the stored corpus keeps
	// loading; requests and replies are derived from the same inputs.
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		if len(data) > 0 && (!json.Valid(data) || !utf8.Valid(data)) {
			// Not JSON, or JSON that Parse refuses for invalid UTF-8
			// (documented): carry it as a JSON string instead.
			data = AppendJSONString(nil, string(data))
		}
		// Each input is sent as an event, a request, a reply and an error
		// reply whose message is typ; the id is derived from the input
		// and also takes the extremes 1 and 4294967295.
		h := fnv.New32a()
		h.Write([]byte(typ))
		h.Write(data)
		derived := h.Sum32()
		if derived == 0 {
			derived = 1
		}
		p := JSONParser{Options: JSONOptions{MaxTypeLen: 1 << 20, MaxErrorLen: 1 << 20, AllowEmptyType: true, MaxDepth: 20000}}
		for _, id := range []uint32{derived, 1, math.MaxUint32} {
			for kind := range 4 {
				jsonRoundTrip(t, &p, typ, data, kind, id)
			}
		}
	})
}

// jsonRoundTrip encodes typ and data (valid JSON or empty) as an event
// (kind 0), a request with id (1), a reply to id (2) or an error reply to
// id with message typ (3), and checks that Parse gives them back.
func jsonRoundTrip(t *testing.T, p *JSONParser, typ string, data []byte, kind int, id uint32) {
	t.Helper()
	var frame []byte
	var wantID, wantReply uint32
	var wantErr []byte
	switch kind {
	case 0:
		frame = AppendJSONEvent(nil, typ, data)
	case 1:
		frame, wantID = AppendJSONRequest(nil, typ, id, data), id
	case 2:
		frame, wantReply = AppendJSONReply(nil, typ, id, data, ""), id
	default:
		frame, wantReply = AppendJSONReply(nil, typ, id, data, typ), id
		if typ != "" {
			// Each invalid UTF-8 byte becomes U+FFFD.
			wantErr = []byte(string([]rune(typ)))
		}
	}
	if bytes.IndexByte(frame, 0x0C) >= 0 {
		t.Fatalf("frame %q holds the delimiter", frame)
	}
	if !json.Valid(frame) {
		t.Fatalf("frame %q is not valid JSON", frame)
	}
	ev, err := p.Parse(frame)
	if err != nil {
		t.Fatalf("Parse(%q): %v", frame, err)
	}
	// Each invalid UTF-8 byte of typ becomes U+FFFD: exactly what
	// converting to []rune does.
	if want := string([]rune(typ)); string(ev.Type) != want {
		t.Fatalf("type %q came back as %q, want %q", typ, ev.Type, want)
	}
	want := bytes.Trim(data, " \t\r\n")
	if len(data) == 0 {
		want = []byte("{}")
	}
	if !bytes.Equal(ev.Data, want) {
		t.Fatalf("data %q came back as %q", want, ev.Data)
	}
	if ev.ID != wantID || ev.ReplyTo != wantReply || !bytes.Equal(ev.Error, wantErr) || (ev.Error == nil) != (wantErr == nil) {
		t.Fatalf("kind %d id %d: %q came back as id %d replyTo %d error %q", kind, id, frame, ev.ID, ev.ReplyTo, ev.Error)
	}
	// encoding/json agrees on the type.
	var m struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(frame, &m); err != nil || m.Type == nil || *m.Type != string(ev.Type) {
		t.Fatalf("encoding/json reads type %v, %v; Parse %q", m.Type, err, ev.Type)
	}
	jsonCheckOracle(t, p, frame)
}
