package frame

import (
	"strconv"
	"testing"
)

// jsonBenchSizes are the data payload sizes of the sub-benchmarks.
var jsonBenchSizes = []struct {
	name string
	n    int
}{{"16B", 16}, {"64B", 64}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}}

// jsonBenchData returns a JSON object of about n bytes (17 at least) shaped
// like typical event data: short keys, strings, numbers, a nested array.
func jsonBenchData(n int) []byte {
	b := []byte(`{"id":1`)
	for i := 0; len(b) < n-48; i++ {
		b = append(b, `,"k`...)
		b = strconv.AppendInt(b, int64(i), 10)
		switch i % 3 {
		case 0:
			b = append(b, `":"hello world"`...)
		case 1:
			b = append(b, `":-12.5e3`...)
		default:
			b = append(b, `":[true,null,7]`...)
		}
	}
	b = append(b, `,"pad":"`...)
	for len(b) < n-2 {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

func BenchmarkJSONEncode(b *testing.B) {
	for _, s := range jsonBenchSizes {
		data := jsonBenchData(s.n)
		b.Run(s.name, func(b *testing.B) {
			dst := make([]byte, 0, len(data)+64)
			want := len(AppendJSONEvent(nil, "message", data))
			b.ReportAllocs()
			b.SetBytes(int64(want))
			for b.Loop() {
				dst = AppendJSONEvent(dst[:0], "message", data)
				if len(dst) != want {
					b.Fatal("bad length")
				}
			}
		})
	}
}

func BenchmarkJSONParse(b *testing.B) {
	for _, s := range jsonBenchSizes {
		data := jsonBenchData(s.n)
		frame := AppendJSONEvent(nil, "message", data)
		b.Run(s.name, func(b *testing.B) {
			p := JSONParser{Options: JSONOptions{Reserved: ReservedLifecycle}}
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				ev, err := p.Parse(frame)
				if err != nil || len(ev.Data) != len(data) {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJSONRequestReply encodes a request, parses it, encodes the
// (error) reply and parses that: one round trip of the correlation
// extension, 64-byte data.
func BenchmarkJSONRequestReply(b *testing.B) {
	data := jsonBenchData(64)
	for _, errMsg := range []string{"", "division by zero"} {
		name := "reply"
		if errMsg != "" {
			name = "error-reply"
		}
		b.Run(name, func(b *testing.B) {
			var p JSONParser
			dst := make([]byte, 0, 256)
			b.ReportAllocs()
			id := uint32(0)
			for b.Loop() {
				id++
				if id == 0 {
					id = 1
				}
				dst = AppendJSONRequest(dst[:0], "sum", id, data)
				req, err := p.Parse(dst)
				if err != nil || req.ID != id {
					b.Fatal(err)
				}
				dst = AppendJSONReply(dst[:0], "sum", req.ID, []byte("6"), errMsg)
				rep, err := p.Parse(dst)
				if err != nil || rep.ReplyTo != id || len(rep.Error) != len(errMsg) {
					b.Fatal(err)
				}
			}
		})
	}
}
