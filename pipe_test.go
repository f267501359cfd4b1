package goipc

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/unix"
)

// ipc://id follows node-ipc on each OS: a socket path on Unix, the named
// pipe node-ipc derives from the same path on Windows.
func TestIPCAddrMapping(t *testing.T) {
	for _, tc := range []struct {
		goos    string
		ns      unix.Namespace
		id      string
		scheme  string
		network string
		addr    string
		str     string
	}{
		{"linux", unix.Namespace{Root: "/tmp/"}, "world", schemeIPC, "unix", "/tmp/app.world", "unix:///tmp/app.world"},
		{"darwin", unix.Namespace{Root: "/tmp/", AppSpace: "x."}, "w", schemeIPC, "unix", "/tmp/x.w", "unix:///tmp/x.w"},
		// node-ipc 9–12 defaults on win32: \\.\pipe\tmp-app.world
		{"windows", unix.Namespace{Root: unix.NodeIPCRoot}, "world", schemePipe, "pipe", `\\.\pipe\tmp-app.world`, `pipe://\\.\pipe\tmp-app.world`},
		// node-ipc 13 default on win32: /node-ipc-<user>/
		{"windows", unix.Namespace{Root: "/node-ipc-alice/"}, "world", schemePipe, "pipe", `\\.\pipe\node-ipc-alice-app.world`, `pipe://\\.\pipe\node-ipc-alice-app.world`},
		{"windows", unix.Namespace{Root: "/a/b/", NoAppSpace: true}, "c", schemePipe, "pipe", `\\.\pipe\a-b-c`, `pipe://\\.\pipe\a-b-c`},
		// a root that already is the pipe prefix is kept (node-ipc 13)
		{"windows", unix.Namespace{Root: `\\.\pipe\`, AppSpace: "x."}, "y", schemePipe, "pipe", `\\.\pipe\x.y`, `pipe://\\.\pipe\x.y`},
	} {
		a, err := ipcAddr(tc.id, tc.ns, tc.goos)
		if err != nil {
			t.Errorf("%s %+v %q: %v", tc.goos, tc.ns, tc.id, err)
			continue
		}
		if a.scheme != tc.scheme || a.network != tc.network || a.addr != tc.addr || a.String() != tc.str {
			t.Errorf("%s %+v %q = %+v (%s), want %s %s %s (%s)", tc.goos, tc.ns, tc.id, a, a, tc.scheme, tc.network, tc.addr, tc.str)
		}
		if a.defaultRoot {
			t.Errorf("%s: defaultRoot set with an explicit root", tc.goos)
		}
	}

	// The default namespace: goipc's own root, never a file-system path on
	// Windows (no drive letter, no backslash).
	a, err := ipcAddr("world", unix.Namespace{}, "windows")
	want := `\\.\pipe` + `\` + strings.ReplaceAll(strings.TrimPrefix(unix.DefaultPipeRoot(), "/"), "/", "-") + "app.world"
	if err != nil || a.addr != want || a.network != "pipe" || a.defaultRoot {
		t.Errorf("default namespace on windows: %+v, %v; want %s", a, err, want)
	}
	if !strings.HasPrefix(a.addr, `\\.\pipe\goipc-`) {
		t.Errorf("default pipe %q", a.addr)
	}
	a, err = ipcAddr("world", unix.Namespace{}, "linux")
	if err != nil || a.network != "unix" || !a.defaultRoot || !strings.HasSuffix(a.addr, "app.world") {
		t.Errorf("default namespace on linux: %+v, %v", a, err)
	}

	// Ids the namespace refuses are refused on both.
	for _, goos := range []string{"linux", "windows"} {
		for _, id := range []string{"", "a/b", "a\x00b"} {
			if _, err := ipcAddr(id, unix.Namespace{Root: "/tmp/"}, goos); err == nil {
				t.Errorf("%s: ipcAddr(%q) accepted", goos, id)
			}
		}
	}
	// A Windows-style root keeps its backslashes, as in node-ipc.
	if a, err := ipcAddr("w", unix.Namespace{Root: `C:\Users\a\`}, "windows"); err != nil || a.addr != `\\.\pipe\C:\Users\a\app.w` {
		t.Errorf("backslash root: %+v, %v", a, err)
	}
	// But no element may climb out of the pipe file system.
	if _, err := ipcAddr("w", unix.Namespace{Root: `..\..\`}, "windows"); !errors.Is(err, unix.ErrBadPipeName) {
		t.Errorf("dot-dot root: %v, want unix.ErrBadPipeName", err)
	}
}

// parseAddr goes through ipcAddr for this OS, wrapping its errors.
func TestParseIPCAddr(t *testing.T) {
	ns := unix.Namespace{Root: "/tmp/"}
	a, err := parseAddr("ipc://world", ns)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ipcAddr("world", ns, runtime.GOOS)
	if a != want {
		t.Fatalf("parseAddr = %+v, want %+v", a, want)
	}
	if _, err := parseAddr("ipc://a/b", ns); !errors.Is(err, ErrBadAddress) || !errors.Is(err, unix.ErrBadID) {
		t.Fatalf("ipc://a/b: %v", err)
	}
	a, err = parseAddr(`pipe://\\.\pipe\x`, ns)
	if err != nil || a.network != "pipe" || a.String() != `pipe://\\.\pipe\x` {
		t.Fatalf("pipe:// full path: %+v %v", a, err)
	}
}

func TestPipeUnsupportedOffWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("named pipes work on windows")
	}
	_, err := Listen("pipe://goipc-test")
	if !errors.Is(err, ErrUnsupported) || !errors.Is(err, unix.ErrUnsupported) {
		t.Fatalf("Listen(pipe://): %v, want ErrUnsupported", err)
	}
	if _, err := Listen("pipe://a/b"); !errors.Is(err, unix.ErrBadPipeName) {
		t.Fatalf("Listen(pipe://a/b): %v, want unix.ErrBadPipeName", err)
	}
}

// On Windows, pipe:// and ipc:// serve and echo through named pipes with
// every codec.
func TestPipeEcho(t *testing.T) {
	if runtime.GOOS != "windows" {
		t.Skip("named pipes are Windows-only")
	}
	name := fmt.Sprintf("goipc-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	for i, addr := range []string{"pipe://" + name, "ipc://" + name} {
		for cname, codec := range codecs() {
			t.Run(fmt.Sprintf("%d/%s", i, cname), func(t *testing.T) {
				srv := echoServer(t, addr, codec)
				if !strings.HasPrefix(srv.Addr(), "pipe://") {
					t.Fatalf("Addr() = %q", srv.Addr())
				}
				cl, r := dialRecv(t, srv.Addr(), codec)
				checkEcho(t, cl, r, codec, [][]byte{[]byte("hello"), make([]byte, 100<<10), nil, []byte("bye")})
				cl.Close()
				srv.Close() // frees the name for the next codec
			})
		}
	}
}
