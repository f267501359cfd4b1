//go:build !race

package frame

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"
)

// Zero allocation on the hot path, as a test (fasthttp allocation_test.go,
// quic-go frame_parser_test.go). The race detector allocates, hence the
// build tag.

// alCycleReader returns buf over and over, never io.EOF: a stream of the
// frames preencoded in buf that never ends.
type alCycleReader struct {
	buf []byte
	off int
}

func (r *alCycleReader) Read(p []byte) (int, error) {
	n := copy(p, r.buf[r.off:])
	r.off += n
	if r.off == len(r.buf) {
		r.off = 0
	}
	return n, nil
}

// alPayload returns n bytes of compressible text.
func alPayload(n int) []byte {
	return bytes.Repeat([]byte("goipc frame payload "), n/20+1)[:n]
}

func alZero(t *testing.T, what string, f func()) {
	t.Helper()
	if n := testing.AllocsPerRun(200, f); n != 0 {
		t.Fatalf("%s: %v allocs per run, want 0", what, n)
	}
}

func TestAllocLengthField(t *testing.T) {
	c := MustLengthField(LengthFieldConfig{})
	payload := alPayload(64)
	dst := make([]byte, 0, 128)
	var err error
	alZero(t, "LengthField.Append", func() {
		dst, err = c.Append(dst[:0], payload)
		if err != nil || len(dst) != 68 {
			t.Fatalf("Append: %d bytes, %v", len(dst), err)
		}
	})
	alZero(t, "LengthField.Parse", func() {
		p, n, err := c.Parse(dst)
		if err != nil || n != 68 || len(p) != 64 {
			t.Fatalf("Parse: %d, %d, %v", len(p), n, err)
		}
	})
	// A Netty-style header: offset, 2-byte little-endian length, strip.
	nc := MustLengthField(LengthFieldConfig{Offset: 2, Size: 2, LittleEndian: true, Adjustment: 1, MaxFrame: 1 << 10})
	alZero(t, "LengthField.Append (custom header)", func() {
		dst, err = nc.Append(dst[:0], payload)
		if err != nil {
			t.Fatal(err)
		}
	})
	alZero(t, "LengthField.Parse (custom header)", func() {
		if p, _, err := nc.Parse(dst); err != nil || len(p) != 64 {
			t.Fatalf("Parse: %d, %v", len(p), err)
		}
	})
}

func TestAllocEventInFrame(t *testing.T) {
	c := MustLengthField(LengthFieldConfig{})
	payload := alPayload(64)
	dst := make([]byte, 0, 256)
	alZero(t, "Begin/AppendEvent/End", func() {
		out, mark := c.Begin(dst[:0])
		out, err := AppendEvent(out, "message", FlagRequest, 42, payload)
		if err != nil {
			t.Fatal(err)
		}
		out, err = c.End(out, mark)
		if err != nil || len(out) != 4+EventHeaderLen(7, FlagRequest)+64 {
			t.Fatalf("End: %d bytes, %v", len(out), err)
		}
		dst = out
	})
	alZero(t, "Parse+ParseEvent", func() {
		p, _, err := c.Parse(dst)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := ParseEvent(p)
		if err != nil || ev.ID != 42 || len(ev.Data) != 64 {
			t.Fatalf("ParseEvent: %+v, %v", ev, err)
		}
	})
}

func TestAllocDelimiter(t *testing.T) {
	c := MustDelimiter(DelimiterConfig{})
	payload := []byte(`{"type":"message","data":{"id":"world","message":"hello, world!"}}`)
	dst := make([]byte, 0, 128)
	var err error
	alZero(t, "Delimiter.Append", func() {
		dst, err = c.Append(dst[:0], payload)
		if err != nil || len(dst) != len(payload)+1 {
			t.Fatalf("Append: %d bytes, %v", len(dst), err)
		}
	})
	alZero(t, "Delimiter.Parse", func() {
		p, n, err := c.Parse(dst)
		if err != nil || n != len(dst) || len(p) != len(payload) {
			t.Fatalf("Parse: %d, %d, %v", len(p), n, err)
		}
	})
}

func TestAllocRaw(t *testing.T) {
	var c Raw
	b := alPayload(512)
	alZero(t, "Raw.Parse", func() {
		if p, n, err := c.Parse(b); err != nil || n != 512 || len(p) != 512 {
			t.Fatalf("Parse: %d, %d, %v", len(p), n, err)
		}
	})
}

func TestAllocDecoder(t *testing.T) {
	payload := alPayload(64)
	for _, c := range []Codec{MustLengthField(LengthFieldConfig{}), MustDelimiter(DelimiterConfig{})} {
		var stream []byte
		for range 100 {
			var err error
			stream, err = c.Append(stream, payload)
			if err != nil {
				t.Fatal(err)
			}
		}
		d := NewDecoder(bufio.NewReaderSize(&alCycleReader{buf: stream}, 4096), c)
		alZero(t, "Decoder.Next", func() {
			p, err := d.Next()
			if err != nil || len(p) != len(payload) {
				t.Fatalf("Next: %d bytes, %v", len(p), err)
			}
		})
	}
}

func TestAllocCompress(t *testing.T) {
	for _, size := range []int{1 << 10, 64 << 10} {
		for _, algo := range []Compression{S2, Zstd} {
			alCompressRound(t, algo, alPayload(size))
		}
	}
}

func alCompressRound(t *testing.T, algo Compression, payload []byte) {
	c, err := NewCompressor(algo, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d := NewDecompressor(1 << 20)
	defer d.Close()
	dst := make([]byte, 0, 2*len(payload))
	round := func() {
		out, err := c.AppendEvent(dst[:0], "blob", 0, 0, payload)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := ParseEvent(out)
		if err != nil || ev.Flags.Compression() != algo {
			t.Fatalf("%v: ParseEvent %+v, %v", algo, ev.Flags, err)
		}
		got, err := d.Data(ev)
		if err != nil || len(got) != len(payload) {
			t.Fatalf("%v: Data: %d bytes, %v", algo, len(got), err)
		}
		dst = out
	}
	for range 10 { // warm-up: decoder, buffers, encoder state
		round()
	}
	alZero(t, fmt.Sprintf("%v AppendEvent+Data (%d bytes)", algo, len(payload)), round)
}
