package frame

import (
	"encoding/binary"
	"math"
	"strconv"
)

// LengthFieldConfig describes a length-prefixed framing with the semantics
// of Netty's LengthFieldBasedFrameDecoder and LengthFieldPrepender, so a
// goipc codec can be configured to match an existing C or embedded header.
//
// A frame on the wire is
//
//	[Offset bytes][length field: Size bytes][rest of the frame]
//	 ^ frame start                          ^ header end = Offset+Size
//
// The frame's total length in bytes, header included, is
//
//	total = length + Adjustment + (Offset+Size)         (IncludesHeader false)
//	total = length + Adjustment                         (IncludesHeader true)
//
// and the decoder returns the frame with its first Strip bytes removed.
//
// The zero value is goipc's default framing: a 4-byte big-endian length of
// the payload, header stripped, frames up to DefaultMaxFrame.
//
// Mapping from Netty: lengthFieldOffset → Offset, lengthFieldLength → Size,
// lengthAdjustment → Adjustment, initialBytesToStrip → Strip (0 → KeepHeader,
// Offset+Size → leave Strip zero), maxFrameLength → MaxFrame, byteOrder →
// LittleEndian, lengthIncludesLengthFieldLength (prepender) →
// IncludesHeader. goipc always fails fast: a frame whose length exceeds
// MaxFrame is an error as soon as its length field is read.
type LengthFieldConfig struct {
	// Offset is the number of bytes before the length field (0 to 65535).
	Offset int
	// Size is the length field's width in bytes: 1, 2, 3, 4 or 8. Zero
	// means 4. An 8-byte field is read as a signed value; a negative one is
	// a corrupt length.
	Size int
	// LittleEndian selects little-endian byte order for the length field;
	// the default is big-endian (network order).
	LittleEndian bool
	// Adjustment is added to the length field's value to compute the frame
	// length (Netty's lengthAdjustment). Negative values are allowed.
	Adjustment int
	// IncludesHeader says the length field counts the header bytes
	// (Offset+Size) too; it is the same as subtracting Offset+Size from
	// Adjustment.
	IncludesHeader bool
	// Strip is the number of bytes removed from the start of every decoded
	// frame (Netty's initialBytesToStrip), 0 to 65535. Zero means the whole
	// header, Offset+Size bytes; set KeepHeader to strip nothing. It may not
	// end inside the length field.
	Strip int
	// KeepHeader makes the decoder return whole frames, header included
	// (Netty's initialBytesToStrip = 0). Strip must be zero.
	KeepHeader bool
	// MaxFrame is the largest frame accepted or produced, counted on the
	// wire with the header. Zero means DefaultMaxFrame.
	MaxFrame int
}

// LengthField is a length-prefixed Codec built from a LengthFieldConfig.
//
// Encoding: Begin writes Strip bytes (zero-filled, the length slot among
// them when Strip covers it); the caller appends the payload, which must
// itself carry the remaining header bytes when Strip is shorter than the
// header; End writes the length field. So Parse(Append(nil, p)) returns p
// for every configuration, except that when Strip ends before the length
// field the payload's copy of the length field holds the value End wrote.
//
// A LengthField is immutable and safe for concurrent use.
type LengthField struct {
	cfg    LengthFieldConfig
	offset int
	size   int
	end    int // offset + size
	adj    int // effective adjustment: total = length + adj + end
	strip  int
	max    int
	maxLen uint64 // largest length-field value accepted (bounded by max and the field width); at most math.MaxInt64
	// minTotal is max(end, strip), the shortest frame a length field may
	// describe.
	minTotal int
	// minEnc and maxEnc bound the frames End accepts: from max(end,
	// end+adj) bytes (shorter is ErrShortPayload) to maxLen+end+adj bytes,
	// which is at most max (longer is ErrFrameTooLarge).
	minEnc int
	maxEnc int
	little bool
	be4    bool // the field is 4 bytes, big-endian (the default): read and written inline
	// plain: the default header, exactly: a 4-byte big-endian length of
	// the payload at offset 0, stripped. Append writes it in one step.
	plain bool
}

var _ Codec = (*LengthField)(nil)

const maxHeaderBytes = 65535

// NewLengthField validates cfg and returns the codec. Configurations that
// cannot frame anything are rejected with an error wrapping
// ErrInvalidConfig.
func NewLengthField(cfg LengthFieldConfig) (*LengthField, error) {
	c := &LengthField{cfg: cfg, offset: cfg.Offset, size: cfg.Size, little: cfg.LittleEndian, max: cfg.MaxFrame}
	if c.size == 0 {
		c.size = 4
	}
	switch c.size {
	case 1, 2, 3, 4, 8:
	default:
		return nil, configErr("length field size " + strconv.Itoa(cfg.Size) + " (want 1, 2, 3, 4 or 8)")
	}
	if c.offset < 0 || c.offset > maxHeaderBytes {
		return nil, configErr("length field offset " + strconv.Itoa(cfg.Offset) + " (want 0 to 65535)")
	}
	if c.max == 0 {
		c.max = DefaultMaxFrame
	}
	if c.max < 0 {
		return nil, configErr("negative max frame length")
	}
	c.end = c.offset + c.size
	switch {
	case cfg.KeepHeader && cfg.Strip != 0:
		return nil, configErr("KeepHeader with a non-zero Strip")
	case cfg.KeepHeader:
		c.strip = 0
	case cfg.Strip == 0:
		c.strip = c.end
	default:
		c.strip = cfg.Strip
	}
	if c.strip < 0 || c.strip > maxHeaderBytes {
		return nil, configErr("bytes to strip " + strconv.Itoa(cfg.Strip) + " (want 0 to 65535)")
	}
	if c.strip > c.offset && c.strip < c.end {
		return nil, configErr("bytes to strip (" + strconv.Itoa(c.strip) + ") end inside the length field")
	}
	const maxAdj = 1 << 30
	if cfg.Adjustment < -maxAdj || cfg.Adjustment > maxAdj {
		return nil, configErr("length adjustment out of range")
	}
	c.adj = cfg.Adjustment
	if cfg.IncludesHeader {
		c.adj -= c.end
	}
	// The smallest frame is max(end, strip) bytes long and needs a
	// non-negative length; the largest is bounded by MaxFrame and the
	// width of the field.
	minTotal := max(c.end, c.strip, c.end+c.adj)
	if minTotal > c.max {
		return nil, configErr("max frame length " + strconv.Itoa(c.max) + " is below the smallest possible frame (" + strconv.Itoa(minTotal) + " bytes)")
	}
	maxLen := int64(c.max) - int64(c.end) - int64(c.adj)
	fieldMax := uint64(math.MaxInt64)
	if c.size < 8 {
		fieldMax = 1<<(8*c.size) - 1
	}
	c.maxLen = min(uint64(maxLen), fieldMax)
	c.minTotal = max(c.end, c.strip)
	c.minEnc = max(c.end, c.end+c.adj)
	c.maxEnc = int(c.maxLen) + c.end + c.adj
	c.be4 = c.size == 4 && !c.little
	c.plain = c.be4 && c.offset == 0 && c.strip == 4 && c.adj == 0
	return c, nil
}

// MustLengthField is NewLengthField for configurations known to be valid;
// it panics on error. Use it for package-level codecs.
func MustLengthField(cfg LengthFieldConfig) *LengthField {
	c, err := NewLengthField(cfg)
	if err != nil {
		panic(err)
	}
	return c
}

// DefaultHeader reports whether the codec's header is the default one: a
// 4-byte big-endian length of the payload, at offset 0, stripped on
// decode, with no adjustment. If so, maxPayload is the largest payload
// Append accepts, and a caller encoding in bulk may write such frames
// itself (the length, then the payload), as Append would.
func (c *LengthField) DefaultHeader() (maxPayload int, ok bool) {
	if !c.plain {
		return 0, false
	}
	return c.maxEnc - 4, true
}

// Config returns the configuration the codec was built from.
func (c *LengthField) Config() LengthFieldConfig { return c.cfg }

// HeaderLen returns Offset+Size, the bytes up to the end of the length
// field.
func (c *LengthField) HeaderLen() int { return c.end }

// MaxFrame implements Codec.
func (c *LengthField) MaxFrame() int { return c.max }

// readLen returns the length field of the frame at the start of b, which
// holds at least the header. The default layout (4 bytes, big-endian) is
// read inline; the others go through readLenSlow.
func (c *LengthField) readLen(b []byte) uint64 {
	f := b[c.offset:c.end]
	if c.be4 {
		return uint64(binary.BigEndian.Uint32(f))
	}
	return c.readLenSlow(f)
}

// readLenSlow reads a length field of any width and byte order from f,
// which is exactly the field.
func (c *LengthField) readLenSlow(f []byte) uint64 {
	o := c.order()
	switch len(f) {
	case 1:
		return uint64(f[0])
	case 2:
		return uint64(o.Uint16(f))
	case 4:
		return uint64(o.Uint32(f))
	case 8:
		return o.Uint64(f)
	}
	var v uint64 // 3 bytes
	for i := range f {
		x := f[i]
		if c.little {
			x = f[len(f)-1-i]
		}
		v = v<<8 | uint64(x)
	}
	return v
}

// order returns the length field's byte order.
func (c *LengthField) order() binary.ByteOrder {
	if c.little {
		return binary.LittleEndian
	}
	return binary.BigEndian
}

// putLen writes v, which fits the field, as the length field of the frame
// at the start of b. The default layout is written inline.
func (c *LengthField) putLen(b []byte, v uint64) {
	f := b[c.offset:c.end]
	if c.be4 {
		binary.BigEndian.PutUint32(f, uint32(v))
		return
	}
	c.putLenSlow(f, v)
}

// putLenSlow writes v into f, which is exactly the length field.
func (c *LengthField) putLenSlow(f []byte, v uint64) {
	o := c.order()
	switch len(f) {
	case 1:
		f[0] = byte(v)
	case 2:
		o.PutUint16(f, uint16(v))
	case 4:
		o.PutUint32(f, uint32(v))
	case 8:
		o.PutUint64(f, v)
	default: // 3 bytes
		for i := range f {
			k := len(f) - 1 - i // big-endian: the last byte is the lowest
			if c.little {
				k = i
			}
			f[k] = byte(v)
			v >>= 8
		}
	}
}

// frameLen returns the total length of the frame at the start of b, which
// holds at least the header. The accepted case is one comparison against
// maxLen (which is at most math.MaxInt64, so it also rejects negative
// 8-byte fields) and one against minTotal; lenErr sorts out the rest.
func (c *LengthField) frameLen(b []byte) (int, error) {
	v := c.readLen(b)
	if v <= c.maxLen {
		if total := int(v) + c.adj + c.end; total >= c.minTotal {
			return total, nil
		}
	}
	return 0, c.lenErr(v)
}

// lenErr returns the error for a length field value v that frameLen
// rejected.
func (c *LengthField) lenErr(v uint64) error {
	if c.size == 8 && v > math.MaxInt64 {
		return protoErr(CodeCorruptLength, "negative 8-byte length field")
	}
	if v > c.maxLen {
		return protoErr(CodeFrameTooLarge, "length field "+strconv.FormatUint(v, 10)+" exceeds max frame length "+strconv.Itoa(c.max))
	}
	total := int(v) + c.adj + c.end
	if total < c.end {
		return protoErr(CodeCorruptLength, "adjusted frame length "+strconv.Itoa(total)+" is less than the header length "+strconv.Itoa(c.end))
	}
	return protoErr(CodeCorruptLength, "adjusted frame length "+strconv.Itoa(total)+" is less than the bytes to strip "+strconv.Itoa(c.strip))
}

// Parse implements Codec. The size check happens on the length field
// alone, before the rest of the frame is looked at.
func (c *LengthField) Parse(b []byte) ([]byte, int, error) {
	if len(b) < c.end {
		return nil, 0, nil
	}
	// frameLen, by hand: the accepted case makes no call.
	v := c.readLen(b)
	total := int(v) + c.adj + c.end
	if v > c.maxLen || total < c.minTotal {
		return nil, 0, c.lenErr(v)
	}
	if len(b) < total {
		return nil, 0, nil
	}
	return b[c.strip:total:total], total, nil
}

// Need implements Codec: the header length until the header is buffered,
// then the whole frame's length.
func (c *LengthField) Need(b []byte) int {
	if len(b) < c.end {
		return c.end
	}
	total, err := c.frameLen(b)
	if err != nil || total <= len(b) {
		return len(b) + 1
	}
	return total
}

// Begin implements Codec: it appends Strip zero bytes.
func (c *LengthField) Begin(dst []byte) ([]byte, int) {
	mark := len(dst)
	if c.strip == 4 && cap(dst)-mark >= 4 {
		// The default header, without a call to memmove.
		dst = dst[:mark+4]
		binary.BigEndian.PutUint32(dst[mark:], 0)
		return dst, mark
	}
	if c.strip <= len(zeros) {
		return append(dst, zeros[:c.strip]...), mark
	}
	return appendZeros(dst, c.strip), mark
}

// End implements Codec: it writes the length field of the frame that
// starts at mark.
func (c *LengthField) End(dst []byte, mark int) ([]byte, error) {
	// minEnc and maxEnc fold the checks total < end, total < end+adj,
	// total > max and length > maxLen into two comparisons.
	total := len(dst) - mark
	if total < c.minEnc {
		return dst[:mark], ErrShortPayload
	}
	if total > c.maxEnc {
		return dst[:mark], ErrFrameTooLarge
	}
	c.putLen(dst[mark:], uint64(total-c.end-c.adj))
	return dst, nil
}

// Append implements Codec. It is Begin, append(payload), End, with no
// interface calls; the default header is written in one step.
func (c *LengthField) Append(dst, payload []byte) ([]byte, error) {
	if c.plain {
		// End's checks and write, for the default header.
		if total := 4 + len(payload); total > c.maxEnc {
			return dst, ErrFrameTooLarge
		}
		return append(binary.BigEndian.AppendUint32(dst, uint32(len(payload))), payload...), nil
	}
	out, mark := c.Begin(dst)
	return c.End(append(out, payload...), mark)
}

var zeros [64]byte

func appendZeros(dst []byte, n int) []byte {
	for n > 0 {
		k := min(n, len(zeros))
		dst = append(dst, zeros[:k]...)
		n -= k
	}
	return dst
}
