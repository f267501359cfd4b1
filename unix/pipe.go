package unix

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxPipePathLen is the longest full pipe path, `\\.\pipe\` included, in
// UTF-16 code units: CreateNamedPipe documents "the entire pipe name string
// can be up to 256 characters long".
const MaxPipePathLen = 256

// Default pipe buffer sizes. Windows treats them as quotas that it may
// round or grow, not as fixed allocations.
const (
	DefaultPipeInBuffer  = 64 << 10
	DefaultPipeOutBuffer = 64 << 10
	maxPipeBuffer        = 1 << 30
)

// PipeOptions configures ListenPipe. The zero value is the default:
// a DACL granting access to the current user only and 64 KiB buffers.
type PipeOptions struct {
	// SDDL is the security descriptor of every pipe instance, in Security
	// Descriptor Definition Language. Empty means DefaultPipeSDDL(): a
	// protected DACL with one ACE, GENERIC_ALL for the SID of the
	// process token's user ("D:P(A;;GA;;;<SID>)"). Nobody else, including
	// SYSTEM and Administrators, may open the pipe or create instances of
	// it. To admit other users, pass e.g.
	// "D:P(A;;GA;;;<SID>)(A;;GRGW;;;AU)" (authenticated users may read
	// and write, but not create instances).
	SDDL string
	// InBuffer and OutBuffer are the sizes passed to CreateNamedPipe for
	// the inbound and outbound buffers; 0 means DefaultPipeInBuffer and
	// DefaultPipeOutBuffer. At most 1 GiB.
	InBuffer, OutBuffer int
}

// buffers returns the buffer sizes to use, or an error for a negative or
// oversized value.
func (o PipeOptions) buffers() (in, out uint32, err error) {
	check := func(what string, n, def int) (uint32, error) {
		switch {
		case n == 0:
			return uint32(def), nil
		case n < 0 || n > maxPipeBuffer:
			return 0, fmt.Errorf("unix: pipe %s size %d out of range [0, %d]", what, n, maxPipeBuffer)
		}
		return uint32(n), nil
	}
	if in, err = check("in buffer", o.InBuffer, DefaultPipeInBuffer); err != nil {
		return 0, 0, err
	}
	if out, err = check("out buffer", o.OutBuffer, DefaultPipeOutBuffer); err != nil {
		return 0, 0, err
	}
	return in, out, nil
}

// PipePath returns the full local named pipe path for name: `\\.\pipe\`
// + name. name is either a bare pipe name ("world", as in pipe://world)
// or already a full local pipe path (`\\.\pipe\world`, as
// Namespace.PipeName returns; the prefix is matched case-insensitively
// and returned in lower case).
//
// A name may contain '\' (node-ipc's mapping keeps the backslashes of a
// Windows-style socketRoot, and Windows itself names pipes like
// `\\.\pipe\Winsock2\…`), but Win32 path normalization of `\\.\` paths
// resolves "." and ".." elements, turns '/' into '\' and strips trailing
// dots and spaces, which could lead a name out of the pipe file system
// (`\\.\pipe\..\C:\x`) or make two names open the same pipe. So PipePath
// refuses, with an error wrapping ErrBadPipeName:
//
//   - an empty name;
//   - '/' anywhere (write '\'); NUL; invalid UTF-8;
//   - an element between backslashes that is empty (a leading, trailing
//     or doubled '\', which also refuses remote `\\server\pipe\…` and
//     `\\?\` paths), "." or "..", or ends in '.' or ' ';
//   - a full path longer than MaxPipePathLen UTF-16 code units.
//
// PipePath is pure string manipulation, works on every OS and is safe for
// concurrent use.
func PipePath(name string) (string, error) {
	n := name
	if len(n) >= len(pipePrefix) && strings.EqualFold(n[:len(pipePrefix)], pipePrefix) {
		n = n[len(pipePrefix):]
	}
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w %q: %s", ErrBadPipeName, name, why)
	}
	switch {
	case n == "":
		return bad("empty")
	case !utf8.ValidString(n):
		return bad("not valid UTF-8")
	case strings.IndexByte(n, 0) >= 0:
		return bad("contains NUL")
	case strings.IndexByte(n, '/') >= 0:
		return bad(`contains '/' (Windows would read it as '\')`)
	}
	for _, e := range strings.Split(n, `\`) {
		switch {
		case e == "":
			return bad(`empty element (leading, trailing or doubled '\'; only local \\.\pipe\ paths)`)
		case e == "." || e == "..":
			return bad(`"." or ".." element`)
		case strings.HasSuffix(e, ".") || strings.HasSuffix(e, " "):
			return bad("element ends with '.' or ' ', which Windows path normalization strips")
		}
	}
	p := pipePrefix + n
	units := 0
	for _, r := range p {
		units += utf16.RuneLen(r)
	}
	if units > MaxPipePathLen {
		return bad(fmt.Sprintf("%d UTF-16 units, more than %d", units, MaxPipePathLen))
	}
	return p, nil
}

// DefaultPipeRoot returns the socket root goipc uses for ipc://id on
// Windows when the Namespace has no Root: "/goipc-<user>/", after node-ipc
// 13's win32 default socketRoot "/node-ipc-<user>/". Through
// Namespace.PipeName, id "world" with the default appspace becomes
// `\\.\pipe\goipc-<user>-app.world` (node-ipc 13: `\\.\pipe\node-ipc-<user>-app.world`).
// <user> is %USERNAME% with characters outside [A-Za-z0-9._-] replaced by
// '_' (elsewhere: the numeric uid). The file-system DefaultRoot is not
// used for pipes: its drive letter and backslashes cannot form a pipe
// name.
//
// The pipe namespace is global, so the name is a convention, not a
// protection: see ListenPipe for what the security descriptor guards.
func DefaultPipeRoot() string { return "/goipc-" + userTag() + "/" }
