package unix

import "errors"

// Sentinel errors. Every error returned by this package that has one of these
// causes wraps it, so test with errors.Is. Errors that come from the operating
// system are additionally wrapped as *os.SyscallError (or are the standard
// library's *net.OpError / *fs.PathError), so errors.Is against a
// syscall.Errno such as syscall.EADDRINUSE works too.
var (
	// ErrBadID reports an id that cannot name a socket: empty, or containing
	// '/' or NUL, or resolving to "." or "..".
	ErrBadID = errors.New("unix: bad socket id")

	// ErrUnsafeRoot reports a socket root directory that is not a real
	// directory (for example a symlink), is not owned by the effective uid,
	// or grants any permission to group or others.
	ErrUnsafeRoot = errors.New("unix: unsafe socket root")

	// ErrAddrInUse reports that a live server already accepts connections on
	// the socket path. Errors wrapping it also satisfy
	// errors.Is(err, syscall.EADDRINUSE).
	ErrAddrInUse = errors.New("unix: address already in use")

	// ErrNotSocket reports that something other than a socket (a regular
	// file, a directory, a symlink, a FIFO...) occupies the socket path. The
	// package never removes such a file.
	ErrNotSocket = errors.New("unix: path exists and is not a socket")

	// ErrPathTooLong reports a socket path longer than the platform's
	// sockaddr_un.sun_path can hold.
	ErrPathTooLong = errors.New("unix: socket path too long")

	// ErrAbstractUnsupported reports an abstract socket name ("@name") on an
	// operating system other than Linux.
	ErrAbstractUnsupported = errors.New("unix: abstract socket names are only supported on linux")

	// ErrUnsupported reports an operation the current operating system
	// cannot perform (peer credentials, ownership checks).
	ErrUnsupported = errors.New("unix: not supported on this platform")

	// ErrBadPipeName reports a Windows named pipe name that PipePath
	// refuses: empty, too long, not valid UTF-8, containing '/' or NUL, or
	// with an empty, ".", ".." or dot- or space-terminated '\'-separated
	// element.
	ErrBadPipeName = errors.New("unix: bad pipe name")
)
