package interop

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/seed-fc4a2f4b/goipc"
)

// sample is a data value in exactly the form JSON.stringify writes it, so
// that node-ipc's bytes can be compared with it byte for byte: raw
// non-ASCII (U+2028 and U+2029 included), \f and NUL escaped, the
// extremes of exact integers, the smallest subnormal, 1e21, empty
// containers, null.
const sample = "{\"s\":\"é😀\u2028\u2029 \\f\\u0000\\n<>&/\\\"\\\\\",\"max\":9007199254740991,\"min\":-9007199254740991," +
	"\"tiny\":5e-324,\"big\":1e+21,\"f\":-0.5,\"o\":{},\"a\":[],\"n\":null,\"t\":true,\"deep\":{\"x\":[[{\"y\":[]}]]}}"

const pushFrame = "{\"type\":\"push\",\"data\":{}}\f"

// checkSample decodes data as Message.Decode does (UseNumber) and checks
// the numbers kept every digit.
func checkSample(t testing.TB, who string, data []byte) {
	t.Helper()
	if !bytes.Equal(data, []byte(sample)) {
		t.Errorf("%s: data\n got %q\nwant %q", who, data, sample)
		return
	}
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", who, err)
	}
	for k, want := range map[string]string{"max": "9007199254740991", "min": "-9007199254740991", "tiny": "5e-324", "big": "1e+21"} {
		if n, ok := v[k].(json.Number); !ok || n.String() != want {
			t.Errorf("%s: %s = %v, want %s", who, k, v[k], want)
		}
	}
}

func cmdEmit(typ string, data string) map[string]any {
	return map[string]any{"cmd": "emit", "type": typ, "data": json.RawMessage(data)}
}

// TestJSONGoServer: node-ipc clients talk to a goipc server over every
// transport: data both ways byte-exact, emit without data is {} both ways.
func TestJSONGoServer(t *testing.T) {
	forVersions(t, func(t *testing.T, v nodeIPC) {
		for _, tr := range transports {
			t.Run(tr.name, func(t *testing.T) {
				got := make(chan goMsg, 64)
				conns := make(chan *goipc.Conn, 4)
				decoded := make(chan string, 4)
				_, node := goServer(t, tr, func(s *goipc.Server) {
					s.OnConnect(func(c *goipc.Conn) { conns <- c })
					s.HandleAny(func(c *goipc.Conn, m goipc.Message) {
						var val any
						if err := m.Decode(&val); err != nil {
							t.Errorf("Decode: %v", err)
						}
						if o, ok := val.(map[string]any); ok && o["max"] != nil {
							decoded <- o["max"].(json.Number).String()
						}
						if err := c.Emit(m.Event, m.Data); err != nil {
							t.Errorf("echo: %v", err)
						}
						m = m.Clone()
						got <- goMsg{c, m.Event, m.Data}
					})
				}, goipc.WithCodec(goipc.JSONCodec()))
				node["tap"] = true
				p := startPeer(t, v, node)
				if !tr.udp() {
					p.wait("connect")
				}
				p.do(cmdEmit("hello", sample))
				p.do(map[string]any{"cmd": "emit", "type": "nodata"})

				checkSample(t, "goipc server got", recvEvent(t, got, "hello").data)
				if d := recvEvent(t, got, "nodata").data; string(d) != "{}" {
					t.Errorf("emit without data from node-ipc: goipc got %q, want {}", d)
				}
				if n := <-decoded; n != "9007199254740991" {
					t.Errorf("Message.Decode: max = %s", n)
				}
				checkSample(t, "node-ipc client got (echo)", p.event("hello").Data)
				if d := p.event("nodata").Data; string(d) != "{}" {
					t.Errorf("node got %s for nodata", d)
				}

				// Emit without data from goipc: node-ipc sees {} and, on a
				// stream, exactly node-ipc's own bytes.
				c := <-conns
				if err := c.Emit("push", nil); err != nil {
					t.Fatal(err)
				}
				if d := p.event("push").Data; string(d) != "{}" {
					t.Errorf("goipc Emit(push, nil): node-ipc got data %s, want {}", d)
				}
				if !tr.udp() {
					p.waitFn("wire bytes of push", func(r report) bool { return r.Ev == "wire" && strings.Contains(r.S, pushFrame) })
				}
			})
		}
	})
}

// TestJSONNodeServer: goipc clients talk to node-ipc servers over every
// transport.
func TestJSONNodeServer(t *testing.T) {
	forVersions(t, func(t *testing.T, v nodeIPC) {
		for _, tr := range transports {
			t.Run(tr.name, func(t *testing.T) {
				p, addr, opts := startNodeServer(t, v, tr, map[string]any{"echo": true, "tap": true}, nil)
				cl, ch := dialGo(t, addr, append(opts, goipc.WithCodec(goipc.JSONCodec()))...)
				if !tr.udp() {
					p.wait("connect")
				}
				if err := cl.Emit("hello", []byte(sample)); err != nil {
					t.Fatal(err)
				}
				if err := cl.Emit("nodata", nil); err != nil {
					t.Fatal(err)
				}
				checkSample(t, "node-ipc server got", p.event("hello").Data)
				if d := p.event("nodata").Data; string(d) != "{}" {
					t.Errorf("goipc Emit(nodata, nil): node-ipc got %s, want {}", d)
				}
				if !tr.udp() {
					p.waitFn("wire bytes of nodata", func(r report) bool {
						return r.Ev == "wire" && strings.Contains(r.S, "{\"type\":\"nodata\",\"data\":{}}\f")
					})
				}
				checkSample(t, "goipc client got (echo)", recvEvent(t, ch, "hello").data)
				if d := recvEvent(t, ch, "nodata").data; string(d) != "{}" {
					t.Errorf("echo of nodata: %q", d)
				}
				p.do(map[string]any{"cmd": "emit", "type": "push"})
				if d := recvEvent(t, ch, "push").data; string(d) != "{}" {
					t.Errorf("node-ipc emit(push): goipc got %q, want {}", d)
				}
			})
		}
	})
}

// rawPayload is what the raw tests send: every byte value in a stream;
// node-ipc 9 over UDP only passes valid UTF-8 (it decodes datagrams as
// UTF-8 whatever config.encoding says), so it gets text there.
func rawPayload(v nodeIPC, tr transport) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	if tr.udp() {
		var out [][]byte
		for i := range 3 {
			if v.is9() {
				out = append(out, []byte(strings.Repeat("héllo 😀 ", 50+i)))
				continue
			}
			b := make([]byte, 1000+i)
			for j := range b {
				b[j] = byte(r.UintN(256))
			}
			out = append(out, b)
		}
		return out
	}
	b := make([]byte, 64<<10)
	for j := range b {
		b[j] = byte(j)
		if j >= 256 {
			b[j] = byte(r.UintN(256))
		}
	}
	return [][]byte{b[:20000], b[20000:]}
}

func concat(chunks [][]byte) []byte { return bytes.Join(chunks, nil) }

// TestRawGoServer: node-ipc rawBuffer clients and a goipc RawCodec server
// exchange bytes unchanged in both directions.
func TestRawGoServer(t *testing.T) {
	forVersions(t, func(t *testing.T, v nodeIPC) {
		for _, tr := range transports {
			t.Run(tr.name, func(t *testing.T) {
				got := make(chan goMsg, 256)
				_, node := goServer(t, tr, func(s *goipc.Server) {
					s.OnData(func(c *goipc.Conn, b []byte) {
						got <- goMsg{c, "", append([]byte(nil), b...)}
						if err := c.Send(b); err != nil {
							t.Errorf("echo: %v", err)
						}
					})
				}, goipc.WithCodec(goipc.RawCodec()))
				merge(node["config"].(map[string]any), rawConfig(v, tr))
				p := startPeer(t, v, node)
				if !tr.udp() {
					p.wait("connect")
				}
				chunks := rawPayload(v, tr)
				for _, c := range chunks {
					p.do(map[string]any{"cmd": "raw", "hex": hexEncode(c)})
				}
				want := concat(chunks)
				if g := recvBytes(t, got, len(want)); !bytes.Equal(g, want) {
					t.Errorf("goipc got %d bytes, differing from the %d node-ipc sent", len(g), len(want))
				}
				if g := p.rawBytes(len(want)); !bytes.Equal(g, want) {
					t.Errorf("node-ipc got %d bytes back, differing from the %d sent", len(g), len(want))
				}
			})
		}
	})
}

// TestRawNodeServer: a goipc RawCodec client and a node-ipc rawBuffer
// server.
func TestRawNodeServer(t *testing.T) {
	forVersions(t, func(t *testing.T, v nodeIPC) {
		for _, tr := range transports {
			t.Run(tr.name, func(t *testing.T) {
				p, addr, opts := startNodeServer(t, v, tr, map[string]any{"echo": true}, rawConfig(v, tr))
				cl, ch := dialGo(t, addr, append(opts, goipc.WithCodec(goipc.RawCodec()))...)
				if !tr.udp() {
					p.wait("connect")
				}
				chunks := rawPayload(v, tr)
				for _, c := range chunks {
					if err := cl.Send(c); err != nil {
						t.Fatal(err)
					}
				}
				want := concat(chunks)
				if g := p.rawBytes(len(want)); !bytes.Equal(g, want) {
					t.Errorf("node-ipc got %d bytes, differing from the %d goipc sent", len(g), len(want))
				}
				if g := recvBytes(t, ch, len(want)); !bytes.Equal(g, want) {
					t.Errorf("goipc got %d bytes back, differing from the %d sent", len(g), len(want))
				}
			})
		}
	})
}
