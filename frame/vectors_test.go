package frame_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// The wire-format test vectors in ../testdata/vectors are shared with
// other implementations (the C peer in c/); docs/PROTOCOL.md ("Test
// vectors") describes their format. These tests check the Go codecs against
// every record, through the []byte API and through a stream Decoder fed one
// byte at a time.

const vecDir = "../testdata/vectors"

// vecRecord is one record of a vectors file: its key/value lines.
type vecRecord struct {
	file string
	line int // line of the record's first key
	kv   map[string]string
}

func (r vecRecord) String() string { return r.file + ":" + strconv.Itoa(r.line) }

func (r vecRecord) has(key string) bool { _, ok := r.kv[key]; return ok }

// vecLoad parses a vectors file and fails the test if it is missing, holds
// no records, or has a key outside allowed.
func vecLoad(t *testing.T, name string, allowed ...string) []vecRecord {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vecDir, name))
	if err != nil {
		t.Fatalf("vectors file: %v", err)
	}
	ok := map[string]bool{}
	for _, k := range allowed {
		ok[k] = true
	}
	var recs []vecRecord
	var cur *vecRecord
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, " \t\r")
		switch {
		case strings.HasPrefix(line, "#"):
			continue
		case line == "":
			cur = nil
			continue
		}
		key, val, found := strings.Cut(line, ":")
		if !found || key == "" || strings.Trim(key, "abcdefghijklmnopqrstuvwxyz_") != "" {
			t.Fatalf("%s:%d: not a key: value line: %q", name, i+1, line)
		}
		if !ok[key] {
			t.Fatalf("%s:%d: unknown key %q", name, i+1, key)
		}
		if cur == nil {
			recs = append(recs, vecRecord{file: name, line: i + 1, kv: map[string]string{}})
			cur = &recs[len(recs)-1]
		}
		if _, dup := cur.kv[key]; dup {
			t.Fatalf("%s:%d: key %q repeated in one record", name, i+1, key)
		}
		cur.kv[key] = strings.TrimSpace(val)
	}
	if len(recs) == 0 {
		t.Fatalf("%s: no records", name)
	}
	return recs
}

func vecHex(t *testing.T, r vecRecord, key string) []byte {
	t.Helper()
	v, ok := r.kv[key]
	if !ok {
		t.Fatalf("%v: missing %q", r, key)
	}
	b, err := hex.DecodeString(strings.ReplaceAll(v, " ", ""))
	if err != nil {
		t.Fatalf("%v: %s: %v", r, key, err)
	}
	return b
}

func vecNum(t *testing.T, r vecRecord, key string, def int) int {
	t.Helper()
	v, ok := r.kv[key]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%v: %s: %v", r, key, err)
	}
	return n
}

// vecKind classifies a record by its keys.
func vecKind(t *testing.T, r vecRecord) string {
	t.Helper()
	switch {
	case r.has("error"):
		return "error"
	case r.has("need"):
		return "need"
	case r.has("encode_error"):
		return "encode_error"
	case r.has("wire"):
		return "valid"
	}
	t.Fatalf("%v: record of no known kind", r)
	return ""
}

func vecEncode(r vecRecord) bool { return r.kv["dir"] != "decode" }
func vecDecode(r vecRecord) bool { return r.kv["dir"] != "encode" }

// vecWantCode checks that err is a *frame.ProtocolError with code want.
func vecWantCode(t *testing.T, r vecRecord, err error, want int) {
	t.Helper()
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) {
		t.Errorf("%v: err = %v, want a *ProtocolError with code %d", r, err, want)
		return
	}
	if int(pe.Code) != want {
		t.Errorf("%v: code %d (%v), want %d", r, pe.Code, err, want)
	}
}

// vecWantSentinel checks an encoding error against the sentinel of code
// want (encoders return the sentinels, not ProtocolErrors).
func vecWantSentinel(t *testing.T, r vecRecord, err error, want int) {
	t.Helper()
	s := (&frame.ProtocolError{Code: frame.Code(want)}).Unwrap()
	if s == nil {
		t.Fatalf("%v: unknown code %d", r, want)
	}
	if !errors.Is(err, s) {
		t.Errorf("%v: err = %v, want %v", r, err, s)
	}
}

// vecStream decodes wire with a stream Decoder over a bufio.Reader that
// gets one byte per read, for two buffer sizes (16 forces frames through
// the Decoder's assembly buffer). check sees the first Next result; on
// success the next Next must report io.EOF.
func vecStream(t *testing.T, r vecRecord, codec frame.Codec, wire []byte, check func(p []byte, err error)) {
	t.Helper()
	for _, size := range []int{16, 4096} {
		br := bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(wire)), size)
		d := frame.NewDecoder(br, codec)
		p, err := d.Next()
		check(p, err)
		if err == nil {
			if _, err := d.Next(); err != io.EOF {
				t.Errorf("%v: stream (buffer %d): after the frame: %v, want io.EOF", r, size, err)
			}
		}
	}
}

func vecStreamValid(t *testing.T, r vecRecord, codec frame.Codec, wire, payload []byte) {
	t.Helper()
	vecStream(t, r, codec, wire, func(p []byte, err error) {
		if err != nil || !bytes.Equal(p, payload) {
			t.Errorf("%v: stream decode = %x, %v; want %x", r, p, err, payload)
		}
	})
}

// vecCheckCodec runs the framing checks shared by lengthfield.txt and
// delimiter.txt.
func vecCheckCodec(t *testing.T, r vecRecord, codec frame.Codec) {
	t.Helper()
	switch vecKind(t, r) {
	case "valid":
		payload, wire := vecHex(t, r, "payload"), vecHex(t, r, "wire")
		if vecEncode(r) {
			got, err := codec.Append(nil, payload)
			if err != nil || !bytes.Equal(got, wire) {
				t.Errorf("%v: encode = %x, %v; want %x", r, got, err, wire)
			}
			prefix := []byte{0xee, 0xee}
			got, err = codec.Append(prefix, payload)
			if err != nil || !bytes.Equal(got, append(prefix, wire...)) {
				t.Errorf("%v: encode after 2 bytes = %x, %v", r, got, err)
			}
		}
		if vecDecode(r) {
			p, n, err := codec.Parse(wire)
			if err != nil || n != len(wire) || !bytes.Equal(p, payload) {
				t.Errorf("%v: decode = %x, %d, %v; want %x, %d", r, p, n, err, payload, len(wire))
			}
			p, n, err = codec.Parse(append(bytes.Clone(wire), 0xaa, 0x0c))
			if err != nil || n != len(wire) || !bytes.Equal(p, payload) {
				t.Errorf("%v: decode with trailing bytes = %x, %d, %v", r, p, n, err)
			}
			vecStreamValid(t, r, codec, wire, payload)
		}
	case "error":
		wire, want := vecHex(t, r, "wire"), vecNum(t, r, "error", 0)
		p, n, err := codec.Parse(wire)
		if p != nil || n != 0 {
			t.Errorf("%v: decode returned a frame: %x, %d", r, p, n)
		}
		vecWantCode(t, r, err, want)
		vecStream(t, r, codec, wire, func(_ []byte, err error) { vecWantCode(t, r, err, want) })
	case "need":
		wire, want := vecHex(t, r, "wire"), vecNum(t, r, "need", 0)
		p, n, err := codec.Parse(wire)
		if p != nil || n != 0 || err != nil {
			t.Errorf("%v: decode = %x, %d, %v; want nil, 0, nil", r, p, n, err)
		}
		if got := codec.Need(wire); got != want || got <= len(wire) {
			t.Errorf("%v: Need = %d, want %d (> %d)", r, got, want, len(wire))
		}
		vecStream(t, r, codec, wire, func(_ []byte, err error) {
			wantErr := io.ErrUnexpectedEOF
			if len(wire) == 0 {
				wantErr = io.EOF
			}
			if err != wantErr {
				t.Errorf("%v: stream decode: %v, want %v", r, err, wantErr)
			}
		})
	case "encode_error":
		payload, want := vecHex(t, r, "payload"), vecNum(t, r, "encode_error", 0)
		dst := []byte{0xee}
		got, err := codec.Append(dst, payload)
		vecWantSentinel(t, r, err, want)
		if !bytes.Equal(got, dst) {
			t.Errorf("%v: failed encode left %x, want %x", r, got, dst)
		}
	}
}

func TestVectorFiles(t *testing.T) {
	want := map[string]bool{"lengthfield.txt": true, "delimiter.txt": true, "envelope.txt": true, "json.txt": true}
	ents, err := os.ReadDir(vecDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".txt") && !want[e.Name()] {
			t.Errorf("%s: vectors file not checked by any test", e.Name())
		}
		delete(want, e.Name())
	}
	for name := range want {
		t.Errorf("%s: vectors file missing", name)
	}
}

func TestVectorLengthField(t *testing.T) {
	recs := vecLoad(t, "lengthfield.txt", "offset", "size", "order", "adjust", "includes_header", "strip", "max",
		"dir", "payload", "wire", "error", "need", "encode_error")
	for _, r := range recs {
		cfg := frame.LengthFieldConfig{
			Offset:         vecNum(t, r, "offset", -1),
			Size:           vecNum(t, r, "size", -1),
			Adjustment:     vecNum(t, r, "adjust", 0),
			IncludesHeader: vecNum(t, r, "includes_header", 0) == 1,
			MaxFrame:       vecNum(t, r, "max", -1),
		}
		switch r.kv["order"] {
		case "be":
		case "le":
			cfg.LittleEndian = true
		default:
			t.Fatalf("%v: order %q", r, r.kv["order"])
		}
		if s := vecNum(t, r, "strip", -1); s == 0 {
			cfg.KeepHeader = true
		} else {
			cfg.Strip = s
		}
		codec, err := frame.NewLengthField(cfg)
		if err != nil {
			t.Errorf("%v: %v", r, err)
			continue
		}
		vecCheckCodec(t, r, codec)
	}
	t.Logf("%d records", len(recs))
}

func TestVectorDelimiter(t *testing.T) {
	recs := vecLoad(t, "delimiter.txt", "delimiter", "max", "dir", "payload", "wire", "error", "need", "encode_error")
	for _, r := range recs {
		codec, err := frame.NewDelimiter(frame.DelimiterConfig{Delimiter: vecHex(t, r, "delimiter"), MaxFrame: vecNum(t, r, "max", -1)})
		if err != nil {
			t.Errorf("%v: %v", r, err)
			continue
		}
		vecCheckCodec(t, r, codec)
	}
	t.Logf("%d records", len(recs))
}

func TestVectorEnvelope(t *testing.T) {
	recs := vecLoad(t, "envelope.txt", "name", "flags", "id", "seq", "payload", "wire", "frame", "compress", "limit",
		"dir", "error", "encode_error")
	lf := frame.MustLengthField(frame.LengthFieldConfig{})
	for _, r := range recs {
		limit := vecNum(t, r, "limit", 0)
		switch vecKind(t, r) {
		case "valid":
			name, payload, wire, fr := vecHex(t, r, "name"), vecHex(t, r, "payload"), vecHex(t, r, "wire"), vecHex(t, r, "frame")
			flags := frame.Flags(vecHex(t, r, "flags")[0])
			id := uint32(vecNum(t, r, "id", 0))
			seq := uint64(vecNum(t, r, "seq", 0))
			if vecEncode(r) {
				var got []byte
				var err error
				if algo := r.kv["compress"]; algo != "" {
					a := map[string]frame.Compression{"s2": frame.S2, "zstd": frame.Zstd}[algo]
					c, cerr := frame.NewCompressor(a, 0)
					if cerr != nil {
						t.Fatalf("%v: %v", r, cerr)
					}
					got, err = c.AppendEventSeq(nil, string(name), flags, id, seq, payload)
					c.Close()
				} else {
					got, err = frame.AppendEventSeq(nil, string(name), flags, id, seq, payload)
				}
				if err != nil || !bytes.Equal(got, wire) {
					t.Errorf("%v: encode = %x, %v; want %x", r, got, err, wire)
				}
				if got, err := lf.Append(nil, wire); err != nil || !bytes.Equal(got, fr) {
					t.Errorf("%v: framed = %x, %v; want %x", r, got, err, fr)
				}
			}
			ev, err := frame.ParseEvent(wire)
			if err != nil {
				t.Errorf("%v: decode: %v", r, err)
				continue
			}
			if ev.Flags != flags || ev.ID != id || ev.Seq != seq || !bytes.Equal(ev.Name, name) {
				t.Errorf("%v: decoded flags %02x id %d seq %d name %x", r, byte(ev.Flags), ev.ID, ev.Seq, ev.Name)
			}
			d := frame.NewDecompressor(limit)
			data, err := d.Data(ev)
			d.Close()
			if err != nil || !bytes.Equal(data, payload) {
				t.Errorf("%v: payload = %x, %v; want %x", r, data, err, payload)
			}
			if ev.Flags.Compression() == frame.None && ev.RawLen != len(payload) {
				t.Errorf("%v: RawLen %d", r, ev.RawLen)
			}
			if p, n, err := lf.Parse(fr); err != nil || n != len(fr) || !bytes.Equal(p, wire) {
				t.Errorf("%v: unframe = %x, %d, %v", r, p, n, err)
			}
			vecStreamValid(t, r, lf, fr, wire)
		case "error":
			wire, want := vecHex(t, r, "wire"), vecNum(t, r, "error", 0)
			ev, err := frame.ParseEvent(wire)
			if err == nil {
				d := frame.NewDecompressor(limit)
				_, err = d.Data(ev)
				d.Close()
			}
			vecWantCode(t, r, err, want)
		case "encode_error":
			name, payload := vecHex(t, r, "name"), vecHex(t, r, "payload")
			flags := frame.Flags(vecHex(t, r, "flags")[0])
			_, err := frame.AppendEvent(nil, string(name), flags, uint32(vecNum(t, r, "id", 0)), payload)
			vecWantSentinel(t, r, err, vecNum(t, r, "encode_error", 0))
		default:
			t.Errorf("%v: unexpected record kind", r)
		}
	}
	t.Logf("%d records", len(recs))
}

// vecUint32 reads a decimal uint32 key, 0 when absent.
func vecUint32(t *testing.T, r vecRecord, key string) uint32 {
	t.Helper()
	v, ok := r.kv[key]
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		t.Fatalf("%v: %s: %v", r, key, err)
	}
	return uint32(n)
}

func TestVectorJSON(t *testing.T) {
	recs := vecLoad(t, "json.txt", "type", "data", "wire", "dir", "error",
		"id", "reply_to", "error_msg", "max_type_len", "max_depth", "max_error_len", "allow_empty_type", "reserved")
	delim := frame.MustDelimiter(frame.DelimiterConfig{})
	for _, r := range recs {
		parser := &frame.JSONParser{Options: frame.JSONOptions{
			MaxTypeLen:     vecNum(t, r, "max_type_len", 0),
			MaxDepth:       vecNum(t, r, "max_depth", 0),
			MaxErrorLen:    vecNum(t, r, "max_error_len", 0),
			AllowEmptyType: vecNum(t, r, "allow_empty_type", 0) == 1,
			Reserved:       strings.Fields(r.kv["reserved"]),
		}}
		wire := vecHex(t, r, "wire")
		switch vecKind(t, r) {
		case "valid":
			typ := vecHex(t, r, "type")
			none := r.kv["data"] == "none"
			var data []byte
			if !none {
				data = vecHex(t, r, "data")
			}
			id, replyTo := vecUint32(t, r, "id"), vecUint32(t, r, "reply_to")
			var errMsg []byte
			if r.has("error_msg") {
				errMsg = vecHex(t, r, "error_msg")
				if errMsg == nil {
					errMsg = []byte{}
				}
			}
			if vecEncode(r) {
				out, mark := delim.Begin(nil)
				switch {
				case id != 0:
					out = frame.AppendJSONRequest(out, string(typ), id, data)
				case replyTo != 0:
					out = frame.AppendJSONReply(out, string(typ), replyTo, data, string(errMsg))
				default:
					out = frame.AppendJSONEvent(out, string(typ), data)
				}
				got, err := delim.End(out, mark)
				if err != nil || !bytes.Equal(got, wire) {
					t.Errorf("%v: encode = %q, %v; want %q", r, got, err, wire)
				}
			}
			if vecDecode(r) {
				p, n, err := delim.Parse(wire)
				if err != nil || n != len(wire) {
					t.Errorf("%v: delimiter: %d, %v", r, n, err)
					continue
				}
				ev, err := parser.Parse(p)
				if err != nil {
					t.Errorf("%v: decode: %v", r, err)
					continue
				}
				if !bytes.Equal(ev.Type, typ) || !bytes.Equal(ev.Data, data) || (ev.Data == nil) != none {
					t.Errorf("%v: decoded type %q data %q, want %q %q (none %v)", r, ev.Type, ev.Data, typ, data, none)
				}
				if ev.ID != id || ev.ReplyTo != replyTo || !bytes.Equal(ev.Error, errMsg) || (ev.Error == nil) != (errMsg == nil) {
					t.Errorf("%v: decoded id %d reply_to %d error_msg %q (nil %v), want %d %d %q (nil %v)",
						r, ev.ID, ev.ReplyTo, ev.Error, ev.Error == nil, id, replyTo, errMsg, errMsg == nil)
				}
				vecStreamValid(t, r, delim, wire, p)
			}
		case "error":
			want := vecNum(t, r, "error", 0)
			p, n, err := delim.Parse(wire)
			if err != nil || n != len(wire) {
				t.Errorf("%v: delimiter: %d, %v", r, n, err)
				continue
			}
			_, err = parser.Parse(p)
			vecWantCode(t, r, err, want)
		default:
			t.Errorf("%v: unexpected record kind", r)
		}
	}
	t.Logf("%d records", len(recs))
}
