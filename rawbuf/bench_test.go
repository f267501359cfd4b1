package rawbuf

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"testing"
)

var benchSizes = []struct {
	name string
	n    int
}{{"16B", 16}, {"64B", 64}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}}

// text is mixed-script UTF-8 for the text encodings.
const text = "héllo wörld €😀 "

func benchData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*131 + i>>8)
	}
	return b
}

func BenchmarkStructPut(b *testing.B) {
	for _, o := range []Order{LittleEndian, BigEndian} {
		b.Run(o.String(), func(b *testing.B) {
			w := NewWriter(make([]byte, 0, 24), o)
			b.ReportAllocs()
			b.SetBytes(24)
			for i := 0; b.Loop(); i++ {
				w.Reset()
				w.U32(uint32(i))
				w.U64(uint64(i) * 1000)
				w.F32(1.5)
				w.F32(-2)
				w.F32(3.25)
				if w.Len() != 24 {
					b.Fatal(w.Len())
				}
			}
		})
	}
}

func BenchmarkStructGet(b *testing.B) {
	for _, o := range []Order{LittleEndian, BigEndian} {
		b.Run(o.String(), func(b *testing.B) {
			w := NewWriter(nil, o)
			putSample(&w, testSample)
			payload := w.Bytes()
			b.ReportAllocs()
			b.SetBytes(24)
			for b.Loop() {
				r := NewReader(payload, o)
				s := getSample(&r)
				if s.seq != testSample.seq || r.Err() != nil {
					b.Fatal("mismatch")
				}
			}
		})
	}
}

// BenchmarkStructStream reads a 64 KiB buffer of back-to-back samples, the
// shape of a raw-mode sensor stream.
func BenchmarkStructStream(b *testing.B) {
	w := NewWriter(nil, binary.LittleEndian)
	for w.Len()+24 <= 64<<10 {
		putSample(&w, testSample)
	}
	payload := w.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		r := NewReader(payload, LittleEndian)
		var sum float32
		for r.Remaining() >= 24 {
			s := getSample(&r)
			sum += s.a
		}
		if r.Err() != nil || sum == 0 {
			b.Fatal("bad stream")
		}
	}
}

func BenchmarkAppendDecode(b *testing.B) {
	for _, e := range []Encoding{Hex, Base64, UTF8, Latin1} {
		b.Run(e.String(), func(b *testing.B) {
			for _, sz := range benchSizes {
				b.Run(sz.name, func(b *testing.B) {
					data := benchData(sz.n)
					if e == UTF8 {
						data = bytes.Repeat([]byte(text), sz.n/len(text)+1)[:sz.n]
					}
					dst := make([]byte, 0, MaxDecodedLen(len(data), e))
					b.ReportAllocs()
					b.SetBytes(int64(sz.n))
					for b.Loop() {
						if out := AppendDecode(dst[:0], data, e); len(out) == 0 {
							b.Fatal("empty")
						}
					}
				})
			}
		})
	}
}

func BenchmarkAppendEncode(b *testing.B) {
	for _, e := range []Encoding{Hex, Base64, UTF8, UTF16LE} {
		b.Run(e.String(), func(b *testing.B) {
			for _, sz := range benchSizes {
				b.Run(sz.name, func(b *testing.B) {
					data := benchData(sz.n)
					var s string
					switch e {
					case Hex:
						s = string(AppendHex(nil, data))
					case Base64:
						s = base64.StdEncoding.EncodeToString(data)
					default:
						s = string(bytes.Repeat([]byte(text), sz.n/len(text)+1)[:sz.n])
					}
					dst := make([]byte, 0, MaxEncodedLen(len(s), e))
					b.ReportAllocs()
					b.SetBytes(int64(len(s)))
					for b.Loop() {
						out, err := AppendEncode(dst[:0], s, e)
						if err != nil || len(out) == 0 {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

func BenchmarkAppendHexdump(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			data := benchData(sz.n)
			dst := make([]byte, 0, HexdumpLen(sz.n))
			b.ReportAllocs()
			b.SetBytes(int64(sz.n))
			for b.Loop() {
				if out := AppendHexdump(dst[:0], data, 0); len(out) != cap(dst) {
					b.Fatal(len(out))
				}
			}
		})
	}
}

func BenchmarkParseHex(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			s := string(AppendHex(nil, benchData(sz.n)))
			dst := make([]byte, 0, sz.n)
			b.ReportAllocs()
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				out, err := ParseHex(dst[:0], s)
				if err != nil || len(out) != sz.n {
					b.Fatal(err)
				}
			}
		})
	}
}
