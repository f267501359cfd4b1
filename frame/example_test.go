package frame_test

import (
	"bufio"
	"bytes"
	"fmt"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

func ExampleLengthField() {
	// A C protocol with a 2-byte little-endian length of the payload.
	c, err := frame.NewLengthField(frame.LengthFieldConfig{Size: 2, LittleEndian: true})
	if err != nil {
		panic(err)
	}
	wire, _ := c.Append(nil, []byte("ping"))
	fmt.Printf("% x\n", wire)

	payload, n, err := c.Parse(wire)
	fmt.Printf("%s %d %v\n", payload, n, err)
	// Output:
	// 04 00 70 69 6e 67
	// ping 6 <nil>
}

func ExampleDecoder() {
	c := frame.MustLengthField(frame.LengthFieldConfig{})
	var stream []byte
	for _, s := range []string{"one", "two", "three"} {
		stream, _ = c.Append(stream, []byte(s))
	}
	d := frame.NewDecoder(bufio.NewReader(bytes.NewReader(stream)), c)
	for {
		p, err := d.Next()
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(string(p)) // p is valid until the next call of Next
	}
	// Output:
	// one
	// two
	// three
	// EOF
}

func ExampleAppendEvent() {
	c := frame.MustLengthField(frame.LengthFieldConfig{})
	// Encode the envelope straight into its frame.
	buf, mark := c.Begin(nil)
	buf, _ = frame.AppendEvent(buf, "tick", 0, 0, []byte{0x2a})
	buf, _ = c.End(buf, mark)
	fmt.Printf("% x\n", buf)

	payload, _, _ := c.Parse(buf)
	ev, _ := frame.ParseEvent(payload)
	fmt.Printf("%s % x\n", ev.Name, ev.Data)
	// Output:
	// 00 00 00 08 01 00 04 74 69 63 6b 2a
	// tick 2a
}

func ExampleCompressor() {
	comp, _ := frame.NewCompressor(frame.S2, 64)
	defer comp.Close()
	data := bytes.Repeat([]byte("temperature=21.5;"), 100)
	wire, _ := comp.AppendEvent(nil, "log", 0, 0, data)

	ev, _ := frame.ParseEvent(wire)
	d := frame.NewDecompressor(1 << 20) // refuses anything larger once expanded
	plain, err := d.Data(ev)
	fmt.Println(ev.Flags.Compression(), len(data), len(wire) < len(data)/4, bytes.Equal(plain, data), err)
	// Output:
	// s2 1700 true true <nil>
}
