package unix

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultAppSpace is the appspace used when Namespace.AppSpace is empty. It is
// node-ipc's default ('app.').
const DefaultAppSpace = "app."

// NodeIPCRoot is node-ipc's default socketRoot in versions 9.x through 12.x.
// Namespace{Root: NodeIPCRoot} reproduces node-ipc's default paths exactly.
const NodeIPCRoot = "/tmp/"

// pipePrefix is the Win32 namespace prefix for named pipes.
const pipePrefix = `\\.\pipe\`

// Namespace computes socket paths by node-ipc's rule:
//
//	Root + AppSpace + id
//
// The zero value uses goipc's defaults: Root = DefaultRoot() and AppSpace =
// DefaultAppSpace. Namespace{Root: "/tmp/", AppSpace: "app."} (or just
// Namespace{Root: NodeIPCRoot}) reproduces node-ipc's defaults.
//
// The parts are concatenated as strings exactly as node-ipc does; no
// separator is inserted, so a Root naming a directory must end with '/'
// (DefaultRoot does).
//
// A Namespace is an immutable value; it is safe for concurrent use.
type Namespace struct {
	// Root is the socket root, node-ipc's config.socketRoot. Empty means
	// DefaultRoot(), evaluated at each call.
	Root string
	// AppSpace is the prefix placed before the id, node-ipc's
	// config.appspace. Empty means DefaultAppSpace unless NoAppSpace is set.
	AppSpace string
	// NoAppSpace selects an empty appspace (node-ipc's appspace = ''), which
	// the zero AppSpace cannot express.
	NoAppSpace bool
}

// DefaultRoot returns goipc's default socket root, always ending with the
// path separator:
//
//   - $XDG_RUNTIME_DIR/goipc/ when XDG_RUNTIME_DIR is set and non-empty;
//   - otherwise <os.TempDir()>/goipc-<uid>/ (on Windows, where there is no
//     numeric uid, goipc-<username>).
//
// The directory is not created; see EnsureRoot. DefaultRoot reads the
// environment at each call and is safe for concurrent use.
func DefaultRoot() string {
	sep := string(filepath.Separator)
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		return filepath.Join(x, "goipc") + sep
	}
	return filepath.Join(os.TempDir(), "goipc-"+userTag()) + sep
}

func (n Namespace) root() string {
	if n.Root == "" {
		return DefaultRoot()
	}
	return n.Root
}

func (n Namespace) appSpace() string {
	if n.NoAppSpace {
		return ""
	}
	if n.AppSpace == "" {
		return DefaultAppSpace
	}
	return n.AppSpace
}

// Path returns the socket path for id: Root + AppSpace + id.
//
// id must be non-empty and contain neither '/' nor NUL, and AppSpace + id
// must not be "." or ".."; otherwise the error wraps ErrBadID. Path does not
// check the length against sun_path (Listen and Dial do) and touches no file.
func (n Namespace) Path(id string) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	name := n.appSpace() + id
	if name == "." || name == ".." {
		return "", fmt.Errorf("%w: %q resolves to %q", ErrBadID, id, name)
	}
	return n.root() + name, nil
}

// PipeName returns the Windows named pipe node-ipc would use for id: Path(id)
// with one leading '/' removed and every '/' replaced by '-', prefixed with
// `\\.\pipe\`. For Root "/tmp/" and id "world" that is `\\.\pipe\tmp-app.world`.
// A path that already starts with `\\.\pipe\` is returned unchanged, as
// node-ipc 13 does. PipeName is pure string manipulation and works on every
// OS; with a Windows-style Root (backslashes, drive letter) the result is not
// node-ipc compatible, so set Root explicitly for interop.
func (n Namespace) PipeName(id string) (string, error) {
	p, err := n.Path(id)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(p, pipePrefix) {
		return p, nil
	}
	p = strings.TrimPrefix(p, "/")
	return pipePrefix + strings.ReplaceAll(p, "/", "-"), nil
}

func checkID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty id", ErrBadID)
	case strings.IndexByte(id, '/') >= 0:
		return fmt.Errorf("%w: %q contains '/'", ErrBadID, id)
	case strings.IndexByte(id, 0) >= 0:
		return fmt.Errorf("%w: %q contains NUL", ErrBadID, id)
	}
	return nil
}
