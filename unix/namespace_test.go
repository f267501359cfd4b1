package unix

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestNamespaceNodeIPCDefaults(t *testing.T) {
	for _, n := range []Namespace{
		{Root: "/tmp/", AppSpace: "app."},
		{Root: NodeIPCRoot},
	} {
		got, err := n.Path("world")
		if err != nil || got != "/tmp/app.world" {
			t.Fatalf("%+v.Path(world) = %q, %v; want /tmp/app.world", n, got, err)
		}
	}
	// Plain concatenation, as node-ipc does: no separator is inserted.
	got, _ := Namespace{Root: "/run/x", AppSpace: "svc-"}.Path("a")
	if got != "/run/xsvc-a" {
		t.Fatalf("concatenation: got %q", got)
	}
	got, _ = Namespace{Root: "/tmp/", NoAppSpace: true}.Path("world")
	if got != "/tmp/world" {
		t.Fatalf("NoAppSpace: got %q", got)
	}
}

func TestDefaultRoot(t *testing.T) {
	sep := string(filepath.Separator)
	t.Run("xdg", func(t *testing.T) {
		x := t.TempDir()
		t.Setenv("XDG_RUNTIME_DIR", x)
		want := filepath.Join(x, "goipc") + sep
		if got := DefaultRoot(); got != want {
			t.Fatalf("DefaultRoot() = %q, want %q", got, want)
		}
		got, err := Namespace{}.Path("world")
		if err != nil || got != want+"app.world" {
			t.Fatalf("zero Namespace Path = %q, %v; want %q", got, err, want+"app.world")
		}
	})
	t.Run("no-xdg", func(t *testing.T) {
		t.Setenv("XDG_RUNTIME_DIR", "")
		os.Unsetenv("XDG_RUNTIME_DIR") // restored by t.Setenv's cleanup
		want := filepath.Join(os.TempDir(), "goipc-"+userTag()) + sep
		if got := DefaultRoot(); got != want {
			t.Fatalf("DefaultRoot() = %q, want %q", got, want)
		}
		if uid := os.Getuid(); uid >= 0 && !strings.HasSuffix(want, "goipc-"+strconv.Itoa(uid)+sep) {
			t.Fatalf("default root %q does not name uid %d", want, uid)
		}
		got, _ := Namespace{AppSpace: "x."}.Path("id")
		if got != want+"x.id" {
			t.Fatalf("Path = %q, want %q", got, want+"x.id")
		}
	})
}

func TestNamespaceBadID(t *testing.T) {
	n := Namespace{Root: "/tmp/"}
	for _, id := range []string{"", "a/b", "/abs", "a\x00b", "../x"} {
		if p, err := n.Path(id); !errors.Is(err, ErrBadID) {
			t.Errorf("Path(%q) = %q, %v; want ErrBadID", id, p, err)
		}
		if _, err := n.PipeName(id); !errors.Is(err, ErrBadID) {
			t.Errorf("PipeName(%q): %v; want ErrBadID", id, err)
		}
	}
	bare := Namespace{Root: "/tmp/", NoAppSpace: true}
	for _, id := range []string{".", ".."} {
		if p, err := bare.Path(id); !errors.Is(err, ErrBadID) {
			t.Errorf("NoAppSpace Path(%q) = %q, %v; want ErrBadID", id, p, err)
		}
	}
	if p, err := n.Path(".."); err != nil || p != "/tmp/app..." {
		t.Errorf("Path(..) with appspace = %q, %v", p, err)
	}
}

func TestPipeName(t *testing.T) {
	got, err := Namespace{Root: "/tmp/"}.PipeName("world")
	if err != nil || got != `\\.\pipe\tmp-app.world` {
		t.Fatalf("PipeName = %q, %v", got, err)
	}
	got, _ = Namespace{Root: "/a/b/", AppSpace: "x."}.PipeName("y")
	if got != `\\.\pipe\a-b-x.y` {
		t.Fatalf("PipeName = %q", got)
	}
	got, _ = Namespace{Root: `\\.\pipe\`, AppSpace: "x."}.PipeName("y")
	if got != `\\.\pipe\x.y` {
		t.Fatalf("PipeName with pipe root = %q", got)
	}
}

func TestCheckPathPortable(t *testing.T) {
	if _, err := checkPath("@name"); abstractSupported != (err == nil) {
		t.Fatalf("checkPath(@name) = %v with abstractSupported=%v", err, abstractSupported)
	} else if err != nil && !errors.Is(err, ErrAbstractUnsupported) {
		t.Fatalf("checkPath(@name) = %v, want ErrAbstractUnsupported", err)
	}
	long := "/" + strings.Repeat("a", sunPathLen)
	_, err := checkPath(long)
	if !errors.Is(err, ErrPathTooLong) || !strings.Contains(err.Error(), strconv.Itoa(len(long))) ||
		!strings.Contains(err.Error(), strconv.Itoa(sunPathLen-1)) {
		t.Fatalf("checkPath(long) = %v", err)
	}
	if _, err := checkPath(long[:sunPathLen-1]); err != nil {
		t.Fatalf("checkPath(%d bytes) = %v", sunPathLen-1, err)
	}
	for _, p := range []string{"", "a\x00b"} {
		if _, err := checkPath(p); err == nil {
			t.Fatalf("checkPath(%q) succeeded", p)
		}
	}
	if _, err := Dial(t.Context(), long); !errors.Is(err, ErrPathTooLong) {
		t.Fatalf("Dial(long) = %v", err)
	}
}
