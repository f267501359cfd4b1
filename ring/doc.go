// Package ring provides preallocated, fixed-capacity, power-of-two byte rings
// for outbound frames.
//
// Each connection owns one outbound ring. Producers append whole encoded
// frames; one consumer (the connection's event loop) takes the pending bytes
// as at most two slices, hands them to write or writev, and consumes what the
// socket accepted.
//
// # Model
//
// A ring holds two monotonic uint64 positions: head, the total number of
// bytes ever published by producers, and tail, the total number of bytes ever
// consumed. Only producers advance head; only the consumer advances tail.
// Both are atomics, so either side reads the other's position without a lock.
// The byte at position p lives at index p & (Cap()-1). Pending bytes are
// head-tail; free space is Cap()-(head-tail). Positions never wrap in
// practice (2^64 bytes).
//
// # Backpressure
//
// The capacity is fixed by New and rounded up to a power of two; nothing ever
// grows and nothing allocates after New. A write that does not fit returns
// ErrFull and changes nothing; a write larger than the capacity returns
// ErrTooLarge. The capacity is therefore the bound on pending outbound bytes
// per connection, and ErrFull is the signal for the caller's policy (retry
// after a flush, drop, or disconnect a slow peer).
//
// Writes are all or nothing: a frame is either entirely in the ring or not
// at all, so the consumer never sees half a frame. WriteParts appends a
// header and a payload as one unit without concatenating them first.
//
// # Reading: two slices for writev
//
// Pending bytes may straddle the end of the buffer, so Peek returns them as
// first and second, in order; second is empty unless the data wraps. Both
// alias the ring's memory: they are valid only until the next Consume or
// Reset, after which producers may overwrite them. The consumer must not
// modify them. After writing, call Consume(n) with the number of bytes the
// socket accepted.
//
// # Writing in place
//
// Encoders that produce bytes directly into a buffer use Space and Commit
// (Ring) or Reserve and Commit (MPSC). Space returns the free region as up to
// two slices aliasing the ring; they are valid until the matching Commit.
// Commit(n) publishes the first n bytes written across first then second.
//
// # Goroutine safety
//
// Ring is single-producer single-consumer and lock-free: at most one
// goroutine at a time may call the producer methods (Write, WriteParts,
// Space, Commit), and at most one goroutine at a time may call the consumer
// methods (Peek, Consume, Reset). The producer and the consumer may run
// concurrently with each other. Len, Free and Cap may be called from any
// goroutine; their results are snapshots that may be stale by the time they
// are used.
//
// MPSC is multi-producer single-consumer: any number of goroutines may call
// Write, WriteParts and Reserve/Commit concurrently; producers are
// serialized by a mutex, so frames from different writers are never split or
// interleaved. The consumer side (Peek, Consume, Reset) takes no lock and is
// still restricted to one goroutine at a time.
package ring
