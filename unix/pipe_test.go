package unix

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestPipePath(t *testing.T) {
	long := strings.Repeat("a", MaxPipePathLen-len(pipePrefix))
	for _, tc := range []struct{ in, want string }{
		{"world", `\\.\pipe\world`},
		{`\\.\pipe\world`, `\\.\pipe\world`},
		{`\\.\PIPE\world`, `\\.\pipe\world`}, // prefix case-insensitive, canonical output
		{"tmp-app.world", `\\.\pipe\tmp-app.world`},
		{"a b.c-d_e{1}", `\\.\pipe\a b.c-d_e{1}`},
		{"日本", `\\.\pipe\日本`},
		{long, `\\.\pipe\` + long},
		{`a\b`, `\\.\pipe\a\b`},
		{`\\.\pipe\Winsock2\x`, `\\.\pipe\Winsock2\x`},
		{`C:\Users\a\app.world`, `\\.\pipe\C:\Users\a\app.world`},
		{`a\.b\c..d`, `\\.\pipe\a\.b\c..d`},
	} {
		got, err := PipePath(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("PipePath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"",
		`\\.\pipe\`,
		"a/b",
		`\a`,
		`a\`,
		`a\\b`,
		`a\.\b`,
		`a\..`,
		`a.\b`,
		`a \b`,
		`..\..\C:\Windows\x`,
		`\\.\pipe\..\C:\x`,
		`\\server\pipe\x`,
		`\\?\pipe\x`,
		"../x",
		".",
		"..",
		"name.",
		"name ",
		"a\x00b",
		"\xff\xfe",
		long + "a",
		strings.Repeat("日", MaxPipePathLen), // 1 UTF-16 unit each, but too many
		strings.Repeat("\U0001F600", 124),   // 2 UTF-16 units each: 9 + 248 > 256
	} {
		if got, err := PipePath(in); !errors.Is(err, ErrBadPipeName) {
			t.Errorf("PipePath(%q) = %q, %v; want ErrBadPipeName", in, got, err)
		}
	}
}

// The names node-ipc derives for its default paths must pass PipePath
// unchanged.
func TestPipeNameIsValidPipePath(t *testing.T) {
	for _, ns := range []Namespace{
		{Root: NodeIPCRoot},
		{Root: "/run/user/1000/node-ipc/", AppSpace: "x."},
		{Root: "/node-ipc-alice/"},
		{Root: DefaultPipeRoot()},
		{Root: `\\.\pipe\`, NoAppSpace: true},
	} {
		name, err := ns.PipeName("world")
		if err != nil {
			t.Fatal(err)
		}
		p, err := PipePath(name)
		if err != nil || p != name {
			t.Errorf("%+v: PipePath(%q) = %q, %v", ns, name, p, err)
		}
	}
	got, _ := Namespace{Root: "/node-ipc-alice/"}.PipeName("world")
	if got != `\\.\pipe\node-ipc-alice-app.world` {
		t.Errorf("node-ipc 13 win32 default: %q", got)
	}
}

func TestDefaultPipeRoot(t *testing.T) {
	r := DefaultPipeRoot()
	if !strings.HasPrefix(r, "/goipc-") || !strings.HasSuffix(r, "/") || strings.Count(r, "/") != 2 || strings.Contains(r, `\`) {
		t.Fatalf("DefaultPipeRoot() = %q, want /goipc-<user>/", r)
	}
}

func TestPipeOptionsBuffers(t *testing.T) {
	in, out, err := PipeOptions{}.buffers()
	if err != nil || in != DefaultPipeInBuffer || out != DefaultPipeOutBuffer {
		t.Fatalf("zero options: %d %d %v", in, out, err)
	}
	in, out, err = PipeOptions{InBuffer: 4096, OutBuffer: 1 << 20}.buffers()
	if err != nil || in != 4096 || out != 1<<20 {
		t.Fatalf("explicit: %d %d %v", in, out, err)
	}
	for _, o := range []PipeOptions{{InBuffer: -1}, {OutBuffer: -1}, {InBuffer: maxPipeBuffer + 1}, {OutBuffer: maxPipeBuffer<<1 - 1}} {
		if _, _, err := o.buffers(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestPipeUnsupportedOffWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("named pipes work on windows")
	}
	if _, err := ListenPipe("goipc-test", PipeOptions{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ListenPipe: %v, want ErrUnsupported", err)
	}
	if _, err := DialPipe(context.Background(), "goipc-test"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("DialPipe: %v, want ErrUnsupported", err)
	}
	if _, err := DefaultPipeSDDL(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("DefaultPipeSDDL: %v, want ErrUnsupported", err)
	}
	// Bad names and options are reported as such on every OS.
	if _, err := ListenPipe("a/b", PipeOptions{}); !errors.Is(err, ErrBadPipeName) {
		t.Errorf("ListenPipe(a/b): %v, want ErrBadPipeName", err)
	}
	if _, err := DialPipe(context.Background(), ""); !errors.Is(err, ErrBadPipeName) {
		t.Errorf("DialPipe(\"\"): %v, want ErrBadPipeName", err)
	}
	if _, err := ListenPipe("x", PipeOptions{InBuffer: -1}); err == nil || errors.Is(err, ErrUnsupported) {
		t.Errorf("ListenPipe with bad buffer: %v", err)
	}
}
