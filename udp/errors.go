package udp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Sentinel errors. Test for them with errors.Is; the typed errors below
// carry the details and unwrap to these.
var (
	// ErrTooLarge reports a payload that does not fit in one datagram for
	// its destination. It is returned before anything is sent: goipc never
	// truncates, splits or silently drops an outgoing datagram.
	ErrTooLarge = errors.New("udp: datagram too large")

	// ErrTruncated reports a received datagram that was larger than the
	// buffer it was read into. The bytes that did fit are in the buffer,
	// but the message is incomplete and must not be treated as whole.
	ErrTruncated = errors.New("udp: datagram truncated")

	// ErrClosed is net.ErrClosed: every operation on a closed Conn returns
	// an error for which errors.Is(err, net.ErrClosed) (and so
	// errors.Is(err, udp.ErrClosed)) holds.
	ErrClosed = net.ErrClosed

	// ErrAddress reports a destination that the Conn cannot send to: the
	// zero AddrPort, an IPv6 address on a udp4 Conn, or an unknown zone.
	ErrAddress = errors.New("udp: invalid destination address")
)

// TooLargeError is returned (as a pointer) when a payload exceeds the
// maximum datagram payload for its destination. It unwraps to ErrTooLarge.
type TooLargeError struct {
	Size int            // payload length that was refused
	Max  int            // largest payload allowed for To
	To   netip.AddrPort // destination
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("udp: %d-byte payload to %v exceeds the %d-byte maximum datagram payload", e.Size, e.To, e.Max)
}

// Unwrap returns ErrTooLarge.
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// TruncatedError is returned (as a pointer) when a received datagram did
// not fit in the caller's buffer. It unwraps to ErrTruncated.
type TruncatedError struct {
	From   netip.AddrPort // sender of the datagram
	BufLen int            // size of the buffer it was read into
	Size   int            // real datagram size, or 0 where the OS does not report it
	Index  int            // index in the batch for ReadBatch; 0 for ReadFrom
}

func (e *TruncatedError) Error() string {
	if e.Size > 0 {
		return fmt.Sprintf("udp: %d-byte datagram from %v truncated to a %d-byte buffer (message %d)", e.Size, e.From, e.BufLen, e.Index)
	}
	return fmt.Sprintf("udp: datagram from %v larger than the %d-byte buffer (message %d)", e.From, e.BufLen, e.Index)
}

// Unwrap returns ErrTruncated.
func (e *TruncatedError) Unwrap() error { return ErrTruncated }

func addrError(to netip.AddrPort, network, why string) error {
	return fmt.Errorf("%w %v on %s conn: %s", ErrAddress, to, network, why)
}
