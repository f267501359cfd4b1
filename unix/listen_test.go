//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package unix

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sockDir returns a fresh short directory for sockets; t.TempDir can be long
// enough to hit sun_path on darwin.
func sockDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "gu")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// roundTrip dials l through Dial and checks one echo exchange.
func roundTrip(t *testing.T, l *Listener) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil {
			errc <- err
			return
		}
		_, err = c.Write(buf)
		errc <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, l.Path())
	if err != nil {
		t.Fatalf("Dial(%q): %v", l.Path(), err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q, %v", buf, err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server: %v", err)
	}
}

func mustListen(t *testing.T, path string, opts ListenOptions) *Listener {
	t.Helper()
	l, err := Listen(path, opts)
	if err != nil {
		t.Fatalf("Listen(%q): %v", path, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestListenModes(t *testing.T) {
	dir := sockDir(t)
	for _, tc := range []struct {
		mode, want os.FileMode
	}{{0, 0o600}, {0o660, 0o660}, {0o666, 0o666}, {0o700, 0o700}} {
		p := filepath.Join(dir, "s"+tc.want.String()[1:4])
		l := mustListen(t, p, ListenOptions{Mode: tc.mode})
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != tc.want {
			t.Fatalf("Mode %v: socket file mode %v, want %v", tc.mode, fi.Mode(), tc.want)
		}
		roundTrip(t, l)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Close left the socket file: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
}

func TestListenEnsureRoot(t *testing.T) {
	root := filepath.Join(sockDir(t), "r")
	l := mustListen(t, filepath.Join(root, "app.x"), ListenOptions{EnsureRoot: true})
	fi, err := os.Lstat(root)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("root: %v, %v", fi.Mode(), err)
	}
	roundTrip(t, l)

	loose := filepath.Join(sockDir(t), "loose")
	os.Mkdir(loose, 0o700)
	os.Chmod(loose, 0o755)
	if _, err := Listen(filepath.Join(loose, "s"), ListenOptions{EnsureRoot: true}); !errors.Is(err, ErrUnsafeRoot) {
		t.Fatalf("Listen under 0755 root with EnsureRoot = %v", err)
	}
}

func TestListenLiveSocketInUse(t *testing.T) {
	p := filepath.Join(sockDir(t), "live")
	l := mustListen(t, p, ListenOptions{})
	_, err := Listen(p, ListenOptions{})
	if !errors.Is(err, ErrAddrInUse) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second Listen = %v, want ErrAddrInUse and EADDRINUSE", err)
	}
	// The probe that detected the live server is a real connection: the
	// server sees it arrive and close at once (EOF, no bytes).
	probe, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	probe.SetDeadline(time.Now().Add(5 * time.Second))
	if n, err := probe.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("probe read = %d, %v; want EOF", n, err)
	}
	probe.Close()
	// The first server is untouched and still serves.
	roundTrip(t, l)
}

func TestListenReclaimsStaleSocket(t *testing.T) {
	p := filepath.Join(sockDir(t), "stale")
	// Simulate a crashed server: close the fd without unlinking.
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close()
	if fi, err := os.Lstat(p); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	l := mustListen(t, p, ListenOptions{})
	roundTrip(t, l)
}

func TestListenReclaimsRawStaleSocket(t *testing.T) {
	p := filepath.Join(sockDir(t), "raw")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: p}); err != nil {
		t.Fatal(err)
	}
	syscall.Close(fd) // bound, never listened, fd gone: connect is refused
	l := mustListen(t, p, ListenOptions{})
	roundTrip(t, l)
}

func TestListenRefusesNonSocket(t *testing.T) {
	dir := sockDir(t)

	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "inner"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	live := mustListen(t, filepath.Join(dir, "live"), ListenOptions{})
	links := map[string]string{
		"link-file":     file,
		"link-dir":      sub,
		"link-dangling": filepath.Join(dir, "nowhere"),
		"link-socket":   live.Path(),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}

	paths := []string{file, sub, fifo}
	for name := range links {
		paths = append(paths, filepath.Join(dir, name))
	}
	for _, p := range paths {
		before, _ := os.Lstat(p)
		if _, err := Listen(p, ListenOptions{}); !errors.Is(err, ErrNotSocket) {
			t.Errorf("Listen(%s) = %v, want ErrNotSocket", p, err)
		}
		after, err := os.Lstat(p)
		if err != nil || !os.SameFile(before, after) || before.Mode() != after.Mode() {
			t.Errorf("%s was disturbed: %v", p, err)
		}
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "keep me" {
		t.Errorf("regular file content changed: %q, %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(sub, "inner")); err != nil {
		t.Errorf("directory content removed: %v", err)
	}
	for name, target := range links {
		if got, err := os.Readlink(filepath.Join(dir, name)); err != nil || got != target {
			t.Errorf("symlink %s changed: %q, %v", name, got, err)
		}
	}
	roundTrip(t, live)
}

func TestListenPathTooLong(t *testing.T) {
	dir := sockDir(t)
	max := sunPathLen - 1
	pad := max - len(dir) - 1
	if pad < 1 {
		t.Skipf("temp dir %q too long to build a %d-byte path", dir, max)
	}
	exact := filepath.Join(dir, strings.Repeat("a", pad))
	if len(exact) != max {
		t.Fatalf("built %d bytes, want %d", len(exact), max)
	}
	l := mustListen(t, exact, ListenOptions{})
	roundTrip(t, l)

	over := exact + "b"
	_, err := Listen(over, ListenOptions{})
	if !errors.Is(err, ErrPathTooLong) {
		t.Fatalf("Listen(%d bytes) = %v, want ErrPathTooLong", len(over), err)
	}
	for _, want := range []string{"108 bytes", "limit 107"} {
		if sunPathLen == 108 && !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := os.Lstat(over); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was created at the too-long path")
	}
	if _, err := Dial(context.Background(), over); !errors.Is(err, ErrPathTooLong) {
		t.Fatalf("Dial(too long) = %v", err)
	}
}

func TestCloseKeepsReplacement(t *testing.T) {
	dir := sockDir(t)
	p := filepath.Join(dir, "s")
	a := mustListen(t, p, ListenOptions{})
	moved := filepath.Join(dir, "a-moved")
	if err := os.Rename(p, moved); err != nil {
		t.Fatal(err)
	}
	b := mustListen(t, p, ListenOptions{})
	bfi, _ := os.Lstat(p)
	if err := a.Close(); err != nil {
		t.Fatalf("A.Close: %v", err)
	}
	now, err := os.Lstat(p)
	if err != nil || !os.SameFile(now, bfi) {
		t.Fatalf("A.Close removed B's socket: %v", err)
	}
	roundTrip(t, b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("B.Close did not remove its socket: %v", err)
	}
}

func TestCloseKeepsNonSocketReplacement(t *testing.T) {
	p := filepath.Join(sockDir(t), "s")
	a := mustListen(t, p, ListenOptions{})
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "x" {
		t.Fatalf("Close touched a non-socket: %q %v", b, err)
	}
}

func TestDialNoListener(t *testing.T) {
	p := filepath.Join(sockDir(t), "none")
	if _, err := Dial(context.Background(), p); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("Dial(missing) = %v, want ENOENT", err)
	}
}

func TestListenerAccessors(t *testing.T) {
	p := filepath.Join(sockDir(t), "acc")
	l := mustListen(t, p, ListenOptions{})
	if l.Path() != p || l.Addr().String() != p || l.Abstract() || l.UnixListener() == nil {
		t.Fatalf("accessors: %q %q %v", l.Path(), l.Addr(), l.Abstract())
	}
	f, err := l.File()
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	rc, err := l.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Control(func(uintptr) {}); err != nil {
		t.Fatal(err)
	}
	l.SetDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := l.Accept(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Accept after deadline = %v", err)
	}
	l.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close = %v, want net.ErrClosed", err)
	}
}
