package rawbuf

import (
	"encoding/binary"
	"math"
)

// Writer appends fixed-size values to a byte slice, the way a C compiler
// lays out a packed struct: no padding is inserted (use Zero for explicit
// padding). Its zero value is ready to use and writes little-endian into a
// fresh slice.
//
// Appends never allocate while Buf has spare capacity; when it does not,
// append grows it as usual. Reuse a Writer (Reset, or Buf = Buf[:0]) to get
// steady-state zero allocation.
//
// A Writer is not safe for concurrent use. Slices returned by Bytes alias
// Buf and stay valid until the next write or Reset.
type Writer struct {
	// Buf holds the bytes written so far; every method appends to it. It
	// may be set directly, e.g. to a pooled buffer or to buf[:0].
	Buf []byte
	// Order is the byte order of multi-byte values.
	Order Order
}

// NewWriter returns a Writer that appends to dst (which may be nil) in the
// given byte order; any binary.ByteOrder is accepted, including
// binary.LittleEndian, binary.BigEndian, binary.NativeEndian and this
// package's LittleEndian and BigEndian (see OrderOf).
func NewWriter(dst []byte, order binary.ByteOrder) Writer {
	return Writer{Buf: dst, Order: OrderOf(order)}
}

// Bytes returns the bytes written so far (Buf). The slice aliases the
// Writer's buffer.
func (w *Writer) Bytes() []byte { return w.Buf }

// Len returns len(Buf).
func (w *Writer) Len() int { return len(w.Buf) }

// Reset truncates Buf to length zero, keeping its capacity.
func (w *Writer) Reset() { w.Buf = w.Buf[:0] }

// U8 appends v.
func (w *Writer) U8(v uint8) { w.Buf = append(w.Buf, v) }

// I8 appends v as one two's-complement byte.
func (w *Writer) I8(v int8) { w.Buf = append(w.Buf, byte(v)) }

// U16 appends v in 2 bytes.
func (w *Writer) U16(v uint16) {
	if w.Order == BigEndian {
		w.Buf = binary.BigEndian.AppendUint16(w.Buf, v)
		return
	}
	w.Buf = binary.LittleEndian.AppendUint16(w.Buf, v)
}

// U32 appends v in 4 bytes.
func (w *Writer) U32(v uint32) {
	if w.Order == BigEndian {
		w.Buf = binary.BigEndian.AppendUint32(w.Buf, v)
		return
	}
	w.Buf = binary.LittleEndian.AppendUint32(w.Buf, v)
}

// U64 appends v in 8 bytes.
func (w *Writer) U64(v uint64) {
	if w.Order == BigEndian {
		w.Buf = binary.BigEndian.AppendUint64(w.Buf, v)
		return
	}
	w.Buf = binary.LittleEndian.AppendUint64(w.Buf, v)
}

// I16 appends v in 2 bytes, two's complement.
func (w *Writer) I16(v int16) { w.U16(uint16(v)) }

// I32 appends v in 4 bytes, two's complement.
func (w *Writer) I32(v int32) { w.U32(uint32(v)) }

// I64 appends v in 8 bytes, two's complement.
func (w *Writer) I64(v int64) { w.U64(uint64(v)) }

// F32 appends the IEEE 754 binary32 bits of v in 4 bytes (C float). NaN
// payloads, infinities and -0 are preserved bit for bit.
func (w *Writer) F32(v float32) { w.U32(math.Float32bits(v)) }

// F64 appends the IEEE 754 binary64 bits of v in 8 bytes (C double). NaN
// payloads, infinities and -0 are preserved bit for bit.
func (w *Writer) F64(v float64) { w.U64(math.Float64bits(v)) }

// Append appends p unchanged (a char array, a nested payload). p is copied;
// it may alias nothing or anything.
func (w *Writer) Append(p []byte) { w.Buf = append(w.Buf, p...) }

// AppendString appends the bytes of s unchanged.
func (w *Writer) AppendString(s string) { w.Buf = append(w.Buf, s...) }

// Zero appends n zero bytes (struct padding, reserved fields). n <= 0
// appends nothing.
func (w *Writer) Zero(n int) {
	if n <= 0 {
		return
	}
	w.Buf = append(w.Buf, make([]byte, n)...) // compiled to a memclr, no allocation
}

// Write appends p and returns len(p), nil, so a Writer is an io.Writer.
func (w *Writer) Write(p []byte) (int, error) {
	w.Buf = append(w.Buf, p...)
	return len(p), nil
}
