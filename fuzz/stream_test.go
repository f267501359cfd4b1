package fuzz

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goipc "github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/frame"
)

var (
	fzWriteCorpus = flag.Bool("fz.writecorpus", false, "write the fuzz seed corpora to testdata/fuzz")
	// fzStrict makes the known library bugs (regression_test.go) fail
	// instead of being skipped, and decodes FuzzEnvelopeStream's frames
	// with a goipc receiver's default limits.
	fzStrict = flag.Bool("fz.strict", false, "fail on known library bugs instead of skipping them")
)

// Limits of the FuzzEnvelopeStream endpoints.
const (
	streamMaxFrame  = 64 << 10
	streamLenMax    = 4096 // the length codec's max frame
	streamMaxOps    = 32
	streamBigUnit   = 1 << 10
	streamThreshold = 16 // compression threshold
)

// streamPeer is one goipc Client and the raw socket on the other end,
// where the frame package decodes what the client's encoder wrote.
type streamPeer struct {
	name   string
	mode   goipc.Mode
	fc     frame.Codec
	cl     *goipc.Client
	nc     net.Conn
	frames chan []byte // copies of decoded frames
	errc   chan error  // the decoder's terminal error
	replyC *frame.Compressor
	dec    *frame.Decompressor
	jp     frame.JSONParser
}

func streamEndpoints(tb testing.TB) []*streamPeer {
	tb.Helper()
	dir, err := os.MkdirTemp("", "gofz")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	lenCfg := frame.LengthFieldConfig{Size: 2, LittleEndian: true, MaxFrame: streamLenMax}
	evFC := frame.MustLengthField(frame.LengthFieldConfig{MaxFrame: streamMaxFrame})
	specs := []struct {
		name  string
		codec goipc.Codec
		fc    frame.Codec
		reply frame.Compression
	}{
		{"event", goipc.EventCodec().WithMaxFrame(streamMaxFrame), evFC, frame.None},
		{"event-s2", goipc.EventCodec().WithMaxFrame(streamMaxFrame).WithCompression(frame.S2, streamThreshold), evFC, frame.Zstd},
		{"event-zstd", goipc.EventCodec().WithMaxFrame(streamMaxFrame).WithCompression(frame.Zstd, streamThreshold), evFC, frame.S2},
		{"json", goipc.JSONCodec().WithMaxFrame(streamMaxFrame), frame.MustDelimiter(frame.DelimiterConfig{MaxFrame: streamMaxFrame}), frame.None},
		{"length", goipc.LengthCodec(lenCfg), frame.MustLengthField(lenCfg), frame.None},
	}
	var peers []*streamPeer
	for i, s := range specs {
		path := filepath.Join(dir, fmt.Sprintf("%d.sock", i))
		ln, err := net.Listen("unix", path)
		if err != nil {
			tb.Fatal(err)
		}
		accepted := make(chan net.Conn, 1)
		go func() {
			c, _ := ln.Accept()
			accepted <- c
		}()
		ctx, cancel := context.WithTimeout(context.Background(), liveDeadline)
		cl, err := goipc.Dial(ctx, "unix://"+path, goipc.WithCodec(s.codec))
		cancel()
		if err != nil {
			tb.Fatal(err)
		}
		nc := <-accepted
		ln.Close()
		if nc == nil {
			tb.Fatal("accept failed")
		}
		p := &streamPeer{name: s.name, mode: s.codec.Mode(), fc: s.fc, cl: cl, nc: nc,
			frames: make(chan []byte, 64), errc: make(chan error, 1),
			dec: frame.NewDecompressor(streamMaxFrame)}
		if !*fzStrict {
			// Known bugs (regression_test.go): the encoder sends JSON types
			// and compressed payloads that a goipc receiver with the same
			// codec refuses. Without -fz.strict, decode them with limits
			// wide enough to check the round trip all the same.
			p.dec.Close()
			p.dec = frame.NewDecompressor(1 << 20)
			p.jp.Options = frame.JSONOptions{MaxTypeLen: 1 << 20, AllowEmptyType: true}
		}
		if s.reply != frame.None {
			if p.replyC, err = frame.NewCompressor(s.reply, 1); err != nil {
				tb.Fatal(err)
			}
		}
		go p.read()
		tb.Cleanup(func() {
			nc.Close() // first: the client's graceful close would wait for it
			cl.Close()
			p.dec.Close()
			if p.replyC != nil {
				p.replyC.Close()
			}
		})
		peers = append(peers, p)
	}
	return peers
}

func (p *streamPeer) read() {
	d := frame.NewDecoder(bufio.NewReaderSize(p.nc, 4096), p.fc)
	for {
		f, err := d.Next()
		if err != nil {
			p.errc <- err
			return
		}
		p.frames <- bytes.Clone(f)
	}
}

// next returns the next frame the client wrote.
func (p *streamPeer) next(t *testing.T, what string) []byte {
	t.Helper()
	select {
	case f := <-p.frames:
		return f
	case err := <-p.errc:
		t.Fatalf("%s: %s: the client's byte stream does not decode: %v", p.name, what, err)
	case <-time.After(liveDeadline):
		t.Fatalf("%s: %s: no frame within %v", p.name, what, liveDeadline)
	}
	return nil
}

// streamMsg is one message of a FuzzEnvelopeStream script.
type streamMsg struct {
	peer    int
	request bool
	name    string
	data    []byte
}

// parseScript cuts a script into messages. Each message is
//
//	op    bits 0-2 endpoint (mod 5), bit 3 request, bit 4 a name longer
//	      than 255 bytes, bit 7 a large payload (data repeated to size KiB)
//	nlen  name length, then the name
//	dlen  2 bytes big endian, then up to that many data bytes
//	size  (bit 7 only) 1 to 256 KiB
func parseScript(s []byte, npeers int) []streamMsg {
	next := func() byte {
		if len(s) == 0 {
			return 0
		}
		b := s[0]
		s = s[1:]
		return b
	}
	take := func(n int) []byte {
		n = min(n, len(s))
		b := s[:n]
		s = s[n:]
		return b
	}
	var msgs []streamMsg
	for len(s) > 0 && len(msgs) < streamMaxOps {
		op := next()
		m := streamMsg{peer: int(op&7) % npeers, request: op&8 != 0}
		nl := int(next())
		m.name = string(take(nl))
		if op&0x10 != 0 {
			m.name += strings.Repeat("n", 256-len(m.name)%256+nl)
		}
		dl := int(next())<<8 | int(next())
		m.data = bytes.Clone(take(dl))
		if op&0x80 != 0 && len(m.data) > 0 {
			size := (int(next()) + 1) * streamBigUnit
			m.data = bytes.Repeat(m.data, size/len(m.data)+1)[:size]
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func FuzzEnvelopeStream(f *testing.F) {
	for _, s := range streamSeeds() {
		f.Add(s)
	}
	peers := streamEndpoints(f)
	f.Fuzz(func(t *testing.T, script []byte) {
		used := make([]bool, len(peers))
		for i, m := range parseScript(script, len(peers)) {
			p := peers[m.peer]
			used[m.peer] = true
			p.roundTrip(t, i, m)
		}
		// A sentinel on every endpoint used: whatever was refused left no
		// bytes behind, and the stream is still in sync.
		for i, p := range peers {
			if used[i] {
				p.roundTrip(t, -1, streamMsg{peer: i, name: "sentinel", data: []byte(`"end"`)})
			}
		}
	})
}

// roundTrip sends m through the client and checks what arrives: the same
// message, or nothing when the encoder refused it for a documented reason.
func (p *streamPeer) roundTrip(t *testing.T, i int, m streamMsg) {
	t.Helper()
	what := fmt.Sprintf("message %d (%q, %d data bytes, request %v)", i, trunc(m.name), len(m.data), m.request)
	if p.mode == goipc.ModeLength {
		err := p.cl.Send(m.data)
		if err != nil {
			if !errors.Is(err, frame.ErrFrameTooLarge) || 2+len(m.data) <= streamLenMax {
				t.Fatalf("%s: Send %s = %v", p.name, what, err)
			}
			return
		}
		if got := p.next(t, what); !bytes.Equal(got, m.data) {
			t.Fatalf("%s: %s came back as %d bytes %q", p.name, what, len(got), trunc(string(got)))
		}
		return
	}
	if !m.request {
		if err := p.cl.Emit(m.name, m.data); err != nil {
			p.refused(t, what, m, err)
			return
		}
		p.check(t, what, m, p.next(t, what), false)
		return
	}
	type result struct {
		data []byte
		err  error
	}
	var want []byte
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), liveDeadline)
		defer cancel()
		d, err := p.cl.Request(ctx, m.name, m.data)
		done <- result{d, err}
	}()
	select {
	case r := <-done:
		if r.err == nil {
			t.Fatalf("%s: %s: Request answered %q without a request on the wire", p.name, what, r.data)
		}
		p.refused(t, what, m, r.err)
		return
	case f := <-p.frames:
		id, reply := p.check(t, what, m, f, true)
		if p.mode == goipc.ModeEvent && len(reply) > streamMaxFrame {
			// Only the known compression bug lets such a request through;
			// its echo would exceed what the client may decompress.
			reply = nil
		}
		want = reply
		// The reply's own name is not checked by the client; a fixed one
		// keeps the known JSON type bug (regression_test.go) out of the
		// reply direction.
		if _, err := p.nc.Write(p.replyFrame(t, "reply", id, reply)); err != nil {
			t.Fatalf("%s: writing the reply: %v", p.name, err)
		}
	case err := <-p.errc:
		t.Fatalf("%s: %s: the client's byte stream does not decode: %v", p.name, what, err)
	case <-time.After(liveDeadline):
		t.Fatalf("%s: %s: Request wrote nothing and did not return within %v", p.name, what, liveDeadline)
	}
	r := <-done
	if r.err != nil || !bytes.Equal(r.data, want) {
		t.Fatalf("%s: %s: Request = %q, %v; want %q", p.name, what, trunc(string(r.data)), r.err, trunc(string(want)))
	}
}

// refused checks that a refusal has a documented cause that applies.
func (p *streamPeer) refused(t *testing.T, what string, m streamMsg, err error) {
	t.Helper()
	switch p.mode {
	case goipc.ModeEvent:
		idLen := 0
		if m.request {
			idLen = 4
		}
		switch {
		case errors.Is(err, frame.ErrNameTooLong) && len(m.name) > frame.MaxEventName:
			return
		case errors.Is(err, frame.ErrFrameTooLarge) && 4+frame.EventHeaderLen(len(m.name), 0)+idLen+len(m.data) > streamMaxFrame:
			return
		}
	case goipc.ModeJSON:
		switch {
		case errors.Is(err, goipc.ErrBadJSON) && len(m.data) > 0 && !frame.ValidJSON(m.data):
			return
		case errors.Is(err, frame.ErrBadType) && m.name == "":
			return // a goipc receiver refuses an empty type
		case errors.Is(err, frame.ErrNameTooLong) && len(m.name) > frame.DefaultMaxTypeLen:
			return
		case errors.Is(err, frame.ErrFrameTooLarge) && len(frame.AppendJSONRequest(nil, m.name, 1, m.data))+1 > streamMaxFrame:
			return
		}
	}
	t.Fatalf("%s: %s refused: %v", p.name, what, err)
}

// check decodes frame f, which must carry m; for a request it returns the
// id and the data to answer with.
func (p *streamPeer) check(t *testing.T, what string, m streamMsg, f []byte, request bool) (uint32, []byte) {
	t.Helper()
	if p.mode == goipc.ModeJSON {
		if len(m.data) > 0 && !frame.ValidJSON(m.data) {
			t.Fatalf("%s: %s: invalid JSON data was sent", p.name, what)
		}
		ev, err := p.jp.Parse(f)
		if err != nil {
			t.Fatalf("%s: %s: the frame %q does not parse: %v", p.name, what, trunc(string(f)), err)
		}
		if want := string([]rune(m.name)); string(ev.Type) != want {
			t.Fatalf("%s: %s: type came back as %q", p.name, what, trunc(string(ev.Type)))
		}
		if want := jsonData(m.data); !bytes.Equal(ev.Data, want) {
			t.Fatalf("%s: %s: data came back as %q, want %q", p.name, what, trunc(string(ev.Data)), trunc(string(want)))
		}
		if ev.ReplyTo != 0 || (ev.ID != 0) != request {
			t.Fatalf("%s: %s: id %d replyTo %d", p.name, what, ev.ID, ev.ReplyTo)
		}
		return ev.ID, bytes.Clone(ev.Data)
	}
	ev, err := frame.ParseEvent(f)
	if err != nil {
		t.Fatalf("%s: %s: the envelope does not parse: %v", p.name, what, err)
	}
	data := ev.Data
	if ev.Flags.Compression() != frame.None {
		if data, err = p.dec.Data(ev); err != nil {
			t.Fatalf("%s: %s: the payload does not decompress: %v", p.name, what, err)
		}
	}
	wantFlags := frame.Flags(0)
	if request {
		wantFlags = frame.FlagRequest
	}
	if string(ev.Name) != m.name || !bytes.Equal(data, m.data) || ev.Flags&^(frame.FlagS2|frame.FlagZstd) != wantFlags || (ev.ID != 0) != request {
		t.Fatalf("%s: %s came back as %q flags %#x id %d, %d data bytes (equal %v)", p.name, what, trunc(string(ev.Name)), ev.Flags, ev.ID, len(data), bytes.Equal(data, m.data))
	}
	return ev.ID, bytes.Clone(data)
}

// replyFrame answers request id with data, encoded by the frame package
// (compressed with the endpoint's other algorithm, where it has one).
func (p *streamPeer) replyFrame(t *testing.T, name string, id uint32, data []byte) []byte {
	t.Helper()
	out, mark := p.fc.Begin(nil)
	var err error
	if p.mode == goipc.ModeJSON {
		out = frame.AppendJSONReply(out, name, id, data, "")
	} else {
		out, err = p.replyC.AppendEvent(out, name, frame.FlagReply, id, data)
	}
	if err == nil {
		out, err = p.fc.End(out, mark)
	}
	if err != nil {
		t.Fatalf("%s: encoding the reply: %v", p.name, err)
	}
	return out
}

// jsonData is what the JSON decoder gives back for emitted data.
func jsonData(d []byte) []byte {
	if len(d) == 0 {
		return []byte("{}")
	}
	return bytes.Trim(d, " \t\r\n")
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// streamSeeds builds scripts in parseScript's format.
func streamSeeds() [][]byte {
	msg := func(op byte, name string, data []byte, size ...byte) []byte {
		b := append([]byte{op, byte(len(name))}, name...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
		b = append(b, data...)
		return append(b, size...)
	}
	const (
		ev, s2, zs, js, ln = 0, 1, 2, 3, 4
		req, long, big     = 8, 0x10, 0x80
	)
	text := bytes.Repeat([]byte("compressible "), 8)
	return [][]byte{
		msg(ev, "message", []byte("hello")),
		cat(msg(ev, "a", nil), msg(s2, "b", text), msg(zs, "c", text), msg(js, "d", []byte(`{"x":[1,2]}`)), msg(ln, "", []byte("raw"))),
		cat(msg(ev|req, "sum", []byte("[1,2,3]")), msg(s2|req, "sum", text), msg(zs|req, "sum", text), msg(js|req, "sum", []byte(" [1, 2] "))),
		// Refused: long names, invalid JSON, frames over the max.
		cat(msg(ev|long, "x", []byte("d")), msg(ev, "after", []byte("long"))),
		cat(msg(s2|long|req, "x", text), msg(s2, "after", text)),
		cat(msg(js, "bad", []byte("{not json")), msg(js, "good", []byte("1"))),
		cat(msg(js|req, "bad", []byte("\xff")), msg(js, "", nil)),
		cat(msg(ev|big, "big", []byte("ab"), 63), msg(ev|big, "too big", []byte("ab"), 64), msg(ev, "after", nil)),
		cat(msg(s2|big, "big", []byte("ab"), 200), msg(zs|big|req, "big", []byte("ab"), 255)),
		cat(msg(ln|big, "", []byte("x"), 3), msg(ln, "", bytes.Repeat([]byte("y"), streamLenMax-2)), msg(ln, "", bytes.Repeat([]byte("y"), streamLenMax-3))),
		cat(msg(js|big, "big", []byte(`"a"`), 64), msg(js, "\xff\xfe\f\u2028\"", []byte(`"\f"`))),
		cat(msg(js|long, "", []byte("{}")), msg(js, "x", []byte("null"))),
		msg(js, string(bytes.Repeat([]byte("\x01"), 255)), []byte("0")),
		{},
	}
}
