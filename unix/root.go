package unix

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// EnsureRoot makes dir a safe socket root: a real directory owned by the
// effective uid with no permission bits for group or others.
//
// If dir does not exist it is created with mode 0700 (only the last path
// component; a missing parent is an error) and, if the umask removed owner
// bits, chmodded to exactly 0700. Then dir is checked with Lstat:
//
//   - a symlink, or anything but a directory, is refused (ErrUnsafeRoot);
//   - a directory owned by another uid is refused (ErrUnsafeRoot);
//   - a pre-existing directory with any group/other permission bit is refused
//     with ErrUnsafeRoot naming its mode. EnsureRoot never chmods a directory
//     it did not create.
//
// Use it for goipc's default and ipc:// roots; an explicit unix:///abs/path
// socket lives in a directory of the user's choosing and is not checked.
//
// On Windows, and other systems without numeric file ownership, EnsureRoot
// returns an error wrapping ErrUnsupported rather than pretend to check ACLs.
// Safe for concurrent use (concurrent callers on the same dir both succeed).
func EnsureRoot(dir string) error {
	if dir == "" {
		return fmt.Errorf("%w: empty directory name", ErrUnsafeRoot)
	}
	if err := ensureRootSupported(); err != nil {
		return err
	}
	created := false
	if err := os.Mkdir(dir, 0o700); err == nil {
		created = true
	} else if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("unix: create socket root: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("unix: check socket root: %w", err)
	}
	mode := fi.Mode()
	if mode&fs.ModeSymlink != 0 {
		return fmt.Errorf("%w: %s is a symlink", ErrUnsafeRoot, dir)
	}
	if !mode.IsDir() {
		return fmt.Errorf("%w: %s is not a directory (mode %v)", ErrUnsafeRoot, dir, mode)
	}
	uid, ok := fileOwner(fi)
	if !ok {
		return fmt.Errorf("%w: cannot read the owner of %s", ErrUnsupported, dir)
	}
	if euid := os.Geteuid(); uid != euid {
		return fmt.Errorf("%w: %s is owned by uid %d, not the effective uid %d", ErrUnsafeRoot, dir, uid, euid)
	}
	perm := mode.Perm()
	if created {
		// Mkdir's mode is filtered by the umask, which can only remove bits;
		// restore exactly 0700 on the directory we just made.
		if perm != 0o700 {
			if err := os.Chmod(dir, 0o700); err != nil {
				return fmt.Errorf("unix: chmod socket root: %w", err)
			}
		}
		return nil
	}
	if perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %#o (%v); group and others must have no access (chmod 700)", ErrUnsafeRoot, dir, uint32(perm), perm)
	}
	return nil
}
