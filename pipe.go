package goipc

import (
	"fmt"
	"net"
)

// listenPipe would serve a Windows named pipe; pipe:// arrives with the
// Windows issue.
func listenPipe(name string, o options) ([]net.Listener, error) {
	return nil, fmt.Errorf("%w: pipe://%s: named pipes are not implemented yet", ErrUnsupported, name)
}
