package rawbuf

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseHex(f *testing.F) {
	for _, s := range []string{
		"", "deadbeef", "de:ad:be:ef", "0xdead 0XBEEF", "de-ad\nbe\tef", "abc", "0x", "zz",
		"0x0x12", "12 é", "::--", "00 ff 10 ab",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dst := make([]byte, 3, 3+len(s)/2)
		copy(dst, "pfx")
		out, err := ParseHex(dst, s)
		if string(out[:3]) != "pfx" {
			t.Fatalf("prefix clobbered: %q", out[:3])
		}
		if err != nil {
			var he *HexError
			if !errors.Is(err, ErrBadHex) || !errors.As(err, &he) || he.Offset < 0 || he.Offset > len(s) {
				t.Fatalf("bad error %v", err)
			}
			if len(out) != 3 {
				t.Fatalf("error but %d bytes appended", len(out)-3)
			}
			return
		}
		if cap(out) != cap(dst) {
			t.Fatalf("grew past len(s)/2: %d > %d", len(out)-3, len(s)/2)
		}
		// Round trip: the compact form parses back to the same bytes.
		hx := AppendHex(nil, out[3:])
		back, err := ParseHex(nil, string(hx))
		if err != nil || !bytes.Equal(back, out[3:]) {
			t.Fatalf("AppendHex/ParseHex round trip: %x -> %s -> %x, %v", out[3:], hx, back, err)
		}
		// And the fuzz input itself, as data, round trips.
		hx = AppendHex(nil, []byte(s))
		back, err = ParseHex(nil, string(hx))
		if err != nil || string(back) != s {
			t.Fatalf("round trip of %q failed: %v", s, err)
		}
	})
}

// FuzzEncodingRoundTrip checks buf -> toString(enc) -> Buffer.from(str,
// enc) == buf where Node's conversion is lossless, plus invariants for all
// encodings.
func FuzzEncodingRoundTrip(f *testing.F) {
	for _, s := range []string{
		"", "hello", "\x00\xff", "héllo €😀", "\xed\xa0\x80", "\xf0\x9f\x98", "\xc0\x80", "abzz", "QQ==",
		"\x3d\xd8\x00\xde", "\x00\xd8",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for e := Encoding(0); e < numEncodings; e++ {
			str := AppendDecode([]byte("pfx"), b, e)
			if string(str[:3]) != "pfx" {
				t.Fatalf("%v: prefix clobbered", e)
			}
			str = str[3:]
			if len(str) > MaxDecodedLen(len(b), e) {
				t.Fatalf("%v: decoded %d > MaxDecodedLen %d", e, len(str), MaxDecodedLen(len(b), e))
			}
			if !utf8.Valid(str) {
				t.Fatalf("%v: toString output is not UTF-8: %q", e, str)
			}
			back, err := AppendEncode(nil, string(str), e)
			if err != nil {
				t.Fatal(err)
			}
			lossless := false
			switch e {
			case Hex, Base64, Base64URL, Latin1:
				lossless = true
			case UTF8:
				lossless = utf8.Valid(b)
			case ASCII:
				lossless = isASCII(string(b))
			case UTF16LE:
				// Lossless for even lengths holding no lone surrogates.
				lossless = len(b)%2 == 0 && !bytes.Contains(str, []byte(replacement)) &&
					bytes.Equal(AppendDecode(nil, back, UTF16LE), str)
			}
			if lossless && !bytes.Equal(back, b) {
				t.Fatalf("%v round trip: %x -> %q -> %x", e, b, str, back)
			}
			// Encoding the input as a string never panics and stays in bounds.
			enc, err := AppendEncode(nil, string(b), e)
			if err != nil || len(enc) > MaxEncodedLen(len(b), e) {
				t.Fatalf("%v: AppendEncode %d bytes > MaxEncodedLen %d (%v)", e, len(enc), MaxEncodedLen(len(b), e), err)
			}
		}
		// Buffer.from(s, 'utf8') is the TextDecoder reading: valid UTF-8,
		// identical to s when s is valid, and the same as toString('utf8').
		u, _ := AppendEncode(nil, string(b), UTF8)
		if !utf8.Valid(u) || (utf8.Valid(b) && !bytes.Equal(u, b)) || !bytes.Equal(u, AppendDecode(nil, b, UTF8)) {
			t.Fatalf("utf8 sanitising of %x gave %x", b, u)
		}
		// Where Go and WHATWG agree (no ill-formed input), so do we.
		if !bytes.Equal(u, []byte(strings.ToValidUTF8(string(b), replacement))) && utf8.Valid(b) {
			t.Fatal("valid input changed")
		}
	})
}

// FuzzReader drives a Reader over random bytes with a random sequence of
// reads: it must never panic, and its bookkeeping must stay consistent.
func FuzzReader(f *testing.F) {
	f.Add(sampleLE, []byte{4, 8, 9, 9, 9})
	f.Add(sampleBE[:10], []byte{4, 8, 1})
	f.Add([]byte{}, []byte{0, 11, 12})
	f.Add([]byte{1, 2, 3}, []byte{13, 0xff, 14})
	f.Fuzz(func(t *testing.T, b, ops []byte) {
		for _, o := range []Order{LittleEndian, BigEndian} {
			r := NewReader(b, o)
			for _, op := range ops {
				before := r.Offset()
				failed := r.Err() != nil
				switch op % 15 {
				case 0:
					r.U8()
				case 1:
					r.I8()
				case 2:
					r.U16()
				case 3:
					r.I16()
				case 4:
					r.U32()
				case 5:
					r.I32()
				case 6:
					r.U64()
				case 7:
					r.I64()
				case 8:
					r.F64()
				case 9:
					r.F32()
				case 10, 11:
					n := int(int8(op)) // may be negative
					if p := r.Bytes(n); p != nil && len(p) != n {
						t.Fatalf("Bytes(%d) returned %d", n, len(p))
					}
				case 12, 13:
					r.Skip(int(int8(op)))
				case 14:
					_ = r.Rest()
				}
				if r.Offset()+r.Remaining() != len(b) || r.Offset() < before {
					t.Fatalf("offset %d + remaining %d != %d", r.Offset(), r.Remaining(), len(b))
				}
				if r.Err() != nil && (r.Remaining() != 0 || !errors.Is(r.Err(), ErrShort)) {
					t.Fatalf("after error: remaining %d, err %v", r.Remaining(), r.Err())
				}
				if failed && r.Err() == nil {
					t.Fatal("error not sticky")
				}
			}
		}
		// The dump of anything has the announced length.
		if d := AppendHexdump(nil, b, 0); len(d) != HexdumpLen(len(b)) {
			t.Fatalf("hexdump length %d != %d", len(d), HexdumpLen(len(b)))
		}
	})
}
