// Package frame turns byte streams into messages and messages into bytes:
// goipc's wire formats, with no allocation on the hot path and no trust in
// a peer's bytes.
//
// # Framing
//
// A Codec splits a stream into frames. Three implement it:
//
//   - LengthField: a length prefix configurable to match an existing C or
//     embedded header, with the semantics of Netty's
//     LengthFieldBasedFrameDecoder and LengthFieldPrepender. The zero
//     LengthFieldConfig is goipc's default: a 4-byte big-endian payload
//     length.
//   - Delimiter: frames ended by a delimiter, "\f" by default (node-ipc).
//   - Raw: no framing (node-ipc's rawBuffer).
//
// Every codec is used the same way. Over a []byte, Parse returns the first
// frame and the bytes it used; (nil, 0, nil) means "need more". Over a
// stream, a Decoder drives Parse from any Source with Peek/Discard
// semantics (a *bufio.Reader, or a gnet.Conn through an adapter) without
// copying. Encoding appends: Append(dst, payload), or Begin/End around
// bytes appended in place, so an envelope is encoded straight into its
// frame.
//
// Sizes are checked before memory is committed: a length-prefixed frame
// larger than MaxFrame is rejected from its length field alone, and a
// delimited frame as soon as MaxFrame bytes are buffered without a
// delimiter.
//
// # Envelopes
//
// On top of a length-field frame, goipc's binary event envelope (version 1)
// carries an event name, flags, an optional request id and a payload,
// optionally compressed with s2 or zstd; see AppendEvent, ParseEvent,
// Compressor and Decompressor. On top of a delimiter frame, the node-ipc
// JSON envelope {"type":T,"data":D} is written by AppendJSONEvent and read,
// without unmarshalling, by JSONParser. docs/PROTOCOL.md specifies every
// byte, and testdata/vectors holds the test vectors.
//
// # Memory and goroutines
//
// Slices returned by decoders alias their input (or the Decoder's or
// Decompressor's buffer) and are valid until that input is reused or the
// next call on the same Decoder or Decompressor; copy what you keep.
// Codecs are immutable and safe for concurrent use; Decoder, Decompressor
// and JSONParser belong to one goroutine at a time.
//
// # Errors
//
// Bad input is a *ProtocolError carrying a stable Code and wrapping one of
// the package's sentinel errors, so errors.Is(err, frame.ErrFrameTooLarge)
// works. Invalid configurations wrap ErrInvalidConfig and are reported when
// a codec is built.
package frame
