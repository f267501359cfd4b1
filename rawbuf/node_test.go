package rawbuf

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// nodeScript reads [{"m":"enc"|"dec","e":name,"h":hex}] on stdin and
// prints, per case, the hex of Buffer.from(str, e) ("enc", str being the
// TextDecoder reading of the bytes) or of the UTF-8 of buf.toString(e)
// ("dec").
const nodeScript = `
let data = '';
process.stdin.on('data', (c) => data += c);
process.stdin.on('end', () => {
  const out = JSON.parse(data).map(({m, e, h}) => {
    const b = Buffer.from(h, 'hex');
    if (m === 'enc') return Buffer.from(new TextDecoder().decode(b), e).toString('hex');
    return Buffer.from(b.toString(e), 'utf8').toString('hex');
  });
  process.stdout.write(JSON.stringify(out));
});
`

// lookNode returns the path of node, skipping the test if it is missing,
// except on CI (CI=true) where a missing node fails the test.
func lookNode(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node is required on CI for the Node cross-check: %v", err)
		}
		t.Skipf("node not found (%v); cross-check against Node skipped", err)
	}
	return path
}

// randomJSish returns random bytes rich in what the encoders treat
// specially: hex and base64 characters, '=', whitespace, non-ASCII
// characters whose UTF-16 low byte is meaningful, ill-formed UTF-8.
func randomJSish(r *rand.Rand) []byte {
	pieces := []string{
		"a", "F", "0", "9", "g", "z", "Q", "U", "J", "D", "+", "/", "-", "_", "=", "==",
		" ", "\n", "\r\n", "\t", "!", ".", ":",
		"é", "š", "Ł", "ā", "€", "😀", "\u0141", "\u0130", "\uFFFD", "\u00ff",
		"\xff", "\x80", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\xf0\x9f\x98", "\xf4\x90\x80\x80", "\xe0\xa0", "\xc2",
		"QUJD", "SGVsbG8=", "deadbeef",
	}
	n := r.IntN(24)
	var b []byte
	for range n {
		if r.IntN(8) == 0 {
			b = append(b, byte(r.IntN(256)))
		} else {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
	}
	return b
}

func TestNodeCrossCheck(t *testing.T) {
	node := lookNode(t)
	type kase struct {
		M string `json:"m"`
		E string `json:"e"`
		H string `json:"h"`
	}
	r := rand.New(rand.NewPCG(1, 2))
	var cases []kase
	for e := Encoding(0); e < numEncodings; e++ {
		for range 400 {
			cases = append(cases, kase{"enc", e.String(), hex.EncodeToString(randomJSish(r))})
			// Decode: random bytes, and bytes that look like text.
			var in []byte
			if r.IntN(2) == 0 {
				in = make([]byte, r.IntN(40))
				for i := range in {
					in[i] = byte(r.IntN(256))
				}
			} else {
				in = randomJSish(r)
			}
			cases = append(cases, kase{"dec", e.String(), hex.EncodeToString(in)})
		}
	}
	input, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "-e", nodeScript)
	cmd.Stdin = bytes.NewReader(input)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var want []string
	if err := json.Unmarshal(out, &want); err != nil || len(want) != len(cases) {
		t.Fatalf("node output: %v (%d results for %d cases)", err, len(want), len(cases))
	}
	fails := 0
	for i, c := range cases {
		enc, err := ParseEncoding(c.E)
		if err != nil {
			t.Fatal(err)
		}
		in, _ := hex.DecodeString(c.H)
		var got []byte
		if c.M == "enc" {
			got, err = AppendEncode(nil, string(in), enc)
			if err != nil {
				t.Fatal(err)
			}
		} else {
			got = AppendDecode(nil, in, enc)
		}
		if hex.EncodeToString(got) != want[i] {
			fails++
			if fails <= 20 {
				t.Errorf("%s %s %q: got %x, node %s", c.M, c.E, in, got, want[i])
			}
		}
	}
	t.Logf("%d cases checked against %s", len(cases), node)
}
