package frame

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestDelimiterEverySplit(t *testing.T) {
	for _, delim := range []string{"\f", "\r\n", "END!"} {
		c := MustDelimiter(DelimiterConfig{Delimiter: []byte(delim)})
		payloads := [][]byte{[]byte(""), []byte("a"), []byte(`{"type":"x","data":{}}`), bytes.Repeat([]byte("xy"), 300)}
		var stream []byte
		for _, p := range payloads {
			var err error
			if stream, err = c.Append(stream, p); err != nil {
				t.Fatal(err)
			}
		}
		// Split the stream into two reads at every position: the frames
		// seen must be the same.
		for split := 0; split <= len(stream); split++ {
			var got [][]byte
			buf := append([]byte{}, stream[:split]...)
			feed := func() {
				for {
					p, n, err := c.Parse(buf)
					if err != nil {
						t.Fatalf("delim %q split %d: %v", delim, split, err)
					}
					if n == 0 {
						return
					}
					got = append(got, append([]byte{}, p...))
					buf = buf[n:]
				}
			}
			feed()
			buf = append(buf, stream[split:]...)
			feed()
			if len(buf) != 0 || len(got) != len(payloads) {
				t.Fatalf("delim %q split %d: %d frames, %d left", delim, split, len(got), len(buf))
			}
			for i := range got {
				if !bytes.Equal(got[i], payloads[i]) {
					t.Fatalf("delim %q split %d frame %d: %q", delim, split, i, got[i])
				}
			}
		}
	}
}

func TestDelimiterLimits(t *testing.T) {
	c := MustDelimiter(DelimiterConfig{MaxFrame: 8})
	if w, err := c.Append(nil, []byte("1234567")); err != nil || len(w) != 8 {
		t.Fatalf("exactly max: %q %v", w, err)
	}
	if _, err := c.Append(nil, []byte("12345678")); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("max+1: %v", err)
	}
	if _, err := c.Append(nil, []byte("a\fb")); !errors.Is(err, ErrDelimiterInPayload) {
		t.Fatalf("delimiter in payload: %v", err)
	}
	// Seven bytes without a delimiter may still become a frame; eight can't.
	if _, n, err := c.Parse([]byte("1234567")); n != 0 || err != nil {
		t.Fatalf("7 bytes: %d %v", n, err)
	}
	if _, _, err := c.Parse([]byte("12345678")); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("8 bytes: %v", err)
	}
	// A delimiter beyond the limit does not count.
	if _, _, err := c.Parse([]byte("12345678\f")); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("late delimiter: %v", err)
	}
	if _, err := NewDelimiter(DelimiterConfig{Delimiter: []byte("abc"), MaxFrame: 2}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("max below delimiter: %v", err)
	}
	if _, err := NewDelimiter(DelimiterConfig{Delimiter: make([]byte, 256)}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("long delimiter: %v", err)
	}
	if d := MustDelimiter(DelimiterConfig{}).Delim(); string(d) != "\f" {
		t.Fatalf("default delimiter %q", d)
	}
}

func TestRaw(t *testing.T) {
	c := Raw{MaxChunk: 4}
	if p, n, err := c.Parse(nil); p != nil || n != 0 || err != nil {
		t.Fatal("empty input is need-more")
	}
	p, n, err := c.Parse([]byte("abcdef"))
	if string(p) != "abcd" || n != 4 || err != nil {
		t.Fatalf("%q %d %v", p, n, err)
	}
	w, _ := c.Append([]byte("x"), []byte("abcdef"))
	if string(w) != "xabcdef" {
		t.Fatalf("%q", w)
	}
	if (Raw{}).MaxFrame() != DefaultMaxFrame {
		t.Fatal("zero Raw max")
	}
}

// chunkReader returns its data in reads of the given sizes, cycling.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.data), r.sizes[r.i%len(r.sizes)])
	r.i++
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func collect(t *testing.T, d *Decoder) ([][]byte, error) {
	t.Helper()
	var out [][]byte
	for i := 0; i < 100000; i++ {
		p, err := d.Next()
		if err != nil {
			return out, err
		}
		out = append(out, append([]byte{}, p...))
	}
	t.Fatal("decoder did not stop")
	return nil, nil
}

func TestDecoderStream(t *testing.T) {
	codecs := map[string]Codec{
		"length":     MustLengthField(LengthFieldConfig{MaxFrame: 1 << 16}),
		"length-le2": MustLengthField(LengthFieldConfig{Size: 2, LittleEndian: true, MaxFrame: 1 << 16}),
		"delim":      MustDelimiter(DelimiterConfig{MaxFrame: 1 << 16}),
		"delim-crlf": MustDelimiter(DelimiterConfig{Delimiter: []byte("\r\n"), MaxFrame: 1 << 16}),
	}
	var payloads [][]byte
	for _, n := range []int{0, 1, 15, 16, 17, 100, 4000, 60000} {
		p := make([]byte, n)
		for i := range p {
			p[i] = 'a' + byte(i%26)
		}
		payloads = append(payloads, p)
	}
	for name, c := range codecs {
		var stream []byte
		for _, p := range payloads {
			var err error
			if stream, err = c.Append(stream, p); err != nil {
				t.Fatal(err)
			}
		}
		for _, bufSize := range []int{16, 64, 4096, 1 << 17} {
			for _, sizes := range [][]int{{1}, {3, 7}, {1 << 20}} {
				r := bufio.NewReaderSize(&chunkReader{data: stream, sizes: sizes}, bufSize)
				got, err := collect(t, NewDecoder(r, c))
				if err != io.EOF {
					t.Fatalf("%s buf %d reads %v: %v", name, bufSize, sizes, err)
				}
				if len(got) != len(payloads) {
					t.Fatalf("%s buf %d reads %v: %d frames", name, bufSize, sizes, len(got))
				}
				for i := range got {
					if !bytes.Equal(got[i], payloads[i]) {
						t.Fatalf("%s buf %d reads %v: frame %d differs (len %d vs %d)", name, bufSize, sizes, i, len(got[i]), len(payloads[i]))
					}
				}
			}
		}
		// A stream cut inside a frame is an unexpected EOF, not a frame.
		r := bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(stream[:len(stream)-1])), 16)
		got, err := collect(t, NewDecoder(r, c))
		if err != io.ErrUnexpectedEOF || len(got) != len(payloads)-1 {
			t.Fatalf("%s truncated: %d frames, %v", name, len(got), err)
		}
	}
}

func TestDecoderTooLarge(t *testing.T) {
	// The length field claims more than max: the decoder fails on the
	// header alone, even though the source is endless.
	lf := MustLengthField(LengthFieldConfig{MaxFrame: 1024})
	r := bufio.NewReaderSize(io.MultiReader(bytes.NewReader([]byte{0x7f, 0xff, 0xff, 0xff}), zeroReader{}), 16)
	if _, err := NewDecoder(r, lf).Next(); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("length: %v", err)
	}
	// No delimiter ever: the decoder gives up after max bytes, with a
	// buffer that never grew past the limit.
	dc := MustDelimiter(DelimiterConfig{MaxFrame: 1024})
	d := NewDecoder(bufio.NewReaderSize(zeroReader{}, 16), dc)
	if _, err := d.Next(); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("delimiter: %v", err)
	}
	if cap(d.big) > 4096 {
		t.Fatalf("assembly buffer grew to %d", cap(d.big))
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// shortSource is a non-blocking source in the manner of gnet.Conn: Peek of
// more than is buffered fails at once with io.ErrShortBuffer.
type shortSource struct{ buf []byte }

func (s *shortSource) Peek(n int) ([]byte, error) {
	if n > len(s.buf) {
		return nil, io.ErrShortBuffer
	}
	return s.buf[:n], nil
}
func (s *shortSource) Discard(n int) (int, error) { s.buf = s.buf[n:]; return n, nil }
func (s *shortSource) Buffered() int              { return len(s.buf) }

func TestDecoderNonBlocking(t *testing.T) {
	for _, c := range []Codec{MustLengthField(LengthFieldConfig{}), MustDelimiter(DelimiterConfig{})} {
		var stream []byte
		stream, _ = c.Append(stream, []byte("first"))
		stream, _ = c.Append(stream, []byte("second"))
		src := &shortSource{}
		d := NewDecoder(src, c)
		var got []string
		// Deliver one byte per "read event"; drain after each.
		for i := range stream {
			src.buf = append(src.buf, stream[i])
			for {
				p, err := d.Next()
				if err == io.ErrShortBuffer {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(p))
			}
		}
		if len(got) != 2 || got[0] != "first" || got[1] != "second" || src.Buffered() != 0 {
			t.Fatalf("%T: %q, %d left", c, got, src.Buffered())
		}
	}
}

func TestDelimiterSelfOverlap(t *testing.T) {
	c := MustDelimiter(DelimiterConfig{Delimiter: []byte("\r\n\r\n")})
	// "x\r\n" + "\r\n\r\n" would decode as "x": refuse it.
	if _, err := c.Append(nil, []byte("x\r\n")); !errors.Is(err, ErrDelimiterInPayload) {
		t.Fatalf("overlapping tail: %v", err)
	}
	w, err := c.Append(nil, []byte("x\r\ny"))
	if err != nil {
		t.Fatal(err)
	}
	if p, n, err := c.Parse(w); string(p) != "x\r\ny" || n != len(w) || err != nil {
		t.Fatalf("%q %d %v", p, n, err)
	}
}

// The decoder parses the default header inline while frames remain in the
// window of its last Peek: frames after the first in a read, a header
// claiming more than MaxFrame there, and a frame cut at the end of the
// window must come out exactly as Parse has them.
func TestDecoderDefaultHeaderInWindow(t *testing.T) {
	lf := MustLengthField(LengthFieldConfig{MaxFrame: 1024})
	maxPayload, ok := lf.DefaultHeader()
	if !ok || maxPayload != 1020 {
		t.Fatalf("DefaultHeader: %d, %v", maxPayload, ok)
	}
	var stream []byte
	payloads := [][]byte{{}, []byte("one"), bytes.Repeat([]byte{'m'}, maxPayload), []byte("last")}
	for _, p := range payloads {
		stream, _ = lf.Append(stream, p)
	}
	// All of it in one read, then the same cut short inside the last
	// frame: the decoder must wait for the rest, not return part of it.
	src := &shortSource{buf: stream[:len(stream)-2]}
	d := NewDecoder(src, lf)
	for i, want := range payloads[:3] {
		p, err := d.Next()
		if err != nil || !bytes.Equal(p, want) {
			t.Fatalf("frame %d: %d bytes, %v", i, len(p), err)
		}
	}
	if p, err := d.Next(); err != io.ErrShortBuffer {
		t.Fatalf("cut frame: %q, %v; want io.ErrShortBuffer", p, err)
	}
	src.buf = append(src.buf, stream[len(stream)-2:]...)
	if p, err := d.Next(); err != nil || string(p) != "last" {
		t.Fatalf("completed frame: %q, %v", p, err)
	}

	// A header one byte over the limit behind a good frame, in the same
	// window: a protocol error, after the good frame.
	bad, _ := lf.Append(nil, []byte("ok"))
	bad = binary.BigEndian.AppendUint32(bad, uint32(maxPayload+1))
	bad = append(bad, make([]byte, maxPayload+1)...)
	d = NewDecoder(&shortSource{buf: bad}, lf)
	if p, err := d.Next(); err != nil || string(p) != "ok" {
		t.Fatalf("good frame: %q, %v", p, err)
	}
	var pe *ProtocolError
	if _, err := d.Next(); !errors.Is(err, ErrFrameTooLarge) || !errors.As(err, &pe) {
		t.Fatalf("oversized header in the window: %v", err)
	}
}
