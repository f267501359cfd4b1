package rawbuf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Reader reads fixed-size values from a byte slice, in order, without
// copying or allocating.
//
// Errors are sticky: a read that needs more bytes than remain returns the
// zero value, consumes the rest of the buffer and records an error that
// wraps ErrShort (and io.ErrUnexpectedEOF); every later read returns zero
// and Err keeps reporting the first failure. So a whole struct can be
// decoded and Err checked once at the end. A Reader never panics, whatever
// the input.
//
// The Reader does not copy its buffer: the caller must not modify it while
// reading, and slices returned by Bytes alias it (valid as long as the
// buffer is; for a goipc Message that is the duration of the handler).
// A Reader is not safe for concurrent use; distinct Readers over the same
// read-only buffer are.
//
// The zero Reader has an empty buffer (little-endian); use NewReader or
// Reset to give it data.
type Reader struct {
	buf   []byte
	off   int
	order Order
	// The first short read: at offset at, need bytes were wanted. The
	// error value is built lazily by Err, so the getters stay small enough
	// to inline.
	failed   bool
	at, need int
	err      error
}

// NewReader returns a Reader over b in the given byte order (see OrderOf;
// binary.LittleEndian, binary.BigEndian and this package's Orders all
// work). b is not copied.
func NewReader(b []byte, order binary.ByteOrder) Reader {
	return Reader{buf: b, order: OrderOf(order)}
}

// Reset makes r read b from the start in byte order o and clears the error.
func (r *Reader) Reset(b []byte, o Order) {
	*r = Reader{buf: b, order: o}
}

// Order returns the byte order r reads in.
func (r *Reader) Order() Order { return r.order }

// Failed reports whether a read ran short. Unlike Err it never allocates:
// use it on hot paths fed by untrusted peers, and Err when you want the
// details.
func (r *Reader) Failed() bool { return r.failed }

// Err returns nil, or the first short-read error; it wraps ErrShort and
// io.ErrUnexpectedEOF. The error is built (allocated) on the first call
// after a failure; repeated calls return the same value. See Failed.
func (r *Reader) Err() error {
	if r.failed && r.err == nil {
		r.err = fmt.Errorf("%w: need %d bytes at offset %d, %d remain (%w)",
			ErrShort, r.need, r.at, len(r.buf)-r.at, io.ErrUnexpectedEOF)
	}
	return r.err
}

// Remaining returns the number of unread bytes (0 after an error).
func (r *Reader) Remaining() int { return len(r.buf) - r.off }

// Offset returns the number of bytes consumed so far.
func (r *Reader) Offset() int { return r.off }

// Rest returns the unread bytes without consuming them. The slice aliases
// the buffer.
func (r *Reader) Rest() []byte { return r.buf[r.off:] }

// fail records the first short read and consumes the rest of the buffer,
// so every later read fails too.
func (r *Reader) fail(n int) {
	if !r.failed {
		r.failed, r.at, r.need = true, r.off, n
	}
	r.off = len(r.buf)
}

// U8 reads one byte.
func (r *Reader) U8() uint8 {
	if r.off < len(r.buf) {
		v := r.buf[r.off]
		r.off++
		return v
	}
	r.fail(1)
	return 0
}

// I8 reads one two's-complement byte.
func (r *Reader) I8() int8 { return int8(r.U8()) }

// U16 reads 2 bytes.
func (r *Reader) U16() uint16 {
	if b := r.buf[r.off:]; len(b) >= 2 {
		r.off += 2
		return r.order.Uint16(b)
	}
	r.fail(2)
	return 0
}

// U32 reads 4 bytes.
func (r *Reader) U32() uint32 {
	if b := r.buf[r.off:]; len(b) >= 4 {
		r.off += 4
		return r.order.Uint32(b)
	}
	r.fail(4)
	return 0
}

// U64 reads 8 bytes.
func (r *Reader) U64() uint64 {
	if b := r.buf[r.off:]; len(b) >= 8 {
		r.off += 8
		return r.order.Uint64(b)
	}
	r.fail(8)
	return 0
}

// I16 reads 2 bytes as a two's-complement int16.
func (r *Reader) I16() int16 { return int16(r.U16()) }

// I32 reads 4 bytes as a two's-complement int32.
func (r *Reader) I32() int32 { return int32(r.U32()) }

// I64 reads 8 bytes as a two's-complement int64.
func (r *Reader) I64() int64 { return int64(r.U64()) }

// F32 reads 4 bytes as an IEEE 754 binary32 (C float), bit for bit.
func (r *Reader) F32() float32 { return math.Float32frombits(r.U32()) }

// F64 reads 8 bytes as an IEEE 754 binary64 (C double), bit for bit.
func (r *Reader) F64() float64 { return math.Float64frombits(r.U64()) }

// Bytes returns the next n bytes. The slice aliases the Reader's buffer
// (no copy; its capacity is capped at n so appending to it cannot
// overwrite later data); copy it to keep it beyond the buffer's lifetime.
// On a short read, or if n < 0, it returns nil and records the error.
func (r *Reader) Bytes(n int) []byte {
	if n >= 0 && n <= len(r.buf)-r.off {
		b := r.buf[r.off : r.off+n : r.off+n]
		r.off += n
		return b
	}
	r.fail(n)
	return nil
}

// Skip discards the next n bytes (padding, reserved fields). A short skip
// or n < 0 records the error.
func (r *Reader) Skip(n int) {
	if n >= 0 && n <= len(r.buf)-r.off {
		r.off += n
		return
	}
	r.fail(n)
}
