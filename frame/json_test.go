package frame

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"
)

// jsonCode returns the ProtocolError code of err, or 0.
func jsonCode(t *testing.T, err error) Code {
	t.Helper()
	if err == nil {
		return 0
	}
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ProtocolError", err, err)
	}
	return pe.Code
}

func TestJSONEncodeNodeIPCExamples(t *testing.T) {
	// node-ipc: ipc.of.world.emit("hello", {msg: "hi", n: 1}) writes these
	// bytes (Parser.encode = JSON.stringify({type, data}) + "\f").
	got := append(AppendJSONEvent(nil, "hello", []byte(`{"msg":"hi","n":1}`)), 0x0C)
	if want := "{\"type\":\"hello\",\"data\":{\"msg\":\"hi\",\"n\":1}}\f"; string(got) != want {
		t.Errorf("emit with data: got %q, want %q", got, want)
	}
	// emit("hello") without data sends "data":{}.
	if got, want := AppendJSONEvent(nil, "hello", nil), `{"type":"hello","data":{}}`; string(got) != want {
		t.Errorf("emit without data: got %q, want %q", got, want)
	}
	if got, want := AppendJSONEvent(nil, "hello", []byte{}), `{"type":"hello","data":{}}`; string(got) != want {
		t.Errorf("emit with empty data: got %q, want %q", got, want)
	}
	// Appends after existing bytes.
	if got, want := AppendJSONEvent([]byte("x"), "a", []byte("1")), `x{"type":"a","data":1}`; string(got) != want {
		t.Errorf("append: got %q, want %q", got, want)
	}
}

// jsonNodeTable holds node 20.20.2 outputs of
// process.stdout.write(JSON.stringify({type: T, data: {}})) for each T,
// generated once and hard-coded here.
var jsonNodeTable = []struct{ typ, want string }{
	{"\x00", "{\"type\":\"\\u0000\",\"data\":{}}"},
	{"\x01", "{\"type\":\"\\u0001\",\"data\":{}}"},
	{"\x02", "{\"type\":\"\\u0002\",\"data\":{}}"},
	{"\x03", "{\"type\":\"\\u0003\",\"data\":{}}"},
	{"\x04", "{\"type\":\"\\u0004\",\"data\":{}}"},
	{"\x05", "{\"type\":\"\\u0005\",\"data\":{}}"},
	{"\x06", "{\"type\":\"\\u0006\",\"data\":{}}"},
	{"\a", "{\"type\":\"\\u0007\",\"data\":{}}"},
	{"\b", "{\"type\":\"\\b\",\"data\":{}}"},
	{"\t", "{\"type\":\"\\t\",\"data\":{}}"},
	{"\n", "{\"type\":\"\\n\",\"data\":{}}"},
	{"\v", "{\"type\":\"\\u000b\",\"data\":{}}"},
	{"\f", "{\"type\":\"\\f\",\"data\":{}}"},
	{"\r", "{\"type\":\"\\r\",\"data\":{}}"},
	{"\x0e", "{\"type\":\"\\u000e\",\"data\":{}}"},
	{"\x0f", "{\"type\":\"\\u000f\",\"data\":{}}"},
	{"\x10", "{\"type\":\"\\u0010\",\"data\":{}}"},
	{"\x11", "{\"type\":\"\\u0011\",\"data\":{}}"},
	{"\x12", "{\"type\":\"\\u0012\",\"data\":{}}"},
	{"\x13", "{\"type\":\"\\u0013\",\"data\":{}}"},
	{"\x14", "{\"type\":\"\\u0014\",\"data\":{}}"},
	{"\x15", "{\"type\":\"\\u0015\",\"data\":{}}"},
	{"\x16", "{\"type\":\"\\u0016\",\"data\":{}}"},
	{"\x17", "{\"type\":\"\\u0017\",\"data\":{}}"},
	{"\x18", "{\"type\":\"\\u0018\",\"data\":{}}"},
	{"\x19", "{\"type\":\"\\u0019\",\"data\":{}}"},
	{"\x1a", "{\"type\":\"\\u001a\",\"data\":{}}"},
	{"\x1b", "{\"type\":\"\\u001b\",\"data\":{}}"},
	{"\x1c", "{\"type\":\"\\u001c\",\"data\":{}}"},
	{"\x1d", "{\"type\":\"\\u001d\",\"data\":{}}"},
	{"\x1e", "{\"type\":\"\\u001e\",\"data\":{}}"},
	{"\x1f", "{\"type\":\"\\u001f\",\"data\":{}}"},
	{"\x7f", "{\"type\":\"\x7f\",\"data\":{}}"},
	{"\"", "{\"type\":\"\\\"\",\"data\":{}}"},
	{"\\", "{\"type\":\"\\\\\",\"data\":{}}"},
	{"<>&", "{\"type\":\"<>&\",\"data\":{}}"},
	{"\u2028", "{\"type\":\"\u2028\",\"data\":{}}"},
	{"\u2029", "{\"type\":\"\u2029\",\"data\":{}}"},
	{"\U0001f600", "{\"type\":\"\U0001f600\",\"data\":{}}"},
	{"\f", "{\"type\":\"\\f\",\"data\":{}}"},
	{"a\u2028b\u2029c", "{\"type\":\"a\u2028b\u2029c\",\"data\":{}}"},
	{"h\u00e9llo w\u00f6rld", "{\"type\":\"h\u00e9llo w\u00f6rld\",\"data\":{}}"},
	{"</script>", "{\"type\":\"</script>\",\"data\":{}}"},
	{"/", "{\"type\":\"/\",\"data\":{}}"},
	{"a\"b\\c\n", "{\"type\":\"a\\\"b\\\\c\\n\",\"data\":{}}"},
	{"\u65e5\u672c\u8a9e", "{\"type\":\"\u65e5\u672c\u8a9e\",\"data\":{}}"},
	{"\u0080\u00ff\u07ff\u0800\uffff", "{\"type\":\"\u0080\u00ff\u07ff\u0800\uffff\",\"data\":{}}"},
	{"\U0010ffff", "{\"type\":\"\U0010ffff\",\"data\":{}}"},
	{"message", "{\"type\":\"message\",\"data\":{}}"},
	{"app.message", "{\"type\":\"app.message\",\"data\":{}}"},
	{"x\x00y\x1fz", "{\"type\":\"x\\u0000y\\u001fz\",\"data\":{}}"},
	{"\t\r\n\b\f", "{\"type\":\"\\t\\r\\n\\b\\f\",\"data\":{}}"},
}

func TestJSONEncodeMatchesNodeTable(t *testing.T) {
	var p JSONParser
	p.Options.AllowEmptyType = true
	for _, tc := range jsonNodeTable {
		got := AppendJSONEvent(nil, tc.typ, nil)
		if string(got) != tc.want {
			t.Errorf("AppendJSONEvent(%q): got %q, node gives %q", tc.typ, got, tc.want)
		}
		if bytes.IndexByte(got, 0x0C) >= 0 {
			t.Errorf("AppendJSONEvent(%q) holds the delimiter 0x0C", tc.typ)
		}
		if got, want := string(AppendJSONString(nil, tc.typ)), strings.TrimSuffix(strings.TrimPrefix(tc.want, `{"type":`), `,"data":{}}`); got != want {
			t.Errorf("AppendJSONString(%q): got %q, want %q", tc.typ, got, want)
		}
		ev, err := p.Parse([]byte(tc.want))
		if err != nil || string(ev.Type) != tc.typ || string(ev.Data) != "{}" {
			t.Errorf("Parse(%q) = %q, %q, %v", tc.want, ev.Type, ev.Data, err)
		}
	}
}

func TestJSONStringInvalidUTF8(t *testing.T) {
	// Each invalid byte becomes U+FFFD. Node's Buffer#toString agrees for
	// "\xff", "\xed\xa0\x80" and "\xc0\xaf", but writes one U+FFFD for a
	// truncated sequence such as "\xe2\x82" or "\xf0\x90\x8c" (documented).
	for _, tc := range []struct{ in, want string }{
		{"\xff", "\"\ufffd\""},
		{"a\xffb", "\"a\ufffdb\""},
		{"\xed\xa0\x80", "\"\ufffd\ufffd\ufffd\""},
		{"\xc0\xaf", "\"\ufffd\ufffd\""},
		{"\xe2\x82", "\"\ufffd\ufffd\""},
		{"\xf0\x90\x8c", "\"\ufffd\ufffd\ufffd\""},
		{"ok\u00e9\xe2(\xa1", "\"ok\u00e9\ufffd(\ufffd\""},
		{"\ufffd", "\"\ufffd\""},
	} {
		if got := AppendJSONString(nil, tc.in); string(got) != tc.want {
			t.Errorf("AppendJSONString(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestJSONEncodeCanary(t *testing.T) {
	// Appending past a hard-capped dst must reallocate, never write past cap.
	buf := bytes.Repeat([]byte{0xAA}, 128)
	dst := buf[:0:16]
	out := AppendJSONEvent(dst, "hello\n", []byte(`{"msg":"hi"}`))
	if string(out) != `{"type":"hello\n","data":{"msg":"hi"}}` {
		t.Fatalf("got %q", out)
	}
	for i, c := range buf[16:] {
		if c != 0xAA {
			t.Fatalf("canary byte %d overwritten", 16+i)
		}
	}
}

// jsonRandString returns a random valid UTF-8 string weighted towards the
// characters that JSON escaping treats specially.
func jsonRandString(r *rand.Rand) string {
	specials := []rune{0x2028, 0x2029, 0xfeff, 0xfffd, 0xffff, 0x10ffff, 0x1f600, 0x80, 0x7ff, 0x800, 0x7f, '"', '\\', '/', '<', '>', '&', '\f'}
	n := r.IntN(24)
	var sb strings.Builder
	for range n {
		var c rune
		switch r.IntN(5) {
		case 0:
			c = rune(r.IntN(0x20))
		case 1:
			c = rune(r.IntN(0x80))
		case 2:
			c = specials[r.IntN(len(specials))]
		case 3:
			c = rune(r.IntN(0xd800))
		default:
			c = rune(0xe000 + r.IntN(0x110000-0xe000))
		}
		sb.WriteRune(c)
	}
	return sb.String()
}

// jsonNodeOrSkip returns the path of node, skipping the test when it is
// missing outside CI and failing it in CI.
func jsonNodeOrSkip(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("node not found; this test runs in CI")
		}
		t.Fatalf("node is required in CI: %v", err)
	}
	return path
}

// jsonNodeScript reads a JSON array of base64 UTF-8 strings on stdin and
// writes, for each string T, [base64(JSON.stringify({type:T,data:D})),
// base64(JSON.stringify(D))] with D an object built from T, exactly as
// node-ipc's Parser.encode does.
const jsonNodeScript = `
let input='';
process.stdin.setEncoding('utf8');
process.stdin.on('data',(c)=>{input+=c;});
process.stdin.on('end',()=>{
  const out=JSON.parse(input).map((b,i)=>{
    const t=Buffer.from(b,'base64').toString('utf8');
    const d={s:t,n:[i,-i,i/7,1e21,5e-324],nested:{a:[t,null,true,false]},e:{}};
    const enc=(o)=>Buffer.from(JSON.stringify(o),'utf8').toString('base64');
    return [enc({type:t,data:d}),enc(d)];
  });
  process.stdout.write(JSON.stringify(out));
});
`

func TestJSONEncodeMatchesNodeRandom(t *testing.T) {
	node := jsonNodeOrSkip(t)
	r := rand.New(rand.NewPCG(1, 2))
	types := make([]string, 3000)
	in := make([]string, len(types))
	for i := range types {
		types[i] = jsonRandString(r)
		in[i] = base64.StdEncoding.EncodeToString([]byte(types[i]))
	}
	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "-e", jsonNodeScript)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.Bytes())
	}
	var out [][2]string
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != len(types) {
		t.Fatalf("node returned %d results for %d inputs", len(out), len(types))
	}
	p := JSONParser{Options: JSONOptions{AllowEmptyType: true, MaxTypeLen: 1 << 10}}
	for i, typ := range types {
		frame, _ := base64.StdEncoding.DecodeString(out[i][0])
		data, _ := base64.StdEncoding.DecodeString(out[i][1])
		if got := AppendJSONEvent(nil, typ, data); !bytes.Equal(got, frame) {
			t.Errorf("type %q:\n got  %q\n node %q", typ, got, frame)
			continue
		}
		ev, err := p.Parse(frame)
		if err != nil {
			t.Errorf("Parse(node frame %q): %v", frame, err)
			continue
		}
		if string(ev.Type) != typ || !bytes.Equal(ev.Data, data) {
			t.Errorf("Parse(%q) = %q, %q; want %q, %q", frame, ev.Type, ev.Data, typ, data)
		}
	}
}

func TestJSONEncodeValue(t *testing.T) {
	// node 20: JSON.stringify({type:"t\u2028",data:v}) with v the same
	// value as below, keys in sorted order.
	const nodeOut = "{\"type\":\"t\u2028\",\"data\":{\"a\":\"x\u2028y\u2029z<>&\",\"b\":[1,2.5,\"\\\\u2028\",\"\\\\\u2028\"],\"c\":null,\"d\":true,\"e\":1e+21,\"f\":1e-7,\"g\":5e-324,\"h\":{\"msg\":\"hi\",\"n\":1},\"i\":9007199254740991,\"j\":-1.5e-10,\"k\":123456789.125}}"
	v := map[string]any{
		"a": "x\u2028y\u2029z<>&",
		"b": []any{1, 2.5, `\u2028`, "\\\u2028"},
		"c": nil,
		"d": true,
		"e": 1e21,
		"f": 1e-7,
		"g": 5e-324,
		"h": struct {
			Msg string `json:"msg"`
			N   int    `json:"n"`
		}{"hi", 1},
		"i": int64(9007199254740991),
		"j": -1.5e-10,
		"k": 123456789.125,
	}
	got, err := AppendJSONEventValue(nil, "t\u2028", v)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != nodeOut {
		t.Errorf("got  %q\nnode %q", got, nodeOut)
	}

	// Untyped nil is emit(type) without data; a typed nil is null.
	if got, _ := AppendJSONEventValue(nil, "x", nil); string(got) != `{"type":"x","data":{}}` {
		t.Errorf("nil: got %q", got)
	}
	if got, _ := AppendJSONEventValue(nil, "x", (*int)(nil)); string(got) != `{"type":"x","data":null}` {
		t.Errorf("typed nil: got %q", got)
	}
	// Documented difference: Go writes -0 where JSON.stringify writes 0.
	if got, _ := AppendJSONEventValue(nil, "x", math.Copysign(0, -1)); string(got) != `{"type":"x","data":-0}` {
		t.Errorf("-0: got %q", got)
	}
	// NaN is an error and dst is returned unchanged.
	dst := []byte("keep")
	out, err := AppendJSONEventValue(dst, "x", math.NaN())
	if err == nil || string(out) != "keep" {
		t.Errorf("NaN: got %q, %v; want error and dst unchanged", out, err)
	}
	// A string value, as emit("message", "hello world").
	if got, _ := AppendJSONEventValue([]byte("p"), "message", "hello world"); string(got) != `p{"type":"message","data":"hello world"}` {
		t.Errorf("string: got %q", got)
	}
}

func TestJSONUnescapeLineSeps(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`"a"`, `"a"`},
		{`"\u2028"`, "\"\u2028\""},
		{`"\u2029\u2028"`, "\"\u2029\u2028\""},
		{`"\\u2028"`, `"\\u2028"`},
		{`"\\\u2028"`, "\"\\\\\u2028\""},
		{`"\u2027\u202a\u00e9"`, `"\u2027\u202a\u00e9"`},
		{`"\u202"`, `"\u202"`},
		{`["\n",{"\u2029":1}]`, "[\"\\n\",{\"\u2029\":1}]"},
	} {
		b := []byte(tc.in)
		if got := string(b[:jsonUnescapeLineSeps(b)]); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestJSONParseValid(t *testing.T) {
	for _, tc := range []struct {
		name, in, typ string
		data          string // "<nil>" for no data member
	}{
		{"node-ipc", `{"type":"hello","data":{"msg":"hi","n":1}}`, "hello", `{"msg":"hi","n":1}`},
		{"whitespace", " \t\r\n{ \"type\" :\t\"a\" , \"data\" :\n [ 1 , 2 ] \r\n} \n", "a", `[ 1 , 2 ]`},
		{"data first", `{"data":true,"type":"b"}`, "b", `true`},
		{"escaped keys", `{"t\u0079pe":"c","\u0064\u0061\u0074\u0061":1}`, "c", `1`},
		{"escaped key upper hex", `{"\u0054ype":"x","\u0074YPE":"y","t\u0059pe":"z","typ\u0065":"c"}`, "c", "<nil>"},
		{"near keys", `{"typ":1,"types":2,"Type":3,"type ":4,"type":"d","dat":0,"Data":5}`, "d", "<nil>"},
		{"duplicate type last wins", `{"type":1,"type":"e"}`, "e", "<nil>"},
		{"duplicate string types", `{"type":"first","type":"second"}`, "second", "<nil>"},
		{"duplicate data last wins", `{"type":"f","data":1,"data":[2]}`, "f", `[2]`},
		{"data absent", `{"type":"g"}`, "g", "<nil>"},
		{"data null", `{"type":"g","data":null}`, "g", `null`},
		{"data string", `{"type":"message","data":"hello \"world\"\n"}`, "message", `"hello \"world\"\n"`},
		{"data nested", `{"type":"h","data":{"a":[{},[],[[{"b":null}]],"\u00e9\ud83d\ude00",-1.5e+3,true,false]}}`, "h", `{"a":[{},[],[[{"b":null}]],"\u00e9\ud83d\ude00",-1.5e+3,true,false]}`},
		{"other members ignored", `{"ref":[1,{"x":"y"}],"type":"i","extra":{"type":"no","data":"no","id":"x"}}`, "i", "<nil>"},
		{"type escapes", `{"type":"a\"\\\/\b\f\n\r\t\u0000\u00e9\u20ac\ud83d\ude00"}`, "a\"\\/\b\f\n\r\t\x00\u00e9\u20ac\U0001f600", "<nil>"},
		{"lone high surrogate", `{"type":"\ud800x"}`, "\ufffdx", "<nil>"},
		{"lone low surrogate", `{"type":"\udc00"}`, "\ufffd", "<nil>"},
		{"high then non-low", `{"type":"\ud800\u0041"}`, "\ufffdA", "<nil>"},
		{"two highs then low", `{"type":"\ud800\ud83d\ude00"}`, "\ufffd\U0001f600", "<nil>"},
		{"high at end", `{"type":"a\ud83d"}`, "a\ufffd", "<nil>"},
		{"raw unicode", "{\"type\":\"\u65e5\u2028\U0001f600\x7f\"}", "\u65e5\u2028\U0001f600\x7f", "<nil>"},
		{"number kinds", `{"type":"n","data":[0,-0,0.5,-0.0e0,1E+2,1e-2,10]}`, "n", `[0,-0,0.5,-0.0e0,1E+2,1e-2,10]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p JSONParser
			in := []byte(tc.in)
			orig := bytes.Clone(in)
			ev, err := p.Parse(in)
			if err != nil {
				t.Fatalf("Parse(%s): %v", tc.in, err)
			}
			if string(ev.Type) != tc.typ {
				t.Errorf("Type = %q, want %q", ev.Type, tc.typ)
			}
			if tc.data == "<nil>" {
				if ev.Data != nil {
					t.Errorf("Data = %q, want nil", ev.Data)
				}
			} else if string(ev.Data) != tc.data {
				t.Errorf("Data = %q, want %q", ev.Data, tc.data)
			}
			if !bytes.Equal(in, orig) {
				t.Errorf("Parse modified its input")
			}
			if !json.Valid(in) {
				t.Errorf("encoding/json disagrees: invalid")
			}
		})
	}
}

func TestJSONParseAliasing(t *testing.T) {
	var p JSONParser
	in := []byte(`{"type":"plain","data":[1]}`)
	ev, err := p.Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if &ev.Type[0] != &in[9] || &ev.Data[0] != &in[23] {
		t.Errorf("Type/Data do not alias the input")
	}
	if cap(ev.Data) != len(ev.Data) {
		t.Errorf("Data cap %d > len %d: appending would clobber the frame", cap(ev.Data), len(ev.Data))
	}
	in2 := []byte(`{"type":"esc\u0061ped"}`)
	ev2, err := p.Parse(in2)
	if err != nil || string(ev2.Type) != "escaped" {
		t.Fatalf("Parse: %q, %v", ev2.Type, err)
	}
	if cap(ev2.Type) > 0 && &ev2.Type[:1][0] == &in2[9] {
		t.Errorf("escaped type aliases the input")
	}
}

func TestJSONParseNumbersByteExact(t *testing.T) {
	var p JSONParser
	for _, n := range []string{"-0", "1e21", "1e+21", "5e-324", "9007199254740991", "9007199254740993", "-1.5E-10", "0.1", "123456789012345678901234567890", "1e400", "-0.0"} {
		in := `{"type":"n","data":` + n + `}`
		ev, err := p.Parse([]byte(in))
		if err != nil || string(ev.Data) != n {
			t.Errorf("Parse(%s) = %q, %v; want Data %q", in, ev.Data, err, n)
		}
		var got json.Number
		if err := ev.DecodeData(&got); err != nil || string(got) != n {
			t.Errorf("DecodeData(%s) = %q, %v", n, got, err)
		}
	}
}

// jsonBadJSON are frames that are not valid JSON.
var jsonBadJSON = []string{
	"", " ", "\t\r\n",
	`{"type":"a"} x`, `{"type":"a"}{}`, `{"type":"a"},`, `"x" "y"`, `1 2`, `{"type":"a"}` + "\x00",
	`{"type":"a`, `{"type":"a\`, `{"type":"a\"}`, `{"type`, `"abc`,
	`{"type":"\x"}`, `{"type":"\u12"}`, `{"type":"\u12g4"}`, `{"type":"\U0041"}`, `{"type":"\'"}`, `{"type":"\a"}`,
	"{\"type\":\"a\x00\"}", "{\"type\":\"a\x1f\"}", "{\"type\":\"a\n\"}", "{\"type\":\"a\f\"}", "{\"data\":\"\t\",\"type\":\"a\"}",
	`{"type":"a","data":01}`, `{"type":"a","data":1.}`, `{"type":"a","data":.5}`, `{"type":"a","data":+1}`,
	`{"type":"a","data":NaN}`, `{"type":"a","data":Infinity}`, `{"type":"a","data":-}`, `{"type":"a","data":-a}`,
	`{"type":"a","data":1e}`, `{"type":"a","data":1e+}`, `{"type":"a","data":0x10}`, `{"type":"a","data":00}`, `{"type":"a","data":-01}`,
	`{"type":"a","data":1.e5}`, `{"type":"a","data":[1,]}`, `{"type":"a","data":{"x":1,}}`, `{"type":"a",}`,
	`{"type":"a","data":[}`, `{"type":"a","data":{]}`, `{"type":"a","data":[1}`, `{"type":"a","data":{"x":1]}`,
	`{"type":"a","data":[`, `{"type":"a","data":{`, `{"type":"a","data":{"x"`, `{"type":"a","data":{"x":`, `{"type":"a","data":`,
	`{"type":"a"`, `{"type":"a",`, `{"type":`, `{`, `[`, `]`, `}`, `[1`, `[[]`, `{"type":"a"}}`, `{"type":"a"]`,
	`{"type":"a","data":tru}`, `{"type":"a","data":nul}`, `{"type":"a","data":falsey}`, `{"type":"a","data":True}`, `{"type":"a","data":undefined}`,
	`{type:"a"}`, `{'type':'a'}`, `{"type":'a'}`, `{"type" "a"}`, `{"type"::"a"}`, `{"type":"a" "data":1}`, `{,"type":"a"}`,
	`{"type":"a","data":{1:2}}`, `{"type":"a","data":{"x" 1}}`, `{"type":"a","data":[1 2]}`, `{"type":"a","data":[,1]}`,
	"\xef\xbb\xbf{\"type\":\"a\"}", "{\"type\":\"a\"}\f", "\f{\"type\":\"a\"}", "{\"type\":\"a\"\v}", "\u00a0{\"type\":\"a\"}",
	"{\"type\":\"a\xff\"}", "{\"type\":\"\xed\xa0\x80\"}", "{\"type\":\"a\",\"data\":\"\xc0\xaf\"}", "{\"type\":\"a\xe2\x82\"}",
	"{\"type\":\"a\",\"x\xff\":1}", "{\"type\":\"a\",\"data\":[\"\xf8\x88\x80\x80\x80\"]}",
	`{"type":"a","data":` + strings.Repeat("[", DefaultMaxJSONDepth+1) + strings.Repeat("]", DefaultMaxJSONDepth+1) + `}`,
	`{"type":"a","data":` + strings.Repeat(`{"a":`, DefaultMaxJSONDepth+1) + "1" + strings.Repeat("}", DefaultMaxJSONDepth+1) + `}`,
	strings.Repeat("[", 100000),
	strings.Repeat(`{"a":`, 50000),
	`{"type":"a","data":` + strings.Repeat("[", 100000) + `}`,
}

func TestJSONParseBadJSON(t *testing.T) {
	var p JSONParser
	for _, in := range jsonBadJSON {
		ev, err := p.Parse([]byte(in))
		if code := jsonCode(t, err); code != CodeBadJSON {
			t.Errorf("Parse(%.60q) = %q, %v; want ErrBadJSON", in, ev.Type, err)
			continue
		}
		if !errors.Is(err, ErrBadJSON) {
			t.Errorf("Parse(%.60q): errors.Is(err, ErrBadJSON) is false", in)
		}
		if ev.Type != nil || ev.Data != nil {
			t.Errorf("Parse(%.60q) returned a partial event with an error", in)
		}
	}
}

func TestJSONParseNotEnvelope(t *testing.T) {
	var p JSONParser
	for _, in := range []string{
		`[]`, `"x"`, `{}`, `{"type":1}`, `{"type":null}`, `null`, `true`, `false`, `0`, `-1.5e3`, ` [ {"type":"a"} ] `,
		`{"type":{}}`, `{"type":[]}`, `{"type":true}`, `{"data":{}}`, `{"Type":"a"}`, `{"TYPE":"a"}`, `{"type ":"a"}`,
		`{"type":"a","type":1}`, `{"type":"a","t\u0079pe":null}`, `{"x":{"type":"a"}}`, `"{\"type\":\"a\"}"`,
		strings.Repeat("[", DefaultMaxJSONDepth+1) + strings.Repeat("]", DefaultMaxJSONDepth+1),
	} {
		_, err := p.Parse([]byte(in))
		if code := jsonCode(t, err); code != CodeNotEnvelope || !errors.Is(err, ErrNotEnvelope) {
			t.Errorf("Parse(%.60q) = %v; want ErrNotEnvelope", in, err)
		}
	}
}

func TestJSONParseOptions(t *testing.T) {
	long := strings.Repeat("x", DefaultMaxTypeLen)
	for _, tc := range []struct {
		name string
		opts JSONOptions
		in   string
		code Code
	}{
		{"empty", JSONOptions{}, `{"type":""}`, CodeBadType},
		{"empty allowed", JSONOptions{AllowEmptyType: true}, `{"type":""}`, 0},
		{"duplicate empty", JSONOptions{}, `{"type":"","type":""}`, CodeBadType},
		{"max len ok", JSONOptions{}, `{"type":"` + long + `"}`, 0},
		{"max len +1", JSONOptions{}, `{"type":"` + long + `x"}`, CodeNameTooLong},
		{"max len escaped ok", JSONOptions{}, `{"type":"` + long[1:] + `\u0078"}`, 0},
		{"max len escaped +1", JSONOptions{}, `{"type":"` + long + `\u0078"}`, CodeNameTooLong},
		{"escapes shrink under limit", JSONOptions{MaxTypeLen: 3}, `{"type":"\u0061\u0062\u0063"}`, 0},
		{"multibyte counts bytes", JSONOptions{MaxTypeLen: 3}, `{"type":"\u00e9\u00e9"}`, CodeNameTooLong},
		{"emoji counts 4 bytes", JSONOptions{MaxTypeLen: 4}, `{"type":"\ud83d\ude00"}`, 0},
		{"emoji over", JSONOptions{MaxTypeLen: 3}, `{"type":"\ud83d\ude00"}`, CodeNameTooLong},
		{"custom max", JSONOptions{MaxTypeLen: 2}, `{"type":"abc"}`, CodeNameTooLong},
		{"too long beats empty check", JSONOptions{MaxTypeLen: 1}, `{"type":"ab"}`, CodeNameTooLong},
		{"reserved", JSONOptions{Reserved: ReservedLifecycle}, `{"type":"connect","data":{}}`, CodeReservedType},
		{"reserved escaped", JSONOptions{Reserved: ReservedLifecycle}, `{"type":"socket\u002edisconnected"}`, CodeReservedType},
		{"reserved each", JSONOptions{Reserved: ReservedLifecycle}, `{"type":"close"}`, CodeReservedType},
		{"not reserved", JSONOptions{Reserved: ReservedLifecycle}, `{"type":"connected"}`, 0},
		{"not reserved by default", JSONOptions{}, `{"type":"connect"}`, 0},
		{"prototype names", JSONOptions{Reserved: ObjectPrototypeNames}, `{"type":"__proto__"}`, CodeReservedType},
		{"bad json beats type checks", JSONOptions{Reserved: ReservedLifecycle}, `{"type":"connect",}`, CodeBadJSON},
		{"depth ok", JSONOptions{MaxDepth: 2}, `{"type":"a","data":[[1]]}`, 0},
		{"depth over", JSONOptions{MaxDepth: 2}, `{"type":"a","data":[[[1]]]}`, CodeBadJSON},
		{"depth applies to other members", JSONOptions{MaxDepth: 1}, `{"type":"a","x":{"y":{}}}`, CodeBadJSON},
		{"depth deep ok", JSONOptions{MaxDepth: 1000}, `{"type":"a","data":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`, 0},
		{"depth deep over", JSONOptions{MaxDepth: 1000}, `{"type":"a","data":` + strings.Repeat("[", 1001) + strings.Repeat("]", 1001) + `}`, CodeBadJSON},
		{"depth deep mixed", JSONOptions{MaxDepth: 700}, `{"type":"a","data":` + strings.Repeat(`[{"k":`, 350) + "0" + strings.Repeat("}]", 350) + `}`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := JSONParser{Options: tc.opts}
			ev, err := p.Parse([]byte(tc.in))
			if code := jsonCode(t, err); code != tc.code {
				t.Fatalf("Parse: code %d (%v), want %d", code, err, tc.code)
			}
			if err == nil && len(ev.Type) == 0 && !tc.opts.AllowEmptyType {
				t.Fatalf("empty type accepted")
			}
		})
	}
}

func TestJSONReservedLifecycleList(t *testing.T) {
	// node-ipc entities/EventParser.js reservedEventTypes.
	want := []string{"start", "connect", "disconnect", "destroy", "close", "socket.disconnected", "error", "data"}
	if strings.Join(ReservedLifecycle, ",") != strings.Join(want, ",") {
		t.Errorf("ReservedLifecycle = %v, want %v", ReservedLifecycle, want)
	}
}

func TestJSONNameTooLongDoesNotGrowScratch(t *testing.T) {
	p := JSONParser{Options: JSONOptions{MaxTypeLen: 8}}
	if _, err := p.Parse([]byte(`{"type":"\u0061"}`)); err != nil {
		t.Fatal(err)
	}
	c := cap(p.scratch)
	huge := `{"type":"\u0061` + strings.Repeat("b", 1<<16) + `"}`
	if _, err := p.Parse([]byte(huge)); !errors.Is(err, ErrNameTooLong) {
		t.Fatalf("got %v, want ErrNameTooLong", err)
	}
	huge = `{"type":"` + strings.Repeat(`\u00e9`, 1<<12) + `"}`
	if _, err := p.Parse([]byte(huge)); !errors.Is(err, ErrNameTooLong) {
		t.Fatalf("got %v, want ErrNameTooLong", err)
	}
	if cap(p.scratch) != c {
		t.Errorf("scratch grew from %d to %d", c, cap(p.scratch))
	}
}

func TestJSONErrorDetailHasNoPayload(t *testing.T) {
	var p JSONParser
	p.Options.Reserved = []string{"SECRETSECRET"}
	for _, in := range []string{
		`{"type":"SECRETSECRET"}`, `{"type":"SECRETSECRET",}`, `{"type":"SECRETSECRET\q"}`, `["SECRETSECRET"]`,
		`{"type":"` + strings.Repeat("SECRETSECRET", 30) + `"}`, `{"SECRETSECRET":1}`, `SECRETSECRET`,
	} {
		_, err := p.Parse([]byte(in))
		if err == nil {
			t.Fatalf("Parse(%s) accepted", in)
		}
		if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "CRET") {
			t.Errorf("error %q echoes payload", err)
		}
	}
}

func TestJSONUnescapeJSONString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`"hello"`, "hello"},
		{` "a\nb\u00e9\ud83d\ude00\/" `, "a\nb\u00e9\U0001f600/"},
		{`"\ud800"`, "\ufffd"},
		{`""`, ""},
	} {
		got, err := UnescapeJSONString([]byte("p:"), []byte(tc.in))
		if err != nil || string(got) != "p:"+tc.want {
			t.Errorf("UnescapeJSONString(%s) = %q, %v", tc.in, got, err)
		}
	}
	for _, in := range []string{``, `"a`, `"a" x`, `1`, `"\x"`, "\"\xff\"", `"a""b"`} {
		got, err := UnescapeJSONString([]byte("p:"), []byte(in))
		if !errors.Is(err, ErrBadJSON) || string(got) != "p:" {
			t.Errorf("UnescapeJSONString(%q) = %q, %v; want ErrBadJSON", in, got, err)
		}
	}
}

func TestJSONDecodeData(t *testing.T) {
	var p JSONParser
	ev, err := p.Parse([]byte(`{"type":"t","data":{"msg":"hi","n":9007199254740993}}`))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := ev.DecodeData(&v); err != nil {
		t.Fatal(err)
	}
	if v["msg"] != "hi" || v["n"] != json.Number("9007199254740993") {
		t.Errorf("DecodeData = %#v", v)
	}
	ev, _ = p.Parse([]byte(`{"type":"t"}`))
	keep := map[string]any{"k": 1}
	if err := ev.DecodeData(&keep); err != nil || keep["k"] != 1 {
		t.Errorf("DecodeData without data: %v, %v", keep, err)
	}
	ev, _ = p.Parse([]byte(`{"type":"t","data":"x"}`))
	var n int
	if err := ev.DecodeData(&n); err == nil {
		t.Errorf("DecodeData of a string into int: no error")
	}
}

func TestJSONStdlibAcceptsInvalidUTF8(t *testing.T) {
	// The one documented validity difference from encoding/json: json.Valid
	// accepts invalid UTF-8 inside strings, Parse refuses it.
	in := []byte("{\"type\":\"a\xff\"}")
	if !json.Valid(in) {
		t.Skip("encoding/json now rejects invalid UTF-8; the difference is gone")
	}
	var p JSONParser
	if _, err := p.Parse(in); !errors.Is(err, ErrBadJSON) {
		t.Errorf("Parse accepted invalid UTF-8: %v", err)
	}
}

// jsonValidCorpus returns base documents for the validity comparison.
func jsonValidCorpus() []string {
	base := []string{
		`{"type":"hello","data":{"msg":"hi","n":1}}`,
		`{"type":"a\u0062\n\"\\","data":[1,-2.5e+3,0,-0,true,false,null,"s",{"k":[]}]}`,
		` { "data" : { "x" : [ 1 , { } ] } , "type" : "t" } `,
		`{"type":"\ud83d\ude00\u2028","data":"\u00e9\/"}`,
		"{\"type\":\"\u65e5\u2028\",\"data\":\"\U0001f600\x7f\"}",
		`{"t\u0079pe":"x","type":"y","data":0.5e-7,"data":1E9}`,
		`[1,2,{"type":"a"}]`, `"str"`, `-0.0e+0`, `null`, `{}`, `{"type":1}`,
		`{"type":"a","data":[[[[[[[[]]]]]]]]}`,
	}
	for _, f := range jsonBadJSON {
		if len(f) < 200 {
			base = append(base, f)
		}
	}
	return base
}

func TestJSONValidityMatchesStdlib(t *testing.T) {
	p := JSONParser{Options: JSONOptions{MaxDepth: 20000, MaxTypeLen: 1 << 20, AllowEmptyType: true}}
	repl := []byte("{}[]\",:\\01-+.eEuab tnf\x00\x0c\x7f\xff\xc3\xe2\n")
	seen := 0
	check := func(doc []byte) {
		seen++
		_, err := p.Parse(doc)
		ours := err == nil || !errors.Is(err, ErrBadJSON)
		std := json.Valid(doc)
		if ours == std {
			jsonCheckOracle(t, &p, doc)
			return
		}
		if std && !ours && !utf8.Valid(doc) {
			return // documented: invalid UTF-8 is ErrBadJSON here
		}
		t.Errorf("validity of %q: Parse %v (%v), json.Valid %v", doc, ours, err, std)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range jsonValidCorpus() {
		doc := []byte(s)
		check(doc)
		for i := 0; i <= len(doc); i++ {
			check(doc[:i])
			check(append(bytes.Clone(doc[:i]), doc[min(i+1, len(doc)):]...))
			if i < len(doc) {
				for _, c := range repl {
					d := bytes.Clone(doc)
					d[i] = c
					check(d)
					check(append(append(bytes.Clone(doc[:i]), c), doc[i:]...))
				}
			}
		}
		for range 200 {
			d := bytes.Clone(doc)
			for range 1 + r.IntN(4) {
				if len(d) == 0 {
					break
				}
				d[r.IntN(len(d))] = byte(r.IntN(256))
			}
			check(d)
		}
	}
	t.Logf("compared %d documents", seen)
}

// jsonCheckOracle checks an accepted envelope against encoding/json: a map
// unmarshal keeps the last duplicate key like JSON.parse, and unescapes
// strings (lone surrogates to U+FFFD) as Parse does.
func jsonCheckOracle(t *testing.T, p *JSONParser, doc []byte) {
	t.Helper()
	ev, err := p.Parse(doc)
	if err != nil {
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Errorf("Parse accepted %q, json.Unmarshal: %v", doc, err)
		return
	}
	var typ string
	if err := json.Unmarshal(m["type"], &typ); err != nil || typ != string(ev.Type) {
		t.Errorf("%q: Type %q, encoding/json %q (%v)", doc, ev.Type, typ, err)
	}
	d, ok := m["data"]
	if ok != (ev.Data != nil) || !bytes.Equal(d, ev.Data) {
		t.Errorf("%q: Data %q, encoding/json %q", doc, ev.Data, d)
	}
	// The request/reply members, read by encoding/json into a uint32
	// (which refuses fractions, exponents, signs and overflow) after
	// ruling out 0 and non-numbers.
	for _, f := range []struct {
		key string
		got uint32
	}{{"id", ev.ID}, {"replyTo", ev.ReplyTo}} {
		raw, ok := m[f.key]
		var n uint32
		if ok && (json.Unmarshal(raw, &n) != nil || n == 0 || raw[0] == '"' || raw[0] == '-') {
			t.Errorf("%q: Parse accepted %s %s", doc, f.key, raw)
		}
		if n != f.got {
			t.Errorf("%q: %s %d, encoding/json %d", doc, f.key, f.got, n)
		}
	}
	if _, ok := m["error"]; ok != (ev.Error != nil) {
		t.Errorf("%q: Error %q, encoding/json has it: %v", doc, ev.Error, ok)
	} else if ok {
		var msg string
		if err := json.Unmarshal(m["error"], &msg); err != nil || msg != string(ev.Error) {
			t.Errorf("%q: Error %q, encoding/json %q (%v)", doc, ev.Error, msg, err)
		}
	}
}

func TestJSONEncodeRequestReply(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"request", AppendJSONRequest(nil, "sum", 1, []byte(`[1,2,3]`)), `{"type":"sum","data":[1,2,3],"id":1}`},
		{"request max id", AppendJSONRequest(nil, "sum", math.MaxUint32, nil), `{"type":"sum","data":{},"id":4294967295}`},
		{"request escaped type", AppendJSONRequest([]byte("x"), "a\"\n\u2028", 42, []byte(`"s"`)), "x{\"type\":\"a\\\"\\n\u2028\",\"data\":\"s\",\"id\":42}"},
		{"reply", AppendJSONReply(nil, "sum", 1, []byte(`6`), ""), `{"type":"sum","data":6,"replyTo":1}`},
		{"reply no data", AppendJSONReply(nil, "sum", 7, nil, ""), `{"type":"sum","data":{},"replyTo":7}`},
		{"error reply", AppendJSONReply(nil, "sum", 1, nil, "not a number"), `{"type":"sum","data":{},"replyTo":1,"error":"not a number"}`},
		{"error reply escaped", AppendJSONReply(nil, "sum", 4294967295, []byte(`null`), "bad \"x\"\n\xff\u2029"), "{\"type\":\"sum\",\"data\":null,\"replyTo\":4294967295,\"error\":\"bad \\\"x\\\"\\n\ufffd\u2029\"}"},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	for name, f := range map[string]func(){
		"request id 0":  func() { AppendJSONRequest(nil, "a", 0, nil) },
		"reply 0":       func() { AppendJSONReply(nil, "a", 0, nil, "") },
		"error reply 0": func() { AppendJSONReply(nil, "a", 0, nil, "e") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestJSONEncodeRequestMatchesStdlib checks the request and reply bytes
// against encoding/json marshalling a struct with the members in order,
// which is what JSON.stringify writes for the same object literal (for
// strings without U+2028/U+2029 or HTML characters).
func TestJSONEncodeRequestMatchesStdlib(t *testing.T) {
	type req struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
		ID   uint32          `json:"id"`
	}
	type rep struct {
		Type    string          `json:"type"`
		Data    json.RawMessage `json:"data"`
		ReplyTo uint32          `json:"replyTo"`
		Error   string          `json:"error,omitempty"`
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 500 {
		typ := strings.Map(func(c rune) rune {
			if c == 0x2028 || c == 0x2029 || c == '<' || c == '>' || c == '&' {
				return 'x'
			}
			return c
		}, jsonRandString(r))
		msg := strings.ToValidUTF8(strings.Map(func(c rune) rune {
			if c == 0x2028 || c == 0x2029 || c == '<' || c == '>' || c == '&' {
				return 'y'
			}
			return c
		}, jsonRandString(r)), "z")
		id := r.Uint32() | 1
		data := json.RawMessage(`{"k":[1,"v"]}`)
		want, _ := json.Marshal(req{typ, data, id})
		if got := AppendJSONRequest(nil, typ, id, data); !bytes.Equal(got, want) {
			t.Fatalf("request: got %q, want %q", got, want)
		}
		want, _ = json.Marshal(rep{typ, data, id, msg})
		if got := AppendJSONReply(nil, typ, id, data, msg); !bytes.Equal(got, want) {
			t.Fatalf("reply: got %q, want %q", got, want)
		}
	}
}

func TestJSONParseRequestReply(t *testing.T) {
	for _, tc := range []struct {
		name, in     string
		id, replyTo  uint32
		errMsg, data string // "<nil>" for absent
	}{
		{"request", `{"type":"sum","data":[1,2,3],"id":1}`, 1, 0, "<nil>", `[1,2,3]`},
		{"request max", `{"type":"sum","data":{},"id":4294967295}`, 4294967295, 0, "<nil>", `{}`},
		{"request id first", `{"id":7,"type":"sum"}`, 7, 0, "<nil>", "<nil>"},
		{"request whitespace", "{ \"type\" : \"a\" , \"id\" :\t12 \n}", 12, 0, "<nil>", "<nil>"},
		{"reply", `{"type":"sum","data":6,"replyTo":1}`, 0, 1, "<nil>", `6`},
		{"error reply", `{"type":"sum","data":{},"replyTo":1,"error":"not a number"}`, 0, 1, "not a number", `{}`},
		{"error first", `{"error":"e","replyTo":3,"type":"t"}`, 0, 3, "e", "<nil>"},
		{"error escaped", `{"type":"t","replyTo":2,"error":"a\"\n\u00e9\ud83d\ude00\ud800"}`, 0, 2, "a\"\n\u00e9\U0001f600\ufffd", "<nil>"},
		{"error empty", `{"type":"t","replyTo":2,"error":""}`, 0, 2, "", "<nil>"},
		{"escaped keys", `{"type":"t","\u0069d":5}`, 5, 0, "<nil>", "<nil>"},
		{"escaped keys reply", `{"type":"t","repl\u0079To":5,"\u0065rror":"x"}`, 0, 5, "x", "<nil>"},
		{"duplicate id last wins", `{"type":"t","id":"x","id":9}`, 9, 0, "<nil>", "<nil>"},
		{"duplicate id last wins number", `{"type":"t","id":1,"id":2}`, 2, 0, "<nil>", "<nil>"},
		{"duplicate error last wins", `{"type":"t","replyTo":1,"error":1,"error":"b"}`, 0, 1, "b", "<nil>"},
		{"near keys ignored", `{"type":"t","ID":"x","Id":0,"reply_to":-1,"replyto":1.5,"Error":null,"errors":1}`, 0, 0, "<nil>", "<nil>"},
		{"nested members ignored", `{"type":"t","data":{"id":"x","replyTo":0,"error":null}}`, 0, 0, "<nil>", `{"id":"x","replyTo":0,"error":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p JSONParser
			ev, err := p.Parse([]byte(tc.in))
			if err != nil {
				t.Fatalf("Parse(%s): %v", tc.in, err)
			}
			if ev.ID != tc.id || ev.ReplyTo != tc.replyTo {
				t.Errorf("ID %d ReplyTo %d, want %d %d", ev.ID, ev.ReplyTo, tc.id, tc.replyTo)
			}
			if tc.errMsg == "<nil>" {
				if ev.Error != nil {
					t.Errorf("Error = %q, want nil", ev.Error)
				}
			} else if ev.Error == nil || string(ev.Error) != tc.errMsg {
				t.Errorf("Error = %q (nil %v), want %q", ev.Error, ev.Error == nil, tc.errMsg)
			}
			if tc.data == "<nil>" {
				if ev.Data != nil {
					t.Errorf("Data = %q, want nil", ev.Data)
				}
			} else if string(ev.Data) != tc.data {
				t.Errorf("Data = %q, want %q", ev.Data, tc.data)
			}
			jsonCheckOracle(t, &p, []byte(tc.in))
		})
	}
}

func TestJSONParseRequestReplyInvalid(t *testing.T) {
	long := strings.Repeat("e", DefaultMaxErrorLen)
	for _, tc := range []struct {
		name string
		opts JSONOptions
		in   string
		code Code
	}{
		{"id 0", JSONOptions{}, `{"type":"t","id":0}`, CodeNotEnvelope},
		{"id -0", JSONOptions{}, `{"type":"t","id":-0}`, CodeNotEnvelope},
		{"id negative", JSONOptions{}, `{"type":"t","id":-1}`, CodeNotEnvelope},
		{"id 2^32", JSONOptions{}, `{"type":"t","id":4294967296}`, CodeNotEnvelope},
		{"id huge", JSONOptions{}, `{"type":"t","id":99999999999999999999}`, CodeNotEnvelope},
		{"id 11 digits", JSONOptions{}, `{"type":"t","id":10000000000}`, CodeNotEnvelope},
		{"id fraction", JSONOptions{}, `{"type":"t","id":1.0}`, CodeNotEnvelope},
		{"id fraction 1.5", JSONOptions{}, `{"type":"t","id":1.5}`, CodeNotEnvelope},
		{"id exponent", JSONOptions{}, `{"type":"t","id":1e0}`, CodeNotEnvelope},
		{"id exponent E+2", JSONOptions{}, `{"type":"t","id":1E+2}`, CodeNotEnvelope},
		{"id string", JSONOptions{}, `{"type":"t","id":"1"}`, CodeNotEnvelope},
		{"id null", JSONOptions{}, `{"type":"t","id":null}`, CodeNotEnvelope},
		{"id true", JSONOptions{}, `{"type":"t","id":true}`, CodeNotEnvelope},
		{"id array", JSONOptions{}, `{"type":"t","id":[1]}`, CodeNotEnvelope},
		{"id object", JSONOptions{}, `{"type":"t","id":{}}`, CodeNotEnvelope},
		{"id duplicate last bad", JSONOptions{}, `{"type":"t","id":1,"id":0}`, CodeNotEnvelope},
		{"id escaped key", JSONOptions{}, `{"type":"t","\u0069\u0064":0}`, CodeNotEnvelope},
		{"replyTo 0", JSONOptions{}, `{"type":"t","replyTo":0}`, CodeNotEnvelope},
		{"replyTo 2^32", JSONOptions{}, `{"type":"t","replyTo":4294967296}`, CodeNotEnvelope},
		{"replyTo fraction", JSONOptions{}, `{"type":"t","replyTo":2.0}`, CodeNotEnvelope},
		{"replyTo exponent", JSONOptions{}, `{"type":"t","replyTo":2e1}`, CodeNotEnvelope},
		{"replyTo string", JSONOptions{}, `{"type":"t","replyTo":"2"}`, CodeNotEnvelope},
		{"replyTo negative", JSONOptions{}, `{"type":"t","replyTo":-2}`, CodeNotEnvelope},
		{"both", JSONOptions{}, `{"type":"t","id":1,"replyTo":1}`, CodeNotEnvelope},
		{"both reversed", JSONOptions{}, `{"replyTo":2,"type":"t","id":1}`, CodeNotEnvelope},
		{"both with error", JSONOptions{}, `{"type":"t","id":1,"replyTo":1,"error":"e"}`, CodeNotEnvelope},
		{"error without replyTo", JSONOptions{}, `{"type":"t","error":"e"}`, CodeNotEnvelope},
		{"error with id", JSONOptions{}, `{"type":"t","id":1,"error":"e"}`, CodeNotEnvelope},
		{"error empty without replyTo", JSONOptions{}, `{"type":"t","error":""}`, CodeNotEnvelope},
		{"error null", JSONOptions{}, `{"type":"t","replyTo":1,"error":null}`, CodeNotEnvelope},
		{"error number", JSONOptions{}, `{"type":"t","replyTo":1,"error":1}`, CodeNotEnvelope},
		{"error object", JSONOptions{}, `{"type":"t","replyTo":1,"error":{"message":"x"}}`, CodeNotEnvelope},
		{"error duplicate last not string", JSONOptions{}, `{"type":"t","replyTo":1,"error":"a","error":false}`, CodeNotEnvelope},
		{"error max", JSONOptions{}, `{"type":"t","replyTo":1,"error":"` + long + `"}`, 0},
		{"error max +1", JSONOptions{}, `{"type":"t","replyTo":1,"error":"` + long + `e"}`, CodeNotEnvelope},
		{"error max escaped", JSONOptions{}, `{"type":"t","replyTo":1,"error":"` + long[1:] + `\u0065"}`, 0},
		{"error max escaped +1", JSONOptions{}, `{"type":"t","replyTo":1,"error":"` + long + `\u0065"}`, CodeNotEnvelope},
		{"error custom max", JSONOptions{MaxErrorLen: 3}, `{"type":"t","replyTo":1,"error":"abcd"}`, CodeNotEnvelope},
		{"error custom max ok", JSONOptions{MaxErrorLen: 3}, `{"type":"t","replyTo":1,"error":"\u0061bc"}`, 0},
		{"error custom max bytes", JSONOptions{MaxErrorLen: 3}, `{"type":"t","replyTo":1,"error":"\u00e9\u00e9"}`, CodeNotEnvelope},
		{"error huge escaped", JSONOptions{}, `{"type":"t","replyTo":1,"error":"` + strings.Repeat(`\u00e9`, 1<<12) + `"}`, CodeNotEnvelope},
		// Precedence: bad JSON (20) first, then not an envelope (21), then
		// the type checks (13, 22, 23).
		{"bad json beats bad id", JSONOptions{}, `{"type":"t","id":0,}`, CodeBadJSON},
		{"bad json in later member", JSONOptions{}, `{"type":"t","id":0,"data":01}`, CodeBadJSON},
		{"no type beats id", JSONOptions{}, `{"id":1}`, CodeNotEnvelope},
		{"bad id beats type too long", JSONOptions{MaxTypeLen: 1}, `{"type":"ab","id":0}`, CodeNotEnvelope},
		{"bad error beats empty type", JSONOptions{}, `{"type":"","error":"e"}`, CodeNotEnvelope},
		{"long error beats reserved type", JSONOptions{MaxErrorLen: 1, Reserved: ReservedLifecycle}, `{"type":"connect","replyTo":1,"error":"ab"}`, CodeNotEnvelope},
		{"type too long with request", JSONOptions{MaxTypeLen: 1}, `{"type":"ab","id":1}`, CodeNameTooLong},
		{"reserved reply", JSONOptions{Reserved: ReservedLifecycle}, `{"type":"error","replyTo":1,"error":"x"}`, CodeReservedType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := JSONParser{Options: tc.opts}
			ev, err := p.Parse([]byte(tc.in))
			if code := jsonCode(t, err); code != tc.code {
				t.Fatalf("Parse(%.80s): code %d (%v), want %d", tc.in, code, err, tc.code)
			}
			if err != nil && (ev.Type != nil || ev.Data != nil || ev.Error != nil || ev.ID != 0 || ev.ReplyTo != 0) {
				t.Errorf("partial event with an error: %+v", ev)
			}
			if tc.code == CodeNotEnvelope && !errors.Is(err, ErrNotEnvelope) {
				t.Errorf("errors.Is(err, ErrNotEnvelope) is false")
			}
		})
	}
}

// TestJSONParseErrorAndTypeScratch checks that an escaped type and an
// escaped error message, both unescaped into the parser's scratch buffer,
// stay valid together and that the buffer does not grow after the first
// call with the same options.
func TestJSONParseErrorAndTypeScratch(t *testing.T) {
	p := JSONParser{Options: JSONOptions{MaxTypeLen: 8, MaxErrorLen: 8}}
	in := []byte(`{"type":"\u0074ypeAAAA","replyTo":3,"error":"\u0065rrBBBBB"}`)
	ev, err := p.Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(ev.Type) != "typeAAAA" || string(ev.Error) != "errBBBBB" || ev.ReplyTo != 3 {
		t.Fatalf("got %q %q %d", ev.Type, ev.Error, ev.ReplyTo)
	}
	if cap(ev.Error) != len(ev.Error) {
		t.Errorf("Error cap %d > len %d: appending would clobber the scratch", cap(ev.Error), len(ev.Error))
	}
	// Appending to Type must not overwrite Error.
	_ = append(ev.Type, "XXXXXXXXXXXXXXXXXXXX"...)
	if string(ev.Error) != "errBBBBB" {
		t.Errorf("appending to Type clobbered Error: %q", ev.Error)
	}
	c := cap(p.scratch)
	for _, s := range []string{
		`{"type":"\u0061","replyTo":1,"error":"` + strings.Repeat(`\u00e9`, 100) + `"}`,
		`{"type":"` + strings.Repeat(`\u00e9`, 100) + `","replyTo":1,"error":"\u0061"}`,
		`{"type":"\u0061","replyTo":1,"error":"\u0061"}`,
	} {
		_, _ = p.Parse([]byte(s))
	}
	if cap(p.scratch) != c {
		t.Errorf("scratch grew from %d to %d", c, cap(p.scratch))
	}
	// A plain error message aliases the frame.
	in = []byte(`{"type":"t","replyTo":1,"error":"plain"}`)
	ev, err = p.Parse(in)
	if err != nil || &ev.Error[0] != &in[33] || cap(ev.Error) != len(ev.Error) {
		t.Errorf("plain error does not alias the input: %q, %v", ev.Error, err)
	}
}

func TestJSONRequestReplyRoundTrip(t *testing.T) {
	var p JSONParser
	for _, id := range []uint32{1, 9, 10, 99, 4294967294, 4294967295} {
		ev, err := p.Parse(AppendJSONRequest(nil, "t\n", id, []byte(`[1]`)))
		if err != nil || ev.ID != id || ev.ReplyTo != 0 || ev.Error != nil || string(ev.Type) != "t\n" || string(ev.Data) != `[1]` {
			t.Errorf("request %d: %+v, %v", id, ev, err)
		}
		ev, err = p.Parse(AppendJSONReply(nil, "t", id, []byte(`2`), ""))
		if err != nil || ev.ID != 0 || ev.ReplyTo != id || ev.Error != nil || string(ev.Data) != `2` {
			t.Errorf("reply %d: %+v, %v", id, ev, err)
		}
		ev, err = p.Parse(AppendJSONReply(nil, "t", id, nil, "boom\t\"x\"\u00e9"))
		if err != nil || ev.ID != 0 || ev.ReplyTo != id || string(ev.Error) != "boom\t\"x\"\u00e9" || string(ev.Data) != `{}` {
			t.Errorf("error reply %d: %+v, %v", id, ev, err)
		}
	}
}

func TestJSONRequestErrorDetailHasNoPayload(t *testing.T) {
	var p JSONParser
	p.Options.MaxErrorLen = 4
	for _, in := range []string{
		`{"type":"t","id":"SECRETSECRET"}`, `{"type":"t","replyTo":12345678901234}`,
		`{"type":"t","replyTo":1,"error":"SECRETSECRET"}`, `{"type":"t","replyTo":1,"error":"SECRET\nSECRET"}`,
		`{"type":"t","error":"SECRETSECRET"}`,
	} {
		_, err := p.Parse([]byte(in))
		if err == nil {
			t.Fatalf("Parse(%s) accepted", in)
		}
		if strings.Contains(err.Error(), "CRET") || strings.Contains(err.Error(), "12345678901234") {
			t.Errorf("error %q echoes payload", err)
		}
	}
}

func TestValidJSON(t *testing.T) {
	valid := []string{`{}`, ` [1, 2.5e-3, "x", true, null] `, `"é"`, `0`, `-0.0`, `{"a":{"b":[{}]}}`}
	invalid := []string{``, ` `, `{`, `[1,]`, `01`, `"\x01"`, "\"\xff\"", `1 2`, `{"a"}`, strings.Repeat("[", 200) + strings.Repeat("]", 200)}
	for _, s := range valid {
		if !ValidJSON([]byte(s)) {
			t.Errorf("ValidJSON(%q) = false", s)
		}
	}
	for _, s := range invalid {
		if ValidJSON([]byte(s)) {
			t.Errorf("ValidJSON(%q) = true", s)
		}
	}
}
