//go:build !windows

package unix

import (
	"context"
	"fmt"
	"net"
)

// ListenPipe serves the Windows named pipe name (see PipePath). On this OS
// it validates name and opts, then returns an error wrapping
// ErrUnsupported: named pipes are Windows-only.
func ListenPipe(name string, opts PipeOptions) (net.Listener, error) {
	p, err := PipePath(name)
	if err != nil {
		return nil, err
	}
	if _, _, err := opts.buffers(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: named pipe %s (windows only)", ErrUnsupported, p)
}

// DialPipe connects to the Windows named pipe name (see PipePath). On this
// OS it validates name, then returns an error wrapping ErrUnsupported.
func DialPipe(ctx context.Context, name string) (net.Conn, error) {
	p, err := PipePath(name)
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: named pipe %s (windows only)", ErrUnsupported, p)
}

// DefaultPipeSDDL returns the default security descriptor of ListenPipe's
// pipes; on this OS an error wrapping ErrUnsupported.
func DefaultPipeSDDL() (string, error) {
	return "", fmt.Errorf("%w: pipe security descriptors (windows only)", ErrUnsupported)
}
