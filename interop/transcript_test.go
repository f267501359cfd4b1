package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/seed-fc4a2f4b/goipc"
)

// item is one transcript event: a type and its data in JSON.stringify form
// (nodata: emitted without data).
type item struct {
	typ    string
	text   string
	nodata bool
}

// jsString writes s as JSON.stringify does: " and \ escaped, \b \t \n \f
// \r short, other controls \u00xx, everything else (U+2028 too) raw.
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

var (
	eventNames = []string{"message", "a.b.c", "with-dash", "ns:event", "path/to/event", "ünïcødé", "😀", "日本語.イベント",
		"mixed.ns:ev/x-y_z", "x", "dots...and--dashes::", "tab\there", "quote\"back\\slash", strings.Repeat("long.", 40)}
	strs = []string{"", "plain", "é", "😀", "👩‍👩‍👧‍👦", "\u2028\u2029", "\f", "a\fb", "\x00", "nul\x00inside", "\x01\x1f\x7f",
		"tab\tnew\nline\rret\bback", "<>&'\"\\/", "日本語", "𝄞 clef", "\ufeffbom", "{\"type\":\"fake\",\"data\":1}\f"}
	nums = []string{"0", "1", "-1", "0.1", "1.5", "-2.25", "123456789", "9007199254740991", "-9007199254740991",
		"5e-324", "1e+21", "-1e+21", "1.7976931348623157e+308", "2.5e-7", "0.000001", "1e+300", "4294967296"}
)

func genValue(r *rand.Rand, depth int) string {
	k := r.IntN(10)
	if depth > 4 {
		k = r.IntN(5)
	}
	switch k {
	case 0:
		return "null"
	case 1:
		return []string{"true", "false"}[r.IntN(2)]
	case 2, 3:
		return nums[r.IntN(len(nums))]
	case 4:
		return jsString(strs[r.IntN(len(strs))] + strs[r.IntN(len(strs))])
	case 5, 6:
		n := r.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = genValue(r, depth+1)
		}
		return "[" + strings.Join(parts, ",") + "]"
	default:
		n := r.IntN(4)
		parts := make([]string, 0, n)
		seen := map[string]bool{}
		for range n {
			key := strs[r.IntN(len(strs))]
			if seen[key] || isIndex(key) {
				continue
			}
			seen[key] = true
			parts = append(parts, jsString(key)+":"+genValue(r, depth+1))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
}

// isIndex reports keys JavaScript would reorder (array indexes).
func isIndex(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// transcript returns n varied events, including three 200 KB strings of
// multibyte characters that straddle reads.
func transcript(n int) []item {
	r := rand.New(rand.NewPCG(6, 6))
	var items []item
	fixed := []string{"null", `""`, "{}", "[]", "0", "false", "true", "9007199254740991", "-9007199254740991", "5e-324", "1e+21",
		jsString("\x00\f\u2028😀"), `{"":{"":[]}}`, `[[[[[[[[[[]]]]]]]]]]`}
	for i, f := range fixed {
		items = append(items, item{typ: eventNames[i%len(eventNames)], text: f})
	}
	items = append(items, item{typ: "nodata", nodata: true})
	for i := range 3 {
		s := strings.Repeat("aé€😀", 200<<10/10) // ~200 KB of 1-4 byte characters
		items = append(items, item{typ: fmt.Sprintf("big.%d", i), text: `{"big":` + jsString(s[:len(s)-i]) + `,"i":` + fmt.Sprint(i) + `}`})
	}
	for len(items) < n {
		if r.IntN(25) == 0 {
			items = append(items, item{typ: eventNames[r.IntN(len(eventNames))], nodata: true})
			continue
		}
		items = append(items, item{typ: eventNames[r.IntN(len(eventNames))], text: genValue(r, 0)})
	}
	return items
}

// writeTranscript writes items as JSON lines [type, text|null] for the
// node peer.
func writeTranscript(t testing.TB, items []item) string {
	t.Helper()
	var b bytes.Buffer
	for _, it := range items {
		var text any = it.text
		if it.nodata {
			text = nil
		}
		line, err := json.Marshal([]any{it.typ, text})
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	f := filepath.Join(t.TempDir(), "transcript.jsonl")
	if err := os.WriteFile(f, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// expected is what goipc must receive for it from node-ipc v: the same
// bytes; {} for no data; node-ipc 9 also turns null and "" into {}.
func (it item) expected(v nodeIPC) string {
	if it.nodata || (v.is9() && (it.text == "null" || it.text == `""`)) {
		return "{}"
	}
	return it.text
}

// checkGoReceived compares what a goipc endpoint got with the transcript,
// in order, as bytes and as values decoded with UseNumber.
func checkGoReceived(t testing.TB, v nodeIPC, ch chan goMsg, items []item) {
	t.Helper()
	for i, it := range items {
		m := recv(t, ch, fmt.Sprintf("transcript event %d", i))
		want := it.expected(v)
		if m.event != it.typ || string(m.data) != want {
			t.Fatalf("event %d: got %q %.120q, want %q %.120q", i, m.event, m.data, it.typ, want)
		}
		if !utf8.Valid(m.data) {
			t.Fatalf("event %d: invalid UTF-8", i)
		}
		var a, b any
		if err := (goipc.Message{Data: m.data}).Decode(&a); err != nil {
			t.Fatalf("event %d: Decode: %v", i, err)
		}
		d := json.NewDecoder(strings.NewReader(want))
		d.UseNumber()
		d.Decode(&b)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("event %d: decoded %v, want %v", i, a, b)
		}
	}
}

// runExpect has the node peer check the next len(items) events against the
// transcript, calling send to make goipc emit them.
func runExpect(t testing.TB, p *peer, file string, n int, send func()) {
	t.Helper()
	p.do(map[string]any{"cmd": "expect", "file": file})
	if r := p.wait("expecting"); r.N != n {
		t.Fatalf("peer expects %d events, want %d", r.N, n)
	}
	send()
	r := p.waitFn("transcript result", func(r report) bool {
		if r.Ev == "error" {
			t.Errorf("peer: %s", r.Message)
		}
		return r.Ev == "transcript"
	})
	if !r.OK || r.N != n {
		t.Fatalf("node-ipc %s: transcript of %d: %d events, first mismatch %s", p.name, n, r.N, r.Mismatch)
	}
}

const transcriptLen = 400

// TestTranscript: hundreds of varied events, verified deep-equal and in
// order, in both directions, with goipc as server and as client.
func TestTranscript(t *testing.T) {
	items := transcript(transcriptLen)
	forVersions(t, func(t *testing.T, v nodeIPC) {
		file := writeTranscript(t, items)
		emitAll := func(emit func(string, []byte) error) func() {
			return func() {
				for _, it := range items {
					var data []byte
					if !it.nodata {
						data = []byte(it.text)
					}
					if err := emit(it.typ, data); err != nil {
						t.Errorf("Emit %q: %v", it.typ, err)
						return
					}
				}
			}
		}
		t.Run("goServer-unix", func(t *testing.T) {
			ch := make(chan goMsg, transcriptLen+16)
			conns := make(chan *goipc.Conn, 1)
			_, node := goServer(t, transportNamed("unix"), func(s *goipc.Server) {
				s.OnConnect(func(c *goipc.Conn) { conns <- c })
				s.HandleAny(func(c *goipc.Conn, m goipc.Message) { m = m.Clone(); ch <- goMsg{c, m.Event, m.Data} })
			}, goipc.WithCodec(goipc.JSONCodec()))
			node["quiet"] = true
			p := startPeer(t, v, node)
			p.wait("connect")
			c := <-conns
			// node-ipc → goipc
			p.do(map[string]any{"cmd": "send", "file": file})
			checkGoReceived(t, v, ch, items)
			// goipc → node-ipc
			runExpect(t, p, file, len(items), emitAll(c.Emit))
		})
		t.Run("nodeServer-tcp", func(t *testing.T) {
			p, addr, opts := startNodeServer(t, v, transportNamed("tcp4"), map[string]any{"quiet": true}, nil)
			cl, ch := dialGo(t, addr, append(opts, goipc.WithCodec(goipc.JSONCodec()))...)
			p.wait("connect")
			runExpect(t, p, file, len(items), emitAll(cl.Emit))
			p.do(map[string]any{"cmd": "send", "file": file})
			checkGoReceived(t, v, ch, items)
		})
	})
}
