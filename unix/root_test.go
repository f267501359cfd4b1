//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package unix

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnsureRootCreates0700(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "root")
	if err := EnsureRoot(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode = %v, want drwx------", fi.Mode())
	}
	// Idempotent on our own 0700 directory.
	if err := EnsureRoot(dir); err != nil {
		t.Fatalf("second EnsureRoot: %v", err)
	}
}

func TestEnsureRootMissingParent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no", "such")
	err := EnsureRoot(dir)
	if err == nil || errors.Is(err, ErrUnsafeRoot) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("EnsureRoot(missing parent) = %v, want a not-exist error", err)
	}
	if _, err := os.Lstat(filepath.Dir(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("EnsureRoot created a parent directory")
	}
}

func TestEnsureRootRefusesSymlink(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := EnsureRoot(link); !errors.Is(err, ErrUnsafeRoot) {
		t.Fatalf("EnsureRoot(symlink) = %v, want ErrUnsafeRoot", err)
	}
}

func TestEnsureRootRefusesFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := EnsureRoot(f); !errors.Is(err, ErrUnsafeRoot) {
		t.Fatalf("EnsureRoot(file) = %v, want ErrUnsafeRoot", err)
	}
}

func TestEnsureRootRefusesLoosePerms(t *testing.T) {
	for _, perm := range []os.FileMode{0o755, 0o750, 0o701, 0o777} {
		dir := filepath.Join(t.TempDir(), "loose")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, perm); err != nil {
			t.Fatal(err)
		}
		err := EnsureRoot(dir)
		if !errors.Is(err, ErrUnsafeRoot) {
			t.Fatalf("EnsureRoot(%v) = %v, want ErrUnsafeRoot", perm, err)
		}
		if !strings.Contains(err.Error(), perm.String()) {
			t.Fatalf("error %q does not name the mode %v", err, perm)
		}
		fi, _ := os.Lstat(dir)
		if fi.Mode().Perm() != perm {
			t.Fatalf("EnsureRoot changed the mode of a pre-existing dir to %v", fi.Mode())
		}
	}
}

func TestEnsureRootForeignOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to another uid needs root")
	}
	dir := filepath.Join(t.TempDir(), "foreign")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 12345, 12345); err != nil {
		t.Fatal(err)
	}
	err := EnsureRoot(dir)
	if !errors.Is(err, ErrUnsafeRoot) || !strings.Contains(err.Error(), "12345") {
		t.Fatalf("EnsureRoot(foreign) = %v, want ErrUnsafeRoot naming uid 12345", err)
	}
}
