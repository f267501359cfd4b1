package frame

import (
	"bytes"
	"strconv"
)

// DefaultDelimiter is node-ipc's message delimiter, form feed (0x0C).
const DefaultDelimiter = "\f"

// DelimiterConfig describes a delimiter-terminated framing. The zero value
// is node-ipc's: frames end with "\f", up to DefaultMaxFrame bytes.
type DelimiterConfig struct {
	// Delimiter ends every frame. Any non-empty byte string; nil or empty
	// means DefaultDelimiter. At most 255 bytes.
	Delimiter []byte
	// MaxFrame is the largest frame accepted or produced, counted on the
	// wire with the delimiter. Zero means DefaultMaxFrame.
	MaxFrame int
}

// Delimiter is a delimiter-terminated Codec. Payloads must not contain the
// delimiter: End checks and refuses them with ErrDelimiterInPayload.
//
// A Delimiter is immutable and safe for concurrent use.
type Delimiter struct {
	delim []byte
	max   int
}

var _ Codec = (*Delimiter)(nil)

// NewDelimiter validates cfg and returns the codec.
func NewDelimiter(cfg DelimiterConfig) (*Delimiter, error) {
	c := &Delimiter{delim: bytes.Clone(cfg.Delimiter), max: cfg.MaxFrame}
	if len(c.delim) == 0 {
		c.delim = []byte(DefaultDelimiter)
	}
	if len(c.delim) > 255 {
		return nil, configErr("delimiter longer than 255 bytes")
	}
	if c.max == 0 {
		c.max = DefaultMaxFrame
	}
	if c.max < len(c.delim) {
		return nil, configErr("max frame length " + strconv.Itoa(c.max) + " is shorter than the delimiter")
	}
	return c, nil
}

// MustDelimiter is NewDelimiter for configurations known to be valid; it
// panics on error.
func MustDelimiter(cfg DelimiterConfig) *Delimiter {
	c, err := NewDelimiter(cfg)
	if err != nil {
		panic(err)
	}
	return c
}

// Delim returns the delimiter. The slice is shared: do not modify it.
func (c *Delimiter) Delim() []byte { return c.delim }

// MaxFrame implements Codec.
func (c *Delimiter) MaxFrame() int { return c.max }

// Parse implements Codec. Without a delimiter in the first MaxFrame bytes
// of b, a b of MaxFrame bytes or more is ErrFrameTooLarge.
func (c *Delimiter) Parse(b []byte) ([]byte, int, error) {
	return c.parseFrom(b, 0)
}

// parseFrom is Parse for a b whose first from bytes are known to hold no
// delimiter; the stream Decoder uses it so a frame arriving in many reads
// is scanned once, not once per read.
func (c *Delimiter) parseFrom(b []byte, from int) ([]byte, int, error) {
	from = max(0, from-len(c.delim)+1)
	win := b[:min(len(b), c.max)]
	if from < len(win) {
		if i := bytes.Index(win[from:], c.delim); i >= 0 {
			i += from
			n := i + len(c.delim)
			return b[:i:i], n, nil
		}
	}
	if len(b) >= c.max {
		return nil, 0, protoErr(CodeFrameTooLarge, "no delimiter within max frame length "+strconv.Itoa(c.max))
	}
	return nil, 0, nil
}

// Need implements Codec: a delimiter's position can't be predicted, so it
// asks for one more byte.
func (c *Delimiter) Need(b []byte) int { return len(b) + 1 }

// Begin implements Codec; a delimited frame has no header.
func (c *Delimiter) Begin(dst []byte) ([]byte, int) { return dst, len(dst) }

// End implements Codec: it appends the delimiter after checking that the
// frame fits MaxFrame and that the payload cannot be mistaken for a
// shorter frame (it holds no delimiter, and no delimiter starts inside it
// and ends in the appended one).
func (c *Delimiter) End(dst []byte, mark int) ([]byte, error) {
	p := dst[mark:]
	if len(p)+len(c.delim) > c.max {
		return dst[:mark], ErrFrameTooLarge
	}
	// The first delimiter in payload+delimiter must be the one appended:
	// with a self-overlapping delimiter such as "\r\n\r\n", a payload
	// ending in "\r\n" would otherwise decode shorter.
	out := append(dst, c.delim...)
	if bytes.Index(out[mark:], c.delim) != len(p) {
		return dst[:mark], ErrDelimiterInPayload
	}
	return out, nil
}

// Append implements Codec.
func (c *Delimiter) Append(dst, payload []byte) ([]byte, error) {
	return appendFrame(c, dst, payload)
}
