//go:build !race

package rawbuf

import (
	"encoding/binary"
	"testing"
)

func assertNoAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	if n := testing.AllocsPerRun(200, f); n != 0 {
		t.Errorf("%s: %v allocs/op, want 0", name, n)
	}
}

func TestAllocsWriterReader(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian, LittleEndian, binary.NativeEndian} {
		w := NewWriter(make([]byte, 0, 128), order)
		assertNoAllocs(t, "Writer puts "+OrderOf(order).String(), func() {
			w.Reset()
			w.U8(1)
			w.I8(-1)
			w.U16(2)
			w.I16(-2)
			w.U32(3)
			w.I32(-3)
			w.U64(4)
			w.I64(-4)
			w.F32(1.5)
			w.F64(2.5)
			w.Append([]byte{1, 2})
			w.AppendString("ab")
			w.Zero(7)
			putSample(&w, testSample)
		})
		payload := w.Bytes()
		var sink float64
		assertNoAllocs(t, "Reader gets "+OrderOf(order).String(), func() {
			r := NewReader(payload, order)
			sink += float64(r.U8()) + float64(r.I8()) + float64(r.U16()) + float64(r.I16()) +
				float64(r.U32()) + float64(r.I32()) + float64(r.U64()) + float64(r.I64()) +
				float64(r.F32()) + r.F64()
			_ = r.Bytes(4)
			r.Skip(7)
			s := getSample(&r)
			sink += float64(s.a)
			if r.Err() != nil || r.Remaining() != 0 {
				t.Fatal(r.Err())
			}
		})
		b := make([]byte, 8)
		o := OrderOf(order)
		assertNoAllocs(t, "plain functions", func() {
			PutF32(b, o, 1.5)
			PutF64(b, o, F64(b, o))
			PutU16(b, o, U16(b, o))
		})
	}
}

// encodeInputs holds, per Encoding, a realistic input for AppendEncode,
// including non-ASCII text and (for UTF8) ill-formed bytes so the slow
// paths are covered too.
var encodeInputs = map[Encoding][]string{
	UTF8:      {"hello, world", "héllo €😀", "bad \xff\xed\xa0\x80 utf8"},
	ASCII:     {"hello", "héllo €😀"},
	Latin1:    {"hello", "héllo €😀"},
	Hex:       {"00ff10abDEADbeef", "abzz", "aš00"},
	Base64:    {"SGVsbG8sIHdvcmxkIQ==", "SGVs bG8s\nIHdv-_8", "QUJD€QUJD"},
	Base64URL: {"SGVsbG8sIHdvcmxkIQ", "-_8"},
	UTF16LE:   {"hello", "héllo €😀"},
}

func TestAllocsEncodings(t *testing.T) {
	raw := []byte("\x00\x01hello\xff\xfe\xed\xa0\x80\xf0\x9f\x98\x80\x3d\xd8\x00\xde\x00\xd8 w")
	for e := Encoding(0); e < numEncodings; e++ {
		for _, s := range encodeInputs[e] {
			dst := make([]byte, 0, MaxEncodedLen(len(s), e))
			assertNoAllocs(t, "AppendEncode "+e.String()+" "+s, func() {
				out, err := AppendEncode(dst, s, e)
				if err != nil || cap(out) != cap(dst) {
					t.Fatalf("grew or failed: %v", err)
				}
			})
		}
		dst := make([]byte, 0, MaxDecodedLen(len(raw), e))
		assertNoAllocs(t, "AppendDecode "+e.String(), func() {
			if out := AppendDecode(dst, raw, e); cap(out) != cap(dst) {
				t.Fatal("grew")
			}
		})
	}
	var sink Encoding
	assertNoAllocs(t, "ParseEncoding", func() {
		e, _ := ParseEncoding("UTF-16LE")
		sink += e
	})
}

func TestAllocsHex(t *testing.T) {
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	dst := make([]byte, 0, HexdumpLen(len(data)))
	assertNoAllocs(t, "AppendHexdump", func() {
		if out := AppendHexdump(dst, data, 0); cap(out) != cap(dst) || len(out) != cap(dst) {
			t.Fatal("HexdumpLen is not exact")
		}
	})
	hx := make([]byte, 0, 2*len(data))
	assertNoAllocs(t, "AppendHex", func() { _ = AppendHex(hx, data) })
	in := "0xdead:be:ef 00-11 2233"
	pd := make([]byte, 0, len(in)/2)
	assertNoAllocs(t, "ParseHex", func() {
		if _, err := ParseHex(pd, in); err != nil {
			t.Fatal(err)
		}
	})
}

// A short record from a hostile peer costs nothing when checked with Failed.
func TestAllocsShortReadFailed(t *testing.T) {
	short := make([]byte, 10)
	assertNoAllocs(t, "short read checked with Failed", func() {
		r := NewReader(short, LittleEndian)
		_ = r.U32()
		_ = r.U64()
		if !r.Failed() {
			t.Fatal("short read not reported")
		}
	})
}
