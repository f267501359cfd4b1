package goipc

import (
	"fmt"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// Mode is a wire mode.
type Mode uint8

const (
	// ModeEvent is goipc's binary event envelope inside length-prefixed
	// frames: event names, request/reply, optional compression. The default.
	ModeEvent Mode = iota
	// ModeJSON is node-ipc's JSON events: {"type":T,"data":D} + "\f".
	ModeJSON
	// ModeLength is bare length-prefixed frames, configurable to match a C
	// header; handlers get whole frames through OnData.
	ModeLength
	// ModeRaw is no framing at all (node-ipc's rawBuffer); handlers get
	// chunks as they arrive through OnData.
	ModeRaw
)

// String returns "event", "json", "length" or "raw".
func (m Mode) String() string {
	switch m {
	case ModeEvent:
		return "event"
	case ModeJSON:
		return "json"
	case ModeLength:
		return "length"
	case ModeRaw:
		return "raw"
	}
	return fmt.Sprintf("mode(%d)", m)
}

// Codec describes how an endpoint puts messages on the wire. Build one
// with EventCodec, JSONCodec, LengthCodec or RawCodec and refine it with
// the With methods, which return a modified copy. The zero value is
// EventCodec(). Both ends of a connection must use the same codec.
type Codec struct {
	mode        Mode
	length      frame.LengthFieldConfig
	delim       []byte
	maxFrame    int
	compression frame.Compression
	threshold   int
	json        frame.JSONOptions
}

// EventCodec is goipc's default: the binary event envelope (docs/PROTOCOL.md)
// in frames with a 4-byte big-endian length.
func EventCodec() Codec { return Codec{mode: ModeEvent} }

// JSONCodec is node-ipc's wire format: UTF-8 JSON {"type":T,"data":D}
// followed by "\f". Emit's data must be one valid JSON value.
func JSONCodec() Codec { return Codec{mode: ModeJSON} }

// LengthCodec frames messages with the given length field (see
// frame.LengthFieldConfig for the Netty-compatible parameters). Messages
// carry no event name: use Send and OnData.
func LengthCodec(cfg frame.LengthFieldConfig) Codec {
	return Codec{mode: ModeLength, length: cfg}
}

// RawCodec passes bytes through unframed: Send writes bytes, OnData gets
// chunks as they arrive, with no message boundaries.
func RawCodec() Codec { return Codec{mode: ModeRaw} }

// Mode returns the codec's wire mode.
func (c Codec) Mode() Mode { return c.mode }

// WithLengthField sets the length field of event or length mode.
func (c Codec) WithLengthField(cfg frame.LengthFieldConfig) Codec {
	c.length = cfg
	return c
}

// WithMaxFrame sets the largest frame accepted or sent, in bytes on the
// wire (default frame.DefaultMaxFrame, 8 MiB). In raw mode it bounds the
// chunks OnData gets.
func (c Codec) WithMaxFrame(n int) Codec {
	c.maxFrame = n
	return c
}

// WithDelimiter sets JSON mode's delimiter (default "\f", node-ipc's).
func (c Codec) WithDelimiter(d []byte) Codec {
	c.delim = append([]byte(nil), d...)
	return c
}

// WithCompression compresses event payloads of at least threshold bytes
// (0: frame.DefaultCompressThreshold) with s2 or zstd, when that makes
// them smaller. Receivers always accept compressed payloads, bounded by the
// max frame; this only changes what is sent.
func (c Codec) WithCompression(algo frame.Compression, threshold int) Codec {
	c.compression, c.threshold = algo, threshold
	return c
}

// WithJSONOptions sets how JSON mode validates incoming events, e.g.
// frame.JSONOptions{Reserved: frame.ReservedLifecycle} for node-ipc's
// guarded behaviour.
func (c Codec) WithJSONOptions(o frame.JSONOptions) Codec {
	c.json = o
	return c
}

// framing builds the frame codec.
func (c Codec) framing() (frame.Codec, error) {
	switch c.mode {
	case ModeEvent, ModeLength:
		cfg := c.length
		if c.maxFrame != 0 {
			cfg.MaxFrame = c.maxFrame
		}
		return frame.NewLengthField(cfg)
	case ModeJSON:
		return frame.NewDelimiter(frame.DelimiterConfig{Delimiter: c.delim, MaxFrame: c.maxFrame})
	case ModeRaw:
		return frame.Raw{MaxChunk: c.maxFrame}, nil
	}
	return nil, fmt.Errorf("goipc: unknown mode %d", c.mode)
}

// compressor builds the endpoint's compressor, nil for none.
func (c Codec) compressor() (*frame.Compressor, error) {
	if c.mode != ModeEvent || c.compression == frame.None {
		return nil, nil
	}
	return frame.NewCompressor(c.compression, c.threshold)
}

// events reports whether the mode carries event names.
func (c *Codec) events() bool { return c.mode == ModeEvent || c.mode == ModeJSON }
