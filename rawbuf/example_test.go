package rawbuf_test

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/seed-fc4a2f4b/goipc/rawbuf"
)

// A C peer sends struct { uint32_t seq; uint64_t ts; float a, b, c; },
// packed and little-endian: 24 bytes.
func Example_sensorStruct() {
	var buf [64]byte // reused across messages: no allocation
	w := rawbuf.NewWriter(buf[:0], binary.LittleEndian)
	w.U32(1)      // seq
	w.U64(123456) // ts
	w.F32(1.5)    // a
	w.F32(-2)     // b
	w.F32(float32(math.Inf(1)))
	payload := w.Bytes()
	fmt.Println(len(payload), "bytes")
	fmt.Print(rawbuf.Hexdump(payload))

	r := rawbuf.NewReader(payload, binary.LittleEndian)
	seq, ts := r.U32(), r.U64()
	a, b, c := r.F32(), r.F32(), r.F32()
	fmt.Println(seq, ts, a, b, c, r.Err())

	r.U8() // one read too many
	fmt.Println(r.Err())
	// Output:
	// 24 bytes
	// 00000000  01 00 00 00 40 e2 01 00  00 00 00 00 00 00 c0 3f  |....@..........?|
	// 00000010  00 00 00 c0 00 00 80 7f                           |........|
	// 00000018
	// 1 123456 1.5 -2 +Inf <nil>
	// rawbuf: short buffer: need 1 bytes at offset 24, 0 remain (unexpected EOF)
}

func ExampleAppendHex() {
	fmt.Printf("%s\n", rawbuf.AppendHex(nil, []byte{0xde, 0xad, 0xbe, 0xef}))
	b, err := rawbuf.ParseHex(nil, "0xde:ad be-ef")
	fmt.Printf("%x %v\n", b, err)
	_, err = rawbuf.ParseHex(nil, "de ad b")
	fmt.Println(err)
	// Output:
	// deadbeef
	// deadbeef <nil>
	// rawbuf: bad hex at offset 6: odd number of hex digits
}

func ExampleAppendHexdump() {
	fmt.Printf("%s", rawbuf.AppendHexdump(nil, []byte("node-ipc \x0craw\x00buffer"), 0x100))
	// Output:
	// 00000100  6e 6f 64 65 2d 69 70 63  20 0c 72 61 77 00 62 75  |node-ipc .raw.bu|
	// 00000110  66 66 65 72                                       |ffer|
	// 00000114
}

// node-ipc's config.encoding: convert like Buffer.from(s, enc) and
// buf.toString(enc).
func ExampleAppendEncode() {
	enc, _ := rawbuf.ParseEncoding("hex")
	b, _ := rawbuf.AppendEncode(nil, "abzz", enc) // Node: Buffer.from('abzz', 'hex')
	fmt.Printf("%x\n", b)

	b, _ = rawbuf.AppendEncode(nil, "SGVs bG8\n", rawbuf.Base64) // lenient, like Node
	fmt.Printf("%s\n", b)

	fmt.Printf("%s\n", rawbuf.AppendDecode(nil, []byte{0xfb, 0xff}, rawbuf.Base64))
	fmt.Printf("%+q\n", rawbuf.AppendDecode(nil, []byte{'a', 0xe2, 0x82, 'b'}, rawbuf.UTF8))
	// Output:
	// ab
	// Hello
	// +/8=
	// "a\ufffdb"
}
