package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

func TestEventRoundTrip(t *testing.T) {
	lf := MustLengthField(LengthFieldConfig{})
	for _, tc := range []struct {
		name  string
		flags Flags
		id    uint32
		data  []byte
	}{
		{"", 0, 0, nil},
		{"hello", 0, 0, []byte("world")},
		{"sum", FlagRequest | FlagJSON, 7, []byte("[1,2]")},
		{"sum", FlagReply | FlagJSON, 0xdeadbeef, []byte("3")},
		{"sum", FlagReply | FlagError, 1, []byte("no such handler")},
		{"tick", FlagSeq, 0, []byte("sequenced")},
		{"sum", FlagRequest | FlagSeq, 9, []byte("[1]")},
		{"ack", FlagControl, 0, []byte{0, 0, 0, 0, 0, 0, 0, 42}},
		{strings.Repeat("n", 255), 0, 0, bytes.Repeat([]byte{0}, 1000)},
	} {
		frame, mark := lf.Begin(nil)
		seq := uint64(0)
		if tc.flags&FlagSeq != 0 {
			seq = 0x0102030405060708
		}
		frame, err := AppendEventSeq(frame, tc.name, tc.flags, tc.id, seq, tc.data)
		if err != nil {
			t.Fatal(err)
		}
		frame, err = lf.End(frame, mark)
		if err != nil {
			t.Fatal(err)
		}
		if got := binary.BigEndian.Uint32(frame); int(got) != len(frame)-4 {
			t.Fatalf("length prefix %d for %d bytes", got, len(frame)-4)
		}
		payload, n, err := lf.Parse(frame)
		if err != nil || n != len(frame) {
			t.Fatal(n, err)
		}
		ev, err := ParseEvent(payload)
		if err != nil {
			t.Fatal(err)
		}
		wantID := tc.id
		if !tc.flags.HasID() {
			wantID = 0
		}
		if string(ev.Name) != tc.name || ev.Flags != tc.flags || ev.ID != wantID || ev.Seq != seq || !bytes.Equal(ev.Data, tc.data) || ev.RawLen != len(tc.data) {
			t.Fatalf("%+v round-tripped to %+v", tc, ev)
		}
		if len(payload) != EventHeaderLen(len(tc.name), tc.flags)+len(tc.data) {
			t.Fatalf("EventHeaderLen wrong for %+v", tc)
		}
	}
}

func TestEventWireBytes(t *testing.T) {
	b, err := AppendEvent(nil, "hi", FlagRequest, 0x01020304, []byte{0xAA})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x01, 0x08, 0x02, 'h', 'i', 0x01, 0x02, 0x03, 0x04, 0xAA}
	if !bytes.Equal(b, want) {
		t.Fatalf("%x, want %x", b, want)
	}
}

func TestEventErrors(t *testing.T) {
	if _, err := AppendEvent(nil, strings.Repeat("n", 256), 0, 0, nil); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("long name: %v", err)
	}
	for _, f := range []Flags{FlagControl | FlagSeq, FlagControl | FlagRequest, FlagRequest | FlagReply, FlagError, FlagS2} {
		if _, err := AppendEvent(nil, "x", f, 0, nil); !errors.Is(err, ErrBadFlags) {
			t.Errorf("flags %#x: %v", f, err)
		}
	}
	bad := []struct {
		wire []byte
		code Code
	}{
		{nil, CodeTruncated},
		{[]byte{1, 0}, CodeTruncated},
		{[]byte{2, 0, 0}, CodeBadVersion},
		{[]byte{0, 0, 0}, CodeBadVersion},
		{[]byte{1, 0x40, 0}, CodeTruncated},                      // sequence number missing
		{[]byte{1, 0x40, 0, 0, 0, 0, 0, 0, 0, 0}, CodeTruncated}, // 7 of its 8 bytes
		{[]byte{1, 0xC0, 0}, CodeBadFlags},                       // control with a sequence number
		{[]byte{1, 0x88, 0, 0, 0, 0, 1}, CodeBadFlags},           // control request
		{[]byte{1, 0x81, 0, 0, 0, 0, 1}, CodeBadFlags},           // compressed control
		{[]byte{1, 0x03, 0, 0, 0, 0, 0}, CodeBadFlags},
		{[]byte{1, 0x18, 0, 0, 0, 0, 0}, CodeBadFlags},
		{[]byte{1, 0x20, 0}, CodeBadFlags},
		{[]byte{1, 0, 3, 'a', 'b'}, CodeTruncated},
		{[]byte{1, 0x08, 1, 'a', 0, 0, 0}, CodeTruncated},
		{[]byte{1, 0x01, 1, 'a', 0, 0, 0}, CodeTruncated},
		{[]byte{1, 0x09, 0, 0, 0, 0, 1, 0, 0, 0}, CodeTruncated},
	}
	for _, tc := range bad {
		_, err := ParseEvent(tc.wire)
		if codeOf(err) != tc.code {
			t.Errorf("%x: %v, want code %d", tc.wire, err, tc.code)
		}
	}
}

func compressible(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = "sensor-reading:0123456789,"[i%26]
	}
	return b
}

func TestCompressionRoundTrip(t *testing.T) {
	for _, algo := range []Compression{S2, Zstd} {
		c, err := NewCompressor(algo, 100)
		if err != nil {
			t.Fatal(err)
		}
		d := NewDecompressor(1 << 20)
		for _, n := range []int{0, 99, 100, 5000, 1 << 20} {
			data := compressible(n)
			wire, err := c.AppendEvent(nil, "tick", FlagJSON, 0, data)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := ParseEvent(wire)
			if err != nil {
				t.Fatal(err)
			}
			wantAlgo := algo
			if n < 100 {
				wantAlgo = None
			}
			if ev.Flags.Compression() != wantAlgo || ev.Flags&FlagJSON == 0 || string(ev.Name) != "tick" {
				t.Fatalf("%v n=%d: flags %#x", algo, n, ev.Flags)
			}
			if n >= 5000 && len(wire) >= n/2 {
				t.Fatalf("%v n=%d: %d bytes on the wire", algo, n, len(wire))
			}
			got, err := d.Data(ev)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%v n=%d: %v", algo, n, err)
			}
		}
		// Incompressible data goes uncompressed.
		random := make([]byte, 4096)
		for i := range random {
			random[i] = byte(uint64(i)*2654435761>>13) ^ byte(i>>3*7)
		}
		wire, _ := c.AppendEvent(nil, "r", 0, 0, random)
		if ev, _ := ParseEvent(wire); ev.Flags.Compression() != None && len(wire) > len(random) {
			t.Fatalf("%v: incompressible payload grew", algo)
		}
		c.Close()
		d.Close()
	}
	var nilc *Compressor
	wire, err := nilc.AppendEvent(nil, "x", 0, 0, compressible(10000))
	if ev, _ := ParseEvent(wire); err != nil || ev.Flags.Compression() != None {
		t.Fatal("nil compressor compressed")
	}
	if _, err := NewCompressor(Compression(3), 0); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("bad algorithm: %v", err)
	}
}

// A compression bomb: 1 KiB on the wire that expands to far more than the
// limit is refused from the declared size, and a sender that lies about the
// size is caught too.
func TestDecompressionBounded(t *testing.T) {
	big := make([]byte, 64<<20) // 64 MiB of zeros compresses to almost nothing
	s2data := s2.Encode(nil, big)
	zenc, _ := zstd.NewWriter(nil)
	zdata := zenc.EncodeAll(big, nil)
	zenc.Close()
	if len(s2data) > 4<<20 || len(zdata) > 64<<10 {
		t.Fatalf("bomb too big: %d %d", len(s2data), len(zdata))
	}
	d := NewDecompressor(1 << 20)
	defer d.Close()
	for _, tc := range []struct {
		algo     Flags
		data     []byte
		declared uint32
	}{
		{FlagS2, s2data, 64 << 20},
		{FlagS2, s2data, 1000},
		{FlagZstd, zdata, 64 << 20},
		{FlagZstd, zdata, 1000},
		{FlagZstd, zdata, 0xffffffff},
		{FlagS2, []byte{0xff, 0xff, 0xff}, 10},
		{FlagZstd, []byte("not zstd"), 10},
	} {
		wire := []byte{1, byte(tc.algo), 0}
		wire = binary.BigEndian.AppendUint32(wire, tc.declared)
		wire = append(wire, tc.data...)
		ev, err := ParseEvent(wire)
		if err != nil {
			t.Fatal(err)
		}
		out, err := d.Data(ev)
		if !errors.Is(err, ErrDecompress) || out != nil {
			t.Fatalf("%#x declared %d: %v", tc.algo, tc.declared, err)
		}
		if cap(d.buf) > 1<<20 {
			t.Fatalf("buffer grew to %d", cap(d.buf))
		}
	}
}
