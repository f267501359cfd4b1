package rawbuf

import (
	"encoding/binary"
	"math"
)

// Order is a byte order for multi-byte values. It implements both
// binary.ByteOrder and binary.AppendByteOrder, so rawbuf.LittleEndian can be
// passed wherever encoding/binary expects an order, and it is a concrete
// type, so the Writer and Reader hot paths make no interface calls.
//
// The zero value is LittleEndian, the order of x86 and ARM C peers. Any
// value other than BigEndian behaves as LittleEndian.
type Order uint8

const (
	// LittleEndian stores the least significant byte first.
	LittleEndian Order = iota
	// BigEndian stores the most significant byte first ("network order").
	BigEndian
)

// probe is read (never written) by OrderOf; a package variable so that the
// interface call does not make a slice escape to the heap.
var probe = [2]byte{0x01, 0x00}

// OrderOf returns the Order equivalent to o: BigEndian for
// binary.BigEndian, LittleEndian for binary.LittleEndian, and for any other
// binary.ByteOrder (binary.NativeEndian, an Order, a custom type) the order
// its Uint16 method exhibits. A nil o yields LittleEndian.
func OrderOf(o binary.ByteOrder) Order {
	switch o := o.(type) {
	case nil:
		return LittleEndian
	case Order:
		if o == BigEndian {
			return BigEndian
		}
		return LittleEndian
	}
	if o == binary.BigEndian {
		return BigEndian
	}
	if o == binary.LittleEndian {
		return LittleEndian
	}
	if o.Uint16(probe[:]) == 0x0100 {
		return BigEndian
	}
	return LittleEndian
}

// String returns "LittleEndian" or "BigEndian", like encoding/binary.
func (o Order) String() string {
	if o == BigEndian {
		return "BigEndian"
	}
	return "LittleEndian"
}

// Uint16 implements binary.ByteOrder. It panics if len(b) < 2.
func (o Order) Uint16(b []byte) uint16 {
	if o == BigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

// Uint32 implements binary.ByteOrder. It panics if len(b) < 4.
func (o Order) Uint32(b []byte) uint32 {
	if o == BigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// Uint64 implements binary.ByteOrder. It panics if len(b) < 8.
func (o Order) Uint64(b []byte) uint64 {
	if o == BigEndian {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// PutUint16 implements binary.ByteOrder. It panics if len(b) < 2.
func (o Order) PutUint16(b []byte, v uint16) {
	if o == BigEndian {
		binary.BigEndian.PutUint16(b, v)
		return
	}
	binary.LittleEndian.PutUint16(b, v)
}

// PutUint32 implements binary.ByteOrder. It panics if len(b) < 4.
func (o Order) PutUint32(b []byte, v uint32) {
	if o == BigEndian {
		binary.BigEndian.PutUint32(b, v)
		return
	}
	binary.LittleEndian.PutUint32(b, v)
}

// PutUint64 implements binary.ByteOrder. It panics if len(b) < 8.
func (o Order) PutUint64(b []byte, v uint64) {
	if o == BigEndian {
		binary.BigEndian.PutUint64(b, v)
		return
	}
	binary.LittleEndian.PutUint64(b, v)
}

// AppendUint16 implements binary.AppendByteOrder.
func (o Order) AppendUint16(b []byte, v uint16) []byte {
	if o == BigEndian {
		return binary.BigEndian.AppendUint16(b, v)
	}
	return binary.LittleEndian.AppendUint16(b, v)
}

// AppendUint32 implements binary.AppendByteOrder.
func (o Order) AppendUint32(b []byte, v uint32) []byte {
	if o == BigEndian {
		return binary.BigEndian.AppendUint32(b, v)
	}
	return binary.LittleEndian.AppendUint32(b, v)
}

// AppendUint64 implements binary.AppendByteOrder.
func (o Order) AppendUint64(b []byte, v uint64) []byte {
	if o == BigEndian {
		return binary.BigEndian.AppendUint64(b, v)
	}
	return binary.LittleEndian.AppendUint64(b, v)
}

// Plain functions for fixed positions (patching a length field, reading one
// field of a struct). Like encoding/binary they panic if b is too short;
// use a Reader for input of unknown length. They do not allocate and are
// safe for concurrent use on distinct or read-only buffers.

// PutU16 stores v in b[0:2] in byte order o.
func PutU16(b []byte, o Order, v uint16) { o.PutUint16(b, v) }

// PutU32 stores v in b[0:4] in byte order o.
func PutU32(b []byte, o Order, v uint32) { o.PutUint32(b, v) }

// PutU64 stores v in b[0:8] in byte order o.
func PutU64(b []byte, o Order, v uint64) { o.PutUint64(b, v) }

// PutI16 stores v in b[0:2] in byte order o, two's complement.
func PutI16(b []byte, o Order, v int16) { o.PutUint16(b, uint16(v)) }

// PutI32 stores v in b[0:4] in byte order o, two's complement.
func PutI32(b []byte, o Order, v int32) { o.PutUint32(b, uint32(v)) }

// PutI64 stores v in b[0:8] in byte order o, two's complement.
func PutI64(b []byte, o Order, v int64) { o.PutUint64(b, uint64(v)) }

// PutF32 stores the IEEE 754 bits of v in b[0:4] in byte order o. NaN
// payloads, infinities and -0 are preserved bit for bit.
func PutF32(b []byte, o Order, v float32) { o.PutUint32(b, math.Float32bits(v)) }

// PutF64 stores the IEEE 754 bits of v in b[0:8] in byte order o. NaN
// payloads, infinities and -0 are preserved bit for bit.
func PutF64(b []byte, o Order, v float64) { o.PutUint64(b, math.Float64bits(v)) }

// U16 returns the uint16 in b[0:2] in byte order o.
func U16(b []byte, o Order) uint16 { return o.Uint16(b) }

// U32 returns the uint32 in b[0:4] in byte order o.
func U32(b []byte, o Order) uint32 { return o.Uint32(b) }

// U64 returns the uint64 in b[0:8] in byte order o.
func U64(b []byte, o Order) uint64 { return o.Uint64(b) }

// I16 returns the two's-complement int16 in b[0:2] in byte order o.
func I16(b []byte, o Order) int16 { return int16(o.Uint16(b)) }

// I32 returns the two's-complement int32 in b[0:4] in byte order o.
func I32(b []byte, o Order) int32 { return int32(o.Uint32(b)) }

// I64 returns the two's-complement int64 in b[0:8] in byte order o.
func I64(b []byte, o Order) int64 { return int64(o.Uint64(b)) }

// F32 returns the float32 whose IEEE 754 bits are in b[0:4] in byte order o.
func F32(b []byte, o Order) float32 { return math.Float32frombits(o.Uint32(b)) }

// F64 returns the float64 whose IEEE 754 bits are in b[0:8] in byte order o.
func F64(b []byte, o Order) float64 { return math.Float64frombits(o.Uint64(b)) }
