package frame

// DefaultMaxFrame is the maximum frame length used when a codec's MaxFrame
// is left zero: 8 MiB on the wire, header included.
const DefaultMaxFrame = 8 << 20

// Codec splits a byte stream into frames and writes frames. LengthField,
// Delimiter and Raw implement it; the stream Decoder and the connection
// layer drive every codec through this one interface.
//
// Codecs are immutable once built and safe for concurrent use by any number
// of goroutines. No method allocates.
type Codec interface {
	// Parse splits the first frame off b. It returns the frame's payload,
	// which aliases b, and n, the number of bytes of b the frame occupies
	// (header and delimiter included). When b does not yet hold a whole
	// frame, Parse returns (nil, 0, nil): short input is not an error, it
	// means "need more". A wire violation returns a *ProtocolError and n ==
	// 0; b is not modified either way.
	Parse(b []byte) (payload []byte, n int, err error)

	// Need reports how many bytes, counted from the start of b, must be
	// buffered before Parse can make progress, given that Parse(b) returned
	// no frame and no error. The result is always > len(b). Codecs that
	// cannot tell (a delimiter not yet seen) return len(b)+1.
	Need(b []byte) int

	// Begin starts a frame at the end of dst: it appends the header bytes
	// the codec writes ahead of the payload and returns the extended slice
	// and a mark to pass to End. The caller appends the payload to the
	// returned slice, then calls End. Begin/End let an envelope be encoded
	// straight into its frame with no intermediate copy.
	Begin(dst []byte) (out []byte, mark int)

	// End completes the frame started at mark: it fills in the length field
	// or appends the delimiter, and checks the frame against the codec's
	// limits. On error the returned slice is dst truncated to where Begin
	// found it, so a failed frame never leaves partial bytes behind.
	End(dst []byte, mark int) ([]byte, error)

	// Append appends payload as one frame; it is Begin, append, End.
	Append(dst, payload []byte) ([]byte, error)

	// MaxFrame returns the largest frame, in bytes on the wire, that Parse
	// accepts and End produces.
	MaxFrame() int
}

// appendFrame is the shared Append of every codec.
func appendFrame(c Codec, dst, payload []byte) ([]byte, error) {
	out, mark := c.Begin(dst)
	out = append(out, payload...)
	return c.End(out, mark)
}
