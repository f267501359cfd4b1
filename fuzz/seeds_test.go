package fuzz

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	goipc "github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/frame"
)

// liveSeed is a seed of the FuzzLiveServer targets.
type liveSeed struct {
	data   []byte
	cuts   []byte
	linger bool
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// lf4 frames p with the default 4-byte big-endian length, without limit
// checks, so seeds can also be oversized.
func lf4(p []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...)
}

func eventFrame(name string, flags frame.Flags, id uint32, data []byte) []byte {
	return lf4(must(frame.AppendEvent(nil, name, flags, id, data)))
}

// compressedFrame is a compressed envelope whose declared raw length is
// rawLen (the real one when rawLen < 0).
func compressedFrame(algo frame.Compression, name string, data []byte, rawLen int) []byte {
	c, err := frame.NewCompressor(algo, 1)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	env := must(c.AppendEvent(nil, name, 0, 0, data))
	ev, err := frame.ParseEvent(env)
	if err != nil || ev.Flags.Compression() == frame.None {
		panic(fmt.Sprintf("seed did not compress: %v", err))
	}
	if rawLen >= 0 {
		// The declared length sits right before the compressed data.
		at := len(env) - len(ev.Data) - 4
		binary.BigEndian.PutUint32(env[at:], uint32(rawLen))
	}
	return lf4(env)
}

var garbage = []byte("\x00\xff\x13\x37\xde\xad\xbe\xef\x0c\x0c{\"type\"\x80\x81\x00\x00\x00\x02\x01")

// cutsEvery are cuts that split at every byte; cutsPaused pause too.
var (
	cutsEvery  = []byte{0}
	cutsPaused = []byte{0x80 | 2, 0x80 | 5, 0x80 | 1, 0x80 | 7}
	cutsOdd    = []byte{2, 0, 6, 126, 3}
)

func liveSeeds(mode goipc.Mode) []liveSeed {
	var seeds []liveSeed
	add := func(data []byte, cuts []byte, linger bool) {
		seeds = append(seeds, liveSeed{data, cuts, linger})
	}
	addAll := func(data []byte) {
		add(data, nil, false)
		add(data, cutsOdd, false)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1024)
	switch mode {
	case goipc.ModeEvent:
		hello := eventFrame("message", 0, 0, []byte("hello"))
		req := eventFrame("sum", frame.FlagRequest|frame.FlagJSON, 7, []byte("[1,2,3]"))
		addAll(hello)
		add(hello, cutsEvery, false)
		add(cat(hello, req, eventFrame("", 0, 0, nil), eventFrame("sum", frame.FlagReply, 7, []byte("6"))), cutsPaused, false)
		addAll(eventFrame("sum", frame.FlagReply|frame.FlagError, 1, []byte("boom")))
		addAll(eventFrame(string(bytes.Repeat([]byte("n"), 255)), 0, 0, big))
		// A request without an id flag's id, reserved flags, a bad version.
		addAll(lf4([]byte{1, byte(frame.FlagRequest | frame.FlagReply), 1, 'x', 0, 0, 0, 1}))
		addAll(lf4([]byte{1, 0xC0, 1, 'x'}))
		addAll(lf4([]byte{2, 0, 1, 'x'}))
		addAll(lf4([]byte{1, 0, 200, 'x'})) // name longer than the frame
		addAll(lf4(nil))                    // empty envelope
		// Oversized length prefixes: all ones, one past the max, the max.
		addAll([]byte{0xFF, 0xFF, 0xFF, 0xFF})
		addAll(binary.BigEndian.AppendUint32(nil, liveMaxFrame-3))
		add(binary.BigEndian.AppendUint32(nil, liveMaxFrame-4), nil, true) // stall inside a max frame
		// Truncated frames, lingering or not.
		add(hello[:len(hello)-1], nil, false)
		add(hello[:len(hello)-1], nil, true)
		add(cat(hello, req[:3]), cutsOdd, true)
		// Compressed envelopes: valid, with declared sizes too small, too
		// large, past the limit, and a bomb past the limit.
		text := bytes.Repeat([]byte("compressible "), 100)
		zeros := make([]byte, liveMaxFrame+1)
		for _, algo := range []frame.Compression{frame.S2, frame.Zstd} {
			addAll(compressedFrame(algo, "z", text, -1))
			addAll(compressedFrame(algo, "z", text, len(text)-1))
			addAll(compressedFrame(algo, "z", text, len(text)+1))
			addAll(compressedFrame(algo, "z", text, 1<<31))
			addAll(compressedFrame(algo, "bomb", zeros, -1))
			addAll(cat(compressedFrame(algo, "z", text, -1), hello))
			// Valid, but its echo is larger than the max frame: refused by
			// the echo, the connection goes on.
			addAll(cat(compressedFrame(algo, "z", zeros[:liveMaxFrame], -1), hello))
		}
		addAll(lf4([]byte{1, byte(frame.FlagS2), 1, 'x', 0, 0, 0, 5, 0xff, 0xff}))
		addAll(lf4([]byte{1, byte(frame.FlagZstd), 1, 'x', 0, 0, 0, 5, 0x28, 0xb5, 0x2f, 0xfd}))
		addAll(cat(hello, garbage, hello))
	case goipc.ModeLength:
		addAll(lf4([]byte("hello")))
		add(lf4([]byte("hello")), cutsEvery, false)
		addAll(cat(lf4(nil), lf4([]byte("a")), lf4(big)))
		add(cat(lf4([]byte("x")), lf4([]byte("yz"))), cutsPaused, false)
		addAll(lf4(make([]byte, liveMaxFrame-4))) // the largest frame
		addAll(lf4(make([]byte, liveMaxFrame-3))) // one past it
		addAll([]byte{0xFF, 0xFF, 0xFF, 0xFF})
		addAll([]byte{0x80, 0, 0, 0})
		add(lf4([]byte("hello"))[:6], nil, false)
		add(lf4([]byte("hello"))[:6], nil, true)
		add([]byte{0, 0}, nil, true) // inside the length field
		add(binary.BigEndian.AppendUint32(nil, liveMaxFrame-4), nil, true)
		addAll(cat(lf4([]byte("ok")), garbage))
	case goipc.ModeJSON:
		ev := func(s string) []byte { return []byte(s + "\f") }
		msg := ev(`{"type":"message","data":{"id":"world","message":"hello"}}`)
		addAll(msg)
		add(msg, cutsEvery, false)
		add(cat(msg, ev(`{"type":"sum","data":[1,2],"id":1}`), ev(`{"type":"sum","data":3,"replyTo":9}`), ev(`{"type":"x"}`)), cutsPaused, false)
		addAll(ev(`{"type":"sum","data":{},"replyTo":1,"error":"not a number"}`))
		addAll(ev(`{"type":"a\u2028b\"","data":"\u000c\\f"}`))
		addAll(ev(`{"type":"` + string(bytes.Repeat([]byte("t"), 255)) + `","data":"` + string(big) + `"}`))
		// Not envelopes, reserved and empty names, bad members.
		for _, s := range []string{`[1,2]`, `"x"`, `{}`, `{"data":1}`, `{"type":1}`, `{"type":"connect"}`,
			`{"type":"disconnect","data":{}}`, `{"type":""}`, `{"type":"x","id":0}`, `{"type":"x","id":1,"replyTo":1}`,
			`{"type":"x","error":"e"}`, `{"type":"x","data":01}`, "{\"type\":\"\xff\"}", `{"type":"x","data":` + string(bytes.Repeat([]byte("["), 200)) + `}`,
			`{"type":"` + string(bytes.Repeat([]byte("t"), 256)) + `"}`, "", " ", `{"type":"x"`} {
			addAll(ev(s))
			addAll(cat(ev(s), msg))
		}
		// Truncated, lingering, no delimiter within the max.
		add(msg[:len(msg)-1], nil, false)
		add(msg[:len(msg)-1], nil, true)
		add(cat(msg, msg[:10]), cutsOdd, true)
		addAll(bytes.Repeat([]byte("x"), liveMaxFrame+1))
		add(bytes.Repeat([]byte("x"), liveMaxFrame-1), nil, true)
		addAll(cat(msg, garbage, msg))
	case goipc.ModeRaw:
		addAll([]byte("hello"))
		add([]byte("hello, raw world"), cutsEvery, false)
		add([]byte("paused chunks of a raw stream"), cutsPaused, false)
		addAll(big)
		addAll(bytes.Repeat([]byte{0xAB}, liveMaxFrame+100))
		addAll(garbage)
		add([]byte("lingering raw bytes are not a partial frame"), nil, true)
	}
	add(nil, nil, false)
	add(nil, nil, true)
	add(garbage, cutsEvery, false)
	return seeds
}

// ---------------------------------------------------------------------------
// Seed corpus files

// fzQuote renders one fuzz argument in the "go test fuzz v1" format.
func fzQuote(v any) string {
	switch v := v.(type) {
	case []byte:
		return "[]byte(" + strconv.Quote(string(v)) + ")"
	case bool:
		return "bool(" + strconv.FormatBool(v) + ")"
	}
	panic(fmt.Sprintf("fzQuote: %T", v))
}

// corpusMaxSeed leaves the largest seeds to f.Add: the stored files stay
// small.
const corpusMaxSeed = 4 << 10

// TestFuzzWriteCorpus writes the seeds of every target (those up to
// corpusMaxSeed bytes) to testdata/fuzz/<FuzzName>/seed-NNN when run with
// -fz.writecorpus.
func TestFuzzWriteCorpus(t *testing.T) {
	if !*fzWriteCorpus {
		t.Skip("run with -fz.writecorpus to regenerate testdata/fuzz")
	}
	all := map[string][][]any{}
	for name, mode := range map[string]goipc.Mode{
		"FuzzLiveServerEvent": goipc.ModeEvent, "FuzzLiveServerLength": goipc.ModeLength,
		"FuzzLiveServerJSON": goipc.ModeJSON, "FuzzLiveServerRaw": goipc.ModeRaw,
	} {
		for _, s := range liveSeeds(mode) {
			if len(s.data) <= corpusMaxSeed {
				all[name] = append(all[name], []any{s.data, s.cuts, s.linger})
			}
		}
	}
	for _, s := range streamSeeds() {
		if len(s) <= corpusMaxSeed {
			all["FuzzEnvelopeStream"] = append(all["FuzzEnvelopeStream"], []any{s})
		}
	}
	for name, seeds := range all {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range seeds {
			var b bytes.Buffer
			b.WriteString("go test fuzz v1\n")
			for _, v := range s {
				b.WriteString(fzQuote(v) + "\n")
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%03d", i)), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
