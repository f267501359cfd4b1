package frame

import (
	"bytes"
	"encoding/json"
	"errors"
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
	} {
		add([]byte(s))
	}
}

func FuzzJSONParse(f *testing.F) {
	jsonAddSeeds(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, frame []byte) {
		p := JSONParser{Options: JSONOptions{MaxTypeLen: 1 << 20, AllowEmptyType: true}}
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
		jsonCheckOracle(t, &p, frame)
		// Re-encode and re-parse: the same type and data come back.
		typ, data := string(ev.Type), bytes.Clone(ev.Data)
		out := AppendJSONEvent(nil, typ, data)
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
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		if len(data) > 0 && (!json.Valid(data) || !utf8.Valid(data)) {
			// Not JSON, or JSON that Parse refuses for invalid UTF-8
			// (documented): carry it as a JSON string instead.
			data = AppendJSONString(nil, string(data))
		}
		frame := AppendJSONEvent(nil, typ, data)
		if bytes.IndexByte(frame, 0x0C) >= 0 {
			t.Fatalf("frame %q holds the delimiter", frame)
		}
		if !json.Valid(frame) {
			t.Fatalf("frame %q is not valid JSON", frame)
		}
		p := JSONParser{Options: JSONOptions{MaxTypeLen: 1 << 20, AllowEmptyType: true, MaxDepth: 20000}}
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
		// encoding/json agrees on the type.
		var m struct {
			Type *string `json:"type"`
		}
		if err := json.Unmarshal(frame, &m); err != nil || m.Type == nil || *m.Type != string(ev.Type) {
			t.Fatalf("encoding/json reads type %v, %v; Parse %q", m.Type, err, ev.Type)
		}
	})
}
