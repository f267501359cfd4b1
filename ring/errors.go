package ring

import "errors"

// Sentinel errors. Test for them with errors.Is; New wraps
// ErrInvalidCapacity with the offending value.
var (
	// ErrFull reports that the ring has less free space than the write
	// needs right now. Nothing was written. It is the backpressure signal:
	// the caller may retry after the consumer drains, drop the frame, or
	// apply its own policy (for example, close a slow connection).
	ErrFull = errors.New("ring: full")
	// ErrTooLarge reports a write longer than the ring's capacity. Such a
	// write can never succeed, however long the caller waits. Nothing was
	// written.
	ErrTooLarge = errors.New("ring: write larger than capacity")
	// ErrInvalidCapacity reports a capacity passed to New or NewMPSC that
	// is not in 1..MaxCapacity.
	ErrInvalidCapacity = errors.New("ring: invalid capacity")
)
