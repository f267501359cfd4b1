//go:build !linux

package poller

import (
	"net"
	"time"
)

// sockIO is Linux-only: elsewhere the goroutine engine uses net.Conn's
// methods and keeps its read buffer for the connection's life.
type sockIO struct{}

func newSockIO(net.Conn, time.Duration) *sockIO { return nil }

func (*sockIO) halt() {}

func (*sockIO) wait() error                        { return nil }
func (*sockIO) read([]byte) (int, error)           { return 0, nil }
func (*sockIO) writev(a, b []byte) (int, error)    { return 0, nil }
func (*sockIO) writevNow(a, b []byte) (int, error) { return 0, nil }
