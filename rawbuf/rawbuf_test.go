package rawbuf

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestNodeEncodeVectors(t *testing.T) {
	for _, tc := range nodeEncodeVectors {
		got, err := AppendEncode(nil, tc.in, tc.enc)
		if err != nil {
			t.Fatalf("AppendEncode(%q, %v): %v", tc.in, tc.enc, err)
		}
		if h := hex.EncodeToString(got); h != tc.want {
			t.Errorf("AppendEncode(%q, %v) = %s, Node says %s", tc.in, tc.enc, h, tc.want)
		}
		// Appending keeps the prefix.
		got, _ = AppendEncode([]byte("pfx"), tc.in, tc.enc)
		if h := hex.EncodeToString(got); h != "706678"+tc.want {
			t.Errorf("AppendEncode(pfx, %q, %v) = %s", tc.in, tc.enc, h)
		}
		if n := MaxEncodedLen(len(tc.in), tc.enc); n < len(tc.want)/2 {
			t.Errorf("MaxEncodedLen(%d, %v) = %d < %d", len(tc.in), tc.enc, n, len(tc.want)/2)
		}
	}
}

func TestNodeDecodeVectors(t *testing.T) {
	for _, tc := range nodeDecodeVectors {
		in, err := hex.DecodeString(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got := AppendDecode(nil, in, tc.enc)
		if h := hex.EncodeToString(got); h != tc.want {
			t.Errorf("AppendDecode(%s, %v) = %s, Node says %s", tc.in, tc.enc, h, tc.want)
		}
		got = AppendDecode([]byte("pfx"), in, tc.enc)
		if h := hex.EncodeToString(got); h != "706678"+tc.want {
			t.Errorf("AppendDecode(pfx, %s, %v) = %s", tc.in, tc.enc, h)
		}
		if n := MaxDecodedLen(len(in), tc.enc); n < len(tc.want)/2 {
			t.Errorf("MaxDecodedLen(%d, %v) = %d < %d", len(in), tc.enc, n, len(tc.want)/2)
		}
	}
}

func TestEncodingAliases(t *testing.T) {
	// UCS2 is UTF16LE; Base64URL decodes like Base64 (Node: Buffer.from(s,
	// "base64url") accepts both alphabets too).
	if UCS2 != UTF16LE {
		t.Fatal("UCS2 != UTF16LE")
	}
	for _, s := range []string{"+/8=", "-_8", "QU JD\n", "QQ==QUJ="} {
		a, _ := AppendEncode(nil, s, Base64)
		b, _ := AppendEncode(nil, s, Base64URL)
		if !bytes.Equal(a, b) {
			t.Errorf("%q: base64 %x != base64url %x", s, a, b)
		}
	}
	for _, s := range []string{"héllo", "€😀", "\xff"} {
		a, _ := AppendEncode(nil, s, ASCII)
		b, _ := AppendEncode(nil, s, Latin1)
		if !bytes.Equal(a, b) {
			t.Errorf("%q: ascii %x != latin1 %x", s, a, b)
		}
	}
}

func TestParseEncoding(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Encoding
	}{
		{"utf8", UTF8}, {"UTF8", UTF8}, {"utf-8", UTF8}, {"Utf-8", UTF8}, {"", UTF8},
		{"ascii", ASCII}, {"ASCII", ASCII},
		{"latin1", Latin1}, {"binary", Latin1}, {"BINARY", Latin1},
		{"hex", Hex}, {"HEX", Hex},
		{"base64", Base64}, {"Base64", Base64}, {"base64url", Base64URL},
		{"ucs2", UTF16LE}, {"ucs-2", UTF16LE}, {"utf16le", UTF16LE}, {"UTF-16LE", UTF16LE},
	} {
		got, err := ParseEncoding(tc.name)
		if err != nil || got != tc.want {
			t.Errorf("ParseEncoding(%q) = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	for _, name := range []string{"utf16", "utf-16be", "latin-1", "base-64", "hex ", "ucs4", "json"} {
		_, err := ParseEncoding(name)
		if !errors.Is(err, ErrUnknownEncoding) {
			t.Errorf("ParseEncoding(%q) err = %v, want ErrUnknownEncoding", name, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "rawbuf: ") {
			t.Errorf("error %q lacks prefix", err)
		}
	}
	for e := Encoding(0); e < numEncodings; e++ {
		if got, err := ParseEncoding(e.String()); err != nil || got != e {
			t.Errorf("ParseEncoding(%v.String()) = %v, %v", e, got, err)
		}
		if !e.Valid() {
			t.Errorf("%v not Valid", e)
		}
	}
	if s := Encoding(200).String(); s != "Encoding(200)" {
		t.Errorf("String() = %q", s)
	}
	if Encoding(numEncodings).Valid() {
		t.Error("out-of-range Encoding is Valid")
	}
	if _, err := AppendEncode(nil, "x", Encoding(99)); !errors.Is(err, ErrUnknownEncoding) {
		t.Errorf("AppendEncode with bad encoding: %v", err)
	}
	// AppendDecode treats unknown values as UTF8.
	if got := AppendDecode(nil, []byte("a\xff"), Encoding(99)); string(got) != "a\uFFFD" {
		t.Errorf("AppendDecode(bad enc) = %q", got)
	}
}

// The sensor struct used throughout: struct { uint32_t seq; uint64_t ts;
// float a, b, c; } packed, 24 bytes.
type sample struct {
	seq     uint32
	ts      uint64
	a, b, c float32
}

var testSample = sample{seq: 0x01020304, ts: 0x1122334455667788, a: 1.5, b: -2, c: float32(math.Inf(1))}

// Hand-written layouts of testSample.
var (
	sampleLE = []byte{
		0x04, 0x03, 0x02, 0x01, // seq
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // ts
		0x00, 0x00, 0xc0, 0x3f, // a = 1.5 = 0x3fc00000
		0x00, 0x00, 0x00, 0xc0, // b = -2 = 0xc0000000
		0x00, 0x00, 0x80, 0x7f, // c = +Inf = 0x7f800000
	}
	sampleBE = []byte{
		0x01, 0x02, 0x03, 0x04,
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0x3f, 0xc0, 0x00, 0x00,
		0xc0, 0x00, 0x00, 0x00,
		0x7f, 0x80, 0x00, 0x00,
	}
)

func putSample(w *Writer, s sample) {
	w.U32(s.seq)
	w.U64(s.ts)
	w.F32(s.a)
	w.F32(s.b)
	w.F32(s.c)
}

func getSample(r *Reader) sample {
	return sample{seq: r.U32(), ts: r.U64(), a: r.F32(), b: r.F32(), c: r.F32()}
}

func TestStructRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order binary.ByteOrder
		want  []byte
	}{
		{"binary.LittleEndian", binary.LittleEndian, sampleLE},
		{"binary.BigEndian", binary.BigEndian, sampleBE},
		{"rawbuf.LittleEndian", LittleEndian, sampleLE},
		{"rawbuf.BigEndian", BigEndian, sampleBE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWriter(nil, tc.order)
			putSample(&w, testSample)
			if !bytes.Equal(w.Bytes(), tc.want) {
				t.Fatalf("wrote\n%x\nwant\n%x", w.Bytes(), tc.want)
			}
			if w.Len() != 24 {
				t.Fatalf("Len = %d", w.Len())
			}
			r := NewReader(w.Bytes(), tc.order)
			got := getSample(&r)
			if got != testSample || r.Err() != nil || r.Remaining() != 0 || r.Offset() != 24 {
				t.Fatalf("read %+v err %v remaining %d", got, r.Err(), r.Remaining())
			}
			// Plain functions agree.
			o := OrderOf(tc.order)
			if U32(tc.want, o) != testSample.seq || U64(tc.want[4:], o) != testSample.ts ||
				F32(tc.want[12:], o) != testSample.a || F32(tc.want[16:], o) != testSample.b {
				t.Fatal("plain getters disagree")
			}
			b := make([]byte, 24)
			PutU32(b, o, testSample.seq)
			PutU64(b[4:], o, testSample.ts)
			PutF32(b[12:], o, testSample.a)
			PutF32(b[16:], o, testSample.b)
			PutF32(b[20:], o, testSample.c)
			if !bytes.Equal(b, tc.want) {
				t.Fatalf("plain putters wrote %x", b)
			}
		})
	}
	// The zero Writer is little-endian.
	var w Writer
	putSample(&w, testSample)
	if !bytes.Equal(w.Buf, sampleLE) {
		t.Fatal("zero Writer is not little-endian")
	}
	w.Reset()
	if w.Len() != 0 || cap(w.Buf) == 0 {
		t.Fatal("Reset")
	}
}

func TestAllTypes(t *testing.T) {
	for _, o := range []Order{LittleEndian, BigEndian} {
		var w Writer
		w.Order = o
		w.U8(0xfe)
		w.I8(-2)
		w.U16(0xbeef)
		w.I16(-2)
		w.U32(0xdeadbeef)
		w.I32(-2)
		w.U64(0x0123456789abcdef)
		w.I64(-2)
		w.F32(-1.25)
		w.F64(math.Pi)
		w.Append([]byte{1, 2, 3})
		w.AppendString("xy")
		w.Zero(3)
		w.Zero(-1)
		n, err := w.Write([]byte{9})
		if n != 1 || err != nil {
			t.Fatal("Write")
		}
		var want []byte
		want = append(want, 0xfe, 0xfe)
		want = o.AppendUint16(want, 0xbeef)
		want = o.AppendUint16(want, 0xfffe)
		want = o.AppendUint32(want, 0xdeadbeef)
		want = o.AppendUint32(want, 0xfffffffe)
		want = o.AppendUint64(want, 0x0123456789abcdef)
		want = o.AppendUint64(want, 0xfffffffffffffffe)
		want = o.AppendUint32(want, math.Float32bits(-1.25))
		want = o.AppendUint64(want, math.Float64bits(math.Pi))
		want = append(want, 1, 2, 3, 'x', 'y', 0, 0, 0, 9)
		if !bytes.Equal(w.Bytes(), want) {
			t.Fatalf("%v: got %x want %x", o, w.Bytes(), want)
		}
		r := NewReader(w.Bytes(), o)
		if r.Order() != o {
			t.Fatal("Order")
		}
		if r.U8() != 0xfe || r.I8() != -2 || r.U16() != 0xbeef || r.I16() != -2 ||
			r.U32() != 0xdeadbeef || r.I32() != -2 || r.U64() != 0x0123456789abcdef || r.I64() != -2 ||
			r.F32() != -1.25 || r.F64() != math.Pi {
			t.Fatalf("%v: read mismatch", o)
		}
		if b := r.Bytes(3); !bytes.Equal(b, []byte{1, 2, 3}) || cap(b) != 3 {
			t.Fatalf("Bytes(3) = %x cap %d", b, cap(b))
		}
		if !bytes.Equal(r.Rest(), []byte{'x', 'y', 0, 0, 0, 9}) {
			t.Fatal("Rest")
		}
		r.Skip(5)
		if r.U8() != 9 || r.Err() != nil || r.Remaining() != 0 {
			t.Fatal("tail")
		}
		// Signed plain functions.
		b := make([]byte, 8)
		PutI16(b, o, -3)
		PutI32(b[2:], o, -4)
		if I16(b, o) != -3 || I32(b[2:], o) != -4 || U16(b, o) != 0xfffd {
			t.Fatal("I16/I32")
		}
		PutI64(b, o, -5)
		if I64(b, o) != -5 {
			t.Fatal("I64")
		}
		PutU16(b, o, 7)
		PutF64(b, o, -0.5)
		if F64(b, o) != -0.5 {
			t.Fatal("F64")
		}
	}
}

func TestFloatsBitExact(t *testing.T) {
	f32 := []uint32{
		0x7fc00000, // quiet NaN
		0x7f800001, // signalling NaN
		0xffc00123, // negative NaN with payload
		0x7f800000, // +Inf
		0xff800000, // -Inf
		0x80000000, // -0
		0x00000001, // smallest subnormal
	}
	f64 := []uint64{
		0x7ff8000000000000, 0x7ff0000000000001, 0xfff8000000000abc,
		0x7ff0000000000000, 0xfff0000000000000, 0x8000000000000000, 1,
	}
	for _, o := range []Order{LittleEndian, BigEndian} {
		var w Writer
		w.Order = o
		for _, bits := range f32 {
			w.F32(math.Float32frombits(bits))
		}
		for _, bits := range f64 {
			w.F64(math.Float64frombits(bits))
		}
		r := NewReader(w.Bytes(), o)
		for i, bits := range f32 {
			if got := math.Float32bits(r.F32()); got != bits {
				t.Errorf("%v f32[%d]: %#x != %#x", o, i, got, bits)
			}
			if got := U32(w.Bytes()[4*i:], o); got != bits {
				t.Errorf("%v f32[%d] on the wire: %#x != %#x", o, i, got, bits)
			}
		}
		for i, bits := range f64 {
			if got := math.Float64bits(r.F64()); got != bits {
				t.Errorf("%v f64[%d]: %#x != %#x", o, i, got, bits)
			}
		}
		if r.Err() != nil {
			t.Fatal(r.Err())
		}
		if got := F32([]byte{0, 0, 0, 0x80}, LittleEndian); !math.Signbit(float64(got)) || got != 0 {
			t.Error("-0 lost its sign")
		}
	}
}

func TestReaderShortSticky(t *testing.T) {
	r := NewReader(sampleLE[:10], binary.LittleEndian)
	if r.U32() != 0x01020304 {
		t.Fatal("first read")
	}
	if v := r.U64(); v != 0 { // needs 8, 6 remain
		t.Fatalf("short U64 = %#x, want 0", v)
	}
	err := r.Err()
	if !errors.Is(err, ErrShort) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Err = %v", err)
	}
	if !strings.HasPrefix(err.Error(), "rawbuf: short buffer") {
		t.Fatalf("message %q", err)
	}
	// Sticky: the 6 bytes left are not handed out afterwards.
	if r.U8() != 0 || r.U16() != 0 || r.Bytes(1) != nil || r.F64() != 0 || r.Remaining() != 0 {
		t.Fatal("reads after error returned data")
	}
	if r.Err() != err {
		t.Fatal("first error not kept")
	}
	r.Reset([]byte{1}, BigEndian)
	if r.Err() != nil || r.U8() != 1 {
		t.Fatal("Reset")
	}
	for _, f := range []func(*Reader){
		func(r *Reader) { r.U8() }, func(r *Reader) { r.I8() },
		func(r *Reader) { r.U16() }, func(r *Reader) { r.I16() },
		func(r *Reader) { r.U32() }, func(r *Reader) { r.I32() }, func(r *Reader) { r.F32() },
		func(r *Reader) { r.U64() }, func(r *Reader) { r.I64() }, func(r *Reader) { r.F64() },
		func(r *Reader) { r.Bytes(1) }, func(r *Reader) { r.Bytes(-1) },
		func(r *Reader) { r.Skip(1) }, func(r *Reader) { r.Skip(-1) },
	} {
		var r Reader
		f(&r)
		if !errors.Is(r.Err(), ErrShort) {
			t.Errorf("zero Reader: no ErrShort")
		}
	}
	var z Reader
	if len(z.Bytes(0)) != 0 || z.Err() != nil {
		t.Error("Bytes(0) on an empty Reader should succeed")
	}
}

func TestOrderOf(t *testing.T) {
	native := LittleEndian
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		native = BigEndian
	}
	for _, tc := range []struct {
		in   binary.ByteOrder
		want Order
	}{
		{nil, LittleEndian}, {binary.LittleEndian, LittleEndian}, {binary.BigEndian, BigEndian},
		{binary.NativeEndian, native}, {LittleEndian, LittleEndian}, {BigEndian, BigEndian}, {Order(7), LittleEndian},
	} {
		if got := OrderOf(tc.in); got != tc.want {
			t.Errorf("OrderOf(%v) = %v", tc.in, got)
		}
	}
	if LittleEndian.String() != "LittleEndian" || BigEndian.String() != "BigEndian" {
		t.Error("String")
	}
	// Order satisfies the encoding/binary interfaces.
	var _ binary.ByteOrder = BigEndian
	var _ binary.AppendByteOrder = BigEndian
	b := binary.BigEndian.AppendUint64(nil, 1)
	if binary.Write(bytes.NewBuffer(nil), BigEndian, uint64(1)) != nil || BigEndian.Uint64(b) != 1 {
		t.Error("BigEndian as binary.ByteOrder")
	}
}

func TestHexdump(t *testing.T) {
	// Expected outputs from `hexdump -C -v` (util-linux); see also
	// TestHexdumpMatchesTool.
	for _, tc := range []struct {
		in   string
		base int
		want string
	}{
		{"", 0, ""},
		{"Hello, World!\n", 0, "" +
			"00000000  48 65 6c 6c 6f 2c 20 57  6f 72 6c 64 21 0a        |Hello, World!.|\n" +
			"0000000e\n"},
		{"\x00\x1f\x20\x7e\x7f\x80\xff", 0, "" +
			"00000000  00 1f 20 7e 7f 80 ff                              |.. ~...|\n" +
			"00000007\n"},
		{"0123456789abcdef0123456789abcdefXYZ", 0, "" +
			"00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n" +
			"00000010  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n" +
			"00000020  58 59 5a                                          |XYZ|\n" +
			"00000023\n"},
		// printf 'ab' > f; hexdump -C -s 1 f   (base offset; here b is "b")
		{"b", 1, "" +
			"00000001  62                                                |b|\n" +
			"00000002\n"},
		{"AAAAAAAAA", 0xfffffffc, "" +
			"fffffffc  41 41 41 41 41 41 41 41  41                       |AAAAAAAAA|\n" +
			"100000005\n"},
		{"x", -5, "00000000  78                                                |x|\n00000001\n"},
	} {
		got := string(AppendHexdump(nil, []byte(tc.in), tc.base))
		if got != tc.want {
			t.Errorf("AppendHexdump(%q, %d) =\n%s\nwant\n%s", tc.in, tc.base, got, tc.want)
		}
		if tc.base == 0 && Hexdump([]byte(tc.in)) != tc.want {
			t.Errorf("Hexdump(%q) differs", tc.in)
		}
	}
	for n := 0; n < 50; n++ {
		if got, want := len(AppendHexdump(nil, make([]byte, n), 0)), HexdumpLen(n); got != want {
			t.Errorf("HexdumpLen(%d) = %d, output %d", n, want, got)
		}
	}
}

func TestParseHex(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want as compact hex
	}{
		{"", ""},
		{"  \n", ""},
		{"deadBEEF", "deadbeef"},
		{"de:ad:be:ef", "deadbeef"},
		{"de-ad-be-ef", "deadbeef"},
		{"0xdead 0XBEEF", "deadbeef"},
	} {
		got, err := ParseHex(nil, tc.in)
		if err != nil || hex.EncodeToString(got) != tc.want {
			t.Errorf("ParseHex(%q) = %x, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"de ad\tbe\r\nef", "deadbeef"},
		{"0x00 ff:10-ab", "00ff10ab"},
		{"::--", ""},
	} {
		got, err := ParseHex([]byte{0xaa}, tc.in)
		if err != nil || hex.EncodeToString(got) != "aa"+tc.want {
			t.Errorf("ParseHex(%q) = %x, %v", tc.in, got, err)
		}
	}
	for _, tc := range []struct {
		in     string
		offset int
		reason string
	}{
		{"abc", 0, "odd number of hex digits"},
		{"ab cde", 3, "odd number of hex digits"},
		{"abzz", 2, "invalid character 'z'"},
		{"ab,cd", 2, "invalid character ','"},
		{"0x", 2, "0x prefix without digits"},
		{"0x 12", 2, "0x prefix without digits"},
		{"ab 0x1", 5, "odd number of hex digits"},
		{"12 é", 3, "invalid character 'é'"},
		{"0x0x12", 3, "invalid character 'x'"},
		{"a", 0, "odd number of hex digits"},
	} {
		dst := []byte{1, 2}
		got, err := ParseHex(dst, tc.in)
		var he *HexError
		if !errors.Is(err, ErrBadHex) || !errors.As(err, &he) {
			t.Errorf("ParseHex(%q) err = %v", tc.in, err)
			continue
		}
		if he.Offset != tc.offset || he.Reason != tc.reason {
			t.Errorf("ParseHex(%q) = offset %d %q; want %d %q", tc.in, he.Offset, he.Reason, tc.offset, tc.reason)
		}
		if !bytes.Equal(got, []byte{1, 2}) {
			t.Errorf("ParseHex(%q) on error returned %x", tc.in, got)
		}
		if !strings.HasPrefix(err.Error(), "rawbuf: bad hex at offset ") {
			t.Errorf("message %q", err)
		}
	}
	if got := string(AppendHex([]byte("x="), []byte{0x00, 0xAB, 0xff})); got != "x=00abff" {
		t.Errorf("AppendHex = %q", got)
	}
}

// TestHexdumpMatchesTool compares AppendHexdump with the system's
// `hexdump -C -v`, when there is one (the vectors in TestHexdump were taken
// from it).
func TestHexdumpMatchesTool(t *testing.T) {
	tool, err := exec.LookPath("hexdump")
	if err != nil {
		t.Skipf("hexdump not installed (%v); TestHexdump's vectors still apply", err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 1000} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.IntN(256))
		}
		path := filepath.Join(t.TempDir(), "data")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, skip := range []int{0, 1, 5} {
			if skip >= n { // hexdump prints a lone offset line for an empty tail; AppendHexdump prints nothing
				continue
			}
			want, err := exec.Command(tool, "-C", "-v", "-s", strconv.Itoa(skip), path).Output()
			if err != nil {
				t.Fatalf("hexdump: %v", err)
			}
			if got := AppendHexdump(nil, data[skip:], skip); !bytes.Equal(got, want) {
				t.Errorf("n=%d skip=%d:\n%s\nhexdump -C -v says\n%s", n, skip, got, want)
			}
		}
	}
}
