package frame

// Raw is the Codec of raw mode (node-ipc's rawBuffer): no framing at all.
// Parse returns whatever bytes are buffered, up to MaxFrame at a time, and
// Append copies the payload unchanged. Message boundaries are not
// preserved: the receiver sees the stream in the chunks that arrive.
//
// The zero value is ready to use, with chunks of up to DefaultMaxFrame
// bytes. A Raw is immutable and safe for concurrent use.
type Raw struct {
	// MaxChunk bounds the bytes one Parse returns; zero means
	// DefaultMaxFrame. It limits nothing on the encoding side.
	MaxChunk int
}

var _ Codec = Raw{}

// MaxFrame implements Codec: the largest chunk Parse returns.
func (c Raw) MaxFrame() int {
	if c.MaxChunk <= 0 {
		return DefaultMaxFrame
	}
	return c.MaxChunk
}

// Parse implements Codec: all of b (up to MaxFrame) is one chunk; an empty
// b is "need more".
func (c Raw) Parse(b []byte) ([]byte, int, error) {
	n := min(len(b), c.MaxFrame())
	if n == 0 {
		return nil, 0, nil
	}
	return b[:n:n], n, nil
}

// Need implements Codec.
func (c Raw) Need(b []byte) int { return len(b) + 1 }

// Begin implements Codec.
func (c Raw) Begin(dst []byte) ([]byte, int) { return dst, len(dst) }

// End implements Codec.
func (c Raw) End(dst []byte, mark int) ([]byte, error) { return dst, nil }

// Append implements Codec.
func (c Raw) Append(dst, payload []byte) ([]byte, error) { return append(dst, payload...), nil }
