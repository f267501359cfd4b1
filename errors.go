package goipc

import (
	"errors"
	"net"

	"github.com/seed-fc4a2f4b/goipc/poller"
)

// Sentinel errors. Errors from lower layers keep their own sentinels
// (frame.ErrFrameTooLarge, unix.ErrAddrInUse, udp.ErrTooLarge, …) and are
// wrapped, so errors.Is works through every layer.
var (
	// ErrClosed is returned by operations on a closed server, client or
	// connection. It is net.ErrClosed.
	ErrClosed = net.ErrClosed
	// ErrBackpressure is returned by a write when the connection already
	// holds its maximum of pending bytes and the policy is to refuse.
	// To retry, back off (time.Sleep for some microseconds) rather than
	// spin on runtime.Gosched: a goroutine that is always runnable keeps
	// the scheduler from polling the network, so at GOMAXPROCS 1 the very
	// goroutines that would drain the queue wait up to 10 ms to run
	// (broadcast to one client on one core, goipc bench --compare: 0.16 M
	// deliveries/s spinning, 8.86 M backing off 20 µs; docs/BENCHMARKS.md,
	// "Session 3").
	ErrBackpressure = poller.ErrBackpressure
	// ErrBadAddress reports an address goipc cannot parse or serve.
	ErrBadAddress = errors.New("goipc: bad address")
	// ErrNoEvents reports Emit or Request on an endpoint whose codec has no
	// event envelope (raw or length mode): use Send.
	ErrNoEvents = errors.New("goipc: codec has no events (raw or length mode): use Send")
	// ErrEvents reports Send on an endpoint whose codec carries events.
	ErrEvents = errors.New("goipc: codec carries events: use Emit")
	// ErrBadJSON reports data passed to Emit in JSON mode that is not one
	// valid JSON value as a goipc receiver accepts it (frame.ValidJSON:
	// valid UTF-8, nested at most 128 deep).
	ErrBadJSON = errors.New("goipc: data is not valid JSON")
	// ErrNoHandler is the error a requester gets when the peer has no
	// handler for the requested event.
	ErrNoHandler = errors.New("goipc: no handler for event")
	// ErrRemote wraps the error message of an error reply.
	ErrRemote = errors.New("goipc: remote error")
	// ErrOutboxFull is returned by a client's Emit while disconnected when
	// the outbox already holds its maximum.
	ErrOutboxFull = errors.New("goipc: outbox full")
	// ErrNotConnected is returned by a client's Request while disconnected.
	ErrNotConnected = errors.New("goipc: not connected")
	// ErrRetriesExhausted is returned when a client gives up connecting.
	ErrRetriesExhausted = errors.New("goipc: retries exhausted")
	// ErrTooManyConns is the reason a server gives a connection refused
	// because MaxConns are open.
	ErrTooManyConns = poller.ErrTooManyConns
	// ErrPartialTimeout is why a server closed a connection whose
	// incomplete frame stalled longer than the partial-frame timeout.
	ErrPartialTimeout = poller.ErrPartialTimeout
	// ErrUnsupported reports a transport or feature not available on this
	// platform or not implemented yet.
	ErrUnsupported = errors.New("goipc: unsupported")
)

// RemoteError is the error of an error reply: the peer's handler failed.
type RemoteError struct {
	Event   string
	Message string
}

func (e *RemoteError) Error() string {
	return "goipc: remote error for " + e.Event + ": " + e.Message
}

// Unwrap returns ErrRemote, or ErrNoHandler when the peer had no handler.
func (e *RemoteError) Unwrap() error {
	if e.Message == noHandlerMsg {
		return ErrNoHandler
	}
	return ErrRemote
}

const noHandlerMsg = "no handler for event"
