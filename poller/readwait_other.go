//go:build !linux

package poller

import "net"

// readWaiter is Linux-only: elsewhere the goroutine engine keeps its read
// buffer for the connection's life.
type readWaiter struct{}

func newReadWaiter(net.Conn) *readWaiter { return nil }

func (*readWaiter) wait() error { return nil }
