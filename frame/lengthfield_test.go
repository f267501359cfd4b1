package frame

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func codeOf(err error) Code {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
}

// The examples of Netty's LengthFieldBasedFrameDecoder documentation.
func TestLengthFieldNettyExamples(t *testing.T) {
	hello := hex.EncodeToString([]byte("HELLO, WORLD"))
	tests := []struct {
		name string
		cfg  LengthFieldConfig
		wire string
		out  string
	}{
		{"2 bytes, no strip", LengthFieldConfig{Size: 2, KeepHeader: true}, "000c" + hello, "000c" + hello},
		{"2 bytes, strip header", LengthFieldConfig{Size: 2, Strip: 2}, "000c" + hello, hello},
		{"2 bytes, length includes header", LengthFieldConfig{Size: 2, Adjustment: -2, KeepHeader: true}, "000e" + hello, "000e" + hello},
		{"3 bytes at the end of a 5 byte header", LengthFieldConfig{Offset: 2, Size: 3, KeepHeader: true}, "cafe00000c" + hello, "cafe00000c" + hello},
		{"3 bytes at the start of a 5 byte header", LengthFieldConfig{Size: 3, Adjustment: 2, KeepHeader: true}, "00000ccafe" + hello, "00000ccafe" + hello},
		{"offset 1, strip header, extra header byte", LengthFieldConfig{Offset: 1, Size: 2, Adjustment: 1, Strip: 3}, "ca000cfe" + hello, "fe" + hello},
		{"offset 1, length counts whole message", LengthFieldConfig{Offset: 1, Size: 2, Adjustment: -3, Strip: 3}, "ca0010fe" + hello, "fe" + hello},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewLengthField(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			wire, want := mustHex(t, tc.wire), mustHex(t, tc.out)
			// Trailing bytes of the next frame must not be consumed.
			in := append(append([]byte{}, wire...), 0xAA, 0xBB)
			p, n, err := c.Parse(in)
			if err != nil || n != len(wire) || !bytes.Equal(p, want) {
				t.Fatalf("Parse = %x, %d, %v; want %x, %d", p, n, err, want, len(wire))
			}
			// Encoding the decoded frame gives back a frame that decodes
			// to it, and is byte-identical whenever nothing was stripped
			// before the length field.
			enc, err := c.Append(nil, p)
			if err != nil {
				t.Fatal(err)
			}
			if p2, n2, err := c.Parse(enc); err != nil || n2 != len(enc) || !bytes.Equal(p2, want) {
				t.Fatalf("Parse(Append) = %x, %d, %v", p2, n2, err)
			}
			if tc.cfg.Offset == 0 && !bytes.Equal(enc, wire) {
				t.Fatalf("Append = %x, want %x", enc, wire)
			}
			if !bytes.Equal(enc[tc.cfg.Offset:], wire[tc.cfg.Offset:]) {
				t.Fatalf("Append = %x, want %x after the prefix", enc, wire)
			}
		})
	}
}

// refLen decodes a length field independently of the codec.
func refLen(b []byte, little bool) uint64 {
	var v uint64
	for i := range b {
		j := i
		if little {
			j = len(b) - 1 - i
		}
		v = v<<8 | uint64(b[j])
	}
	return v
}

// TestLengthFieldCombinations runs every combination of the parameters
// through encode, decode, partial input and the max-frame boundary.
func TestLengthFieldCombinations(t *testing.T) {
	sizes := []int{1, 2, 3, 4, 8}
	payloadLens := []int{0, 1, 2, 200, 255, 256, 300}
	count := 0
	for _, size := range sizes {
		for _, offset := range []int{0, 1, 3} {
			end := offset + size
			for _, little := range []bool{false, true} {
				for _, incl := range []bool{false, true} {
					for _, adj := range []int{-3, 0, 2} {
						strips := []struct {
							strip int
							keep  bool
						}{{0, false}, {0, true}, {end + 1, false}}
						if offset > 0 {
							strips = append(strips, struct {
								strip int
								keep  bool
							}{offset, false})
						}
						for _, st := range strips {
							cfg := LengthFieldConfig{Offset: offset, Size: size, LittleEndian: little, Adjustment: adj,
								IncludesHeader: incl, Strip: st.strip, KeepHeader: st.keep, MaxFrame: 1000}
							name := fmt.Sprintf("%+v", cfg)
							c, err := NewLengthField(cfg)
							effAdj := adj
							if incl {
								effAdj -= end
							}
							if err != nil {
								t.Fatalf("%s: %v", name, err)
							}
							strip := st.strip
							if strip == 0 && !st.keep {
								strip = end
							}
							for _, plen := range payloadLens {
								// The decoded frame must hold the header
								// bytes the codec does not strip.
								minP := max(0, end-strip)
								p := make([]byte, max(plen, minP))
								for i := range p {
									p[i] = byte(i*7 + 1)
								}
								wire, err := c.Append(nil, p)
								total := strip + len(p)
								rawLen := total - end - effAdj
								if total > 1000 || rawLen < 0 || (size == 1 && rawLen > 255) {
									if err == nil {
										t.Fatalf("%s len %d: Append accepted an impossible frame", name, len(p))
									}
									continue
								}
								if err != nil {
									t.Fatalf("%s len %d: %v", name, len(p), err)
								}
								if len(wire) != total {
									t.Fatalf("%s: wire length %d, want %d", name, len(wire), total)
								}
								if got := refLen(wire[offset:end], little); got != uint64(rawLen) {
									t.Fatalf("%s: length field %d, want %d", name, got, rawLen)
								}
								got, n, err := c.Parse(wire)
								// With strip <= offset the payload's copy
								// of the length slot is filled in.
								want := append([]byte{}, p...)
								if strip <= offset {
									copy(want[offset-strip:], wire[offset:end])
								}
								if err != nil || n != total || !bytes.Equal(got, want) {
									t.Fatalf("%s: Parse = %x, %d, %v; want %x", name, got, n, err, want)
								}
								for cut := 0; cut < len(wire); cut++ {
									g, n, err := c.Parse(wire[:cut])
									if g != nil || n != 0 || err != nil {
										t.Fatalf("%s: Parse of %d/%d bytes = %x, %d, %v", name, cut, len(wire), g, n, err)
									}
									if need := c.Need(wire[:cut]); need <= cut || need > len(wire) {
										t.Fatalf("%s: Need(%d bytes) = %d, frame is %d", name, cut, need, len(wire))
									}
								}
								count++
							}
						}
					}
				}
			}
		}
	}
	if count < 1000 {
		t.Fatalf("only %d combinations ran", count)
	}
}

func TestLengthFieldMaxFrame(t *testing.T) {
	c := MustLengthField(LengthFieldConfig{MaxFrame: 104}) // 4 header + 100 payload
	if _, err := c.Append(nil, make([]byte, 100)); err != nil {
		t.Fatalf("exactly max: %v", err)
	}
	if _, err := c.Append(nil, make([]byte, 101)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("max+1: %v", err)
	}
	// Append (which writes the default header in one step) and
	// Begin/End agree, after existing bytes; a refused frame leaves dst.
	pre := []byte("xy")
	for _, n := range []int{0, 1, 100} {
		p := bytes.Repeat([]byte{7}, n)
		got, err := c.Append(pre, p)
		out, mark := c.Begin(pre)
		want, err2 := c.End(append(out, p...), mark)
		if err != nil || err2 != nil || !bytes.Equal(got, want) || !bytes.Equal(got[:2], pre) {
			t.Fatalf("%d bytes: Append % x (%v), Begin/End % x (%v)", n, got, err, want, err2)
		}
	}
	if got, _ := c.Append(pre, make([]byte, 101)); !bytes.Equal(got, pre) {
		t.Fatalf("refused frame left % x", got)
	}
	// Fail fast: the header alone is enough to reject the frame.
	_, n, err := c.Parse([]byte{0, 0, 0, 101})
	if !errors.Is(err, ErrFrameTooLarge) || codeOf(err) != CodeFrameTooLarge || n != 0 {
		t.Fatalf("header claiming max+1: %v", err)
	}
	_, _, err = c.Parse([]byte{0xff, 0xff, 0xff, 0xff})
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("header claiming 4 GiB: %v", err)
	}
	if p, n, err := c.Parse(append([]byte{0, 0, 0, 100}, make([]byte, 100)...)); err != nil || n != 104 || len(p) != 100 {
		t.Fatalf("exactly max: %d %v", n, err)
	}
}

func TestLengthFieldCorrupt(t *testing.T) {
	c8 := MustLengthField(LengthFieldConfig{Size: 8, MaxFrame: math.MaxInt})
	for _, w := range []string{"8000000000000000", "ffffffffffffffff"} {
		if _, _, err := c8.Parse(mustHex(t, w)); !errors.Is(err, ErrCorruptLength) {
			t.Errorf("8-byte %s: %v, want corrupt", w, err)
		}
	}
	if _, _, err := c8.Parse(mustHex(t, "7fffffffffffffff")); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("8-byte MaxInt64: %v, want too large", err)
	}
	// Length counts the header, but says less than the header.
	c := MustLengthField(LengthFieldConfig{Size: 2, IncludesHeader: true})
	if _, _, err := c.Parse([]byte{0, 1, 9}); !errors.Is(err, ErrCorruptLength) {
		t.Errorf("length below header: %v", err)
	}
	// Adjusted length shorter than the bytes to strip.
	c = MustLengthField(LengthFieldConfig{Size: 1, Adjustment: -1, Strip: 3, KeepHeader: false})
	if _, _, err := c.Parse([]byte{2, 0, 0, 0}); !errors.Is(err, ErrCorruptLength) {
		t.Errorf("length below strip: %v", err)
	}
}

func TestLengthFieldBadConfig(t *testing.T) {
	bad := []LengthFieldConfig{
		{Size: 5},
		{Size: -1},
		{Offset: -1},
		{Offset: 70000},
		{Strip: -2},
		{Strip: 70000},
		{Offset: 1, Size: 4, Strip: 3}, // strip ends inside the length field
		{KeepHeader: true, Strip: 4},   // contradictory
		{MaxFrame: 3},                  // below the header
		{MaxFrame: -1},                 // negative
		{Size: 2, Adjustment: 200, MaxFrame: 100}, // smallest frame above max
		{Adjustment: math.MaxInt32},
	}
	for _, cfg := range bad {
		if _, err := NewLengthField(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v, want ErrInvalidConfig", cfg, err)
		}
	}
	// The zero value is the documented default.
	c, err := NewLengthField(LengthFieldConfig{})
	if err != nil || c.HeaderLen() != 4 || c.MaxFrame() != DefaultMaxFrame {
		t.Fatalf("default: %v", err)
	}
	w, _ := c.Append(nil, []byte("hi"))
	if !bytes.Equal(w, []byte{0, 0, 0, 2, 'h', 'i'}) {
		t.Fatalf("default framing: %x", w)
	}
}

func TestLengthFieldShortPayload(t *testing.T) {
	// Nothing stripped: the payload must carry the header.
	c := MustLengthField(LengthFieldConfig{Size: 2, KeepHeader: true})
	if _, err := c.Append(nil, []byte{0}); !errors.Is(err, ErrShortPayload) {
		t.Fatalf("%v", err)
	}
	// A failed End leaves dst as it was.
	dst := []byte("keep")
	out, err := c.Append(dst, []byte{1})
	if err == nil || string(out) != "keep" {
		t.Fatalf("failed append left %q, %v", out, err)
	}
}

// DefaultHeader is true for the default layout only.
func TestLengthFieldDefaultHeader(t *testing.T) {
	for _, tc := range []struct {
		cfg LengthFieldConfig
		ok  bool
	}{
		{LengthFieldConfig{}, true},
		{LengthFieldConfig{Size: 4, Strip: 4, MaxFrame: 100}, true},
		{LengthFieldConfig{LittleEndian: true}, false},
		{LengthFieldConfig{Size: 2}, false},
		{LengthFieldConfig{Size: 8}, false},
		{LengthFieldConfig{Offset: 2}, false},
		{LengthFieldConfig{KeepHeader: true}, false},
		{LengthFieldConfig{IncludesHeader: true}, false},
		{LengthFieldConfig{Adjustment: 2}, false},
	} {
		c := MustLengthField(tc.cfg)
		maxPayload, ok := c.DefaultHeader()
		if ok != tc.ok {
			t.Fatalf("%+v: DefaultHeader ok = %v", tc.cfg, ok)
		}
		if !ok {
			continue
		}
		// Written by hand as the doc says, a frame is what Append makes,
		// up to maxPayload and not beyond.
		p := bytes.Repeat([]byte{'x'}, maxPayload)
		want, err := c.Append(nil, p)
		if err != nil {
			t.Fatalf("%+v: Append of %d bytes: %v", tc.cfg, maxPayload, err)
		}
		if got := append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...); !bytes.Equal(got, want) {
			t.Fatalf("%+v: hand-written frame differs from Append's", tc.cfg)
		}
		if _, err := c.Append(nil, append(p, 'x')); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("%+v: Append of %d bytes: %v", tc.cfg, maxPayload+1, err)
		}
	}
}
