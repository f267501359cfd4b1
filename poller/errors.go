package poller

import (
	"errors"
	"net"
)

var (
	// ErrBackpressure is returned to a writer when the connection already
	// holds its maximum of pending outbound bytes (see Policy).
	ErrBackpressure = errors.New("poller: outbound queue full (backpressure)")
	// ErrClosed is returned by writes on a closed or closing connection. It
	// is net.ErrClosed, so errors.Is(err, net.ErrClosed) holds.
	ErrClosed = net.ErrClosed
	// ErrPartialTimeout closes a connection whose partial frame stalled
	// longer than the configured timeout.
	ErrPartialTimeout = errors.New("poller: partial frame timed out")
	// ErrTooManyConns refuses a connection beyond the configured maximum.
	ErrTooManyConns = errors.New("poller: too many connections")
)
