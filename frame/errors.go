package frame

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every error a decoder returns for bad input is a
// *ProtocolError that wraps exactly one of these, so callers test with
// errors.Is(err, frame.ErrFrameTooLarge) and read the wire code with
// errors.As.
var (
	// ErrInvalidConfig reports a codec configuration that cannot work. It
	// is returned when the codec is built, never while decoding.
	ErrInvalidConfig = errors.New("frame: invalid configuration")
	// ErrFrameTooLarge reports a frame longer than the configured maximum.
	// Decoders report it from the length prefix alone (or, for delimited
	// frames, as soon as more than the maximum is buffered without a
	// delimiter), before any payload is read or allocated.
	ErrFrameTooLarge = errors.New("frame: frame too large")
	// ErrCorruptLength reports a length field that cannot describe a frame:
	// negative as a signed 8-byte value, or shorter than the header once
	// the length adjustment is applied.
	ErrCorruptLength = errors.New("frame: corrupt length field")
	// ErrDelimiterInPayload reports a payload that contains the delimiter
	// and so cannot be sent with a delimiter codec.
	ErrDelimiterInPayload = errors.New("frame: payload contains the delimiter")
	// ErrShortPayload reports, when encoding, a payload too short to hold the
	// header bytes the codec expects it to carry (InitialBytesToStrip smaller
	// than the header).
	ErrShortPayload = errors.New("frame: payload shorter than the unstripped header")

	// ErrBadVersion reports an event envelope whose version byte is unknown.
	ErrBadVersion = errors.New("frame: unknown envelope version")
	// ErrBadFlags reports an event envelope with reserved flag bits set or
	// an unknown compression algorithm.
	ErrBadFlags = errors.New("frame: invalid envelope flags")
	// ErrTruncated reports an event envelope shorter than its own fields say.
	ErrTruncated = errors.New("frame: truncated envelope")
	// ErrNameTooLong reports an event name longer than allowed (255 bytes in
	// the binary envelope, a configurable limit in JSON).
	ErrNameTooLong = errors.New("frame: event name too long")
	// ErrDecompress reports compressed data that is corrupt, or whose
	// decompressed size exceeds the limit or differs from the size declared.
	ErrDecompress = errors.New("frame: decompression failed")

	// ErrBadJSON reports a JSON frame that is not valid JSON.
	ErrBadJSON = errors.New("frame: invalid JSON")
	// ErrNotEnvelope reports valid JSON that is not an object with a string
	// "type" member.
	ErrNotEnvelope = errors.New("frame: JSON is not an event envelope")
	// ErrBadType reports an event type that the validation options reject:
	// empty, or holding bytes that are not allowed.
	ErrBadType = errors.New("frame: invalid event type")
	// ErrReservedType reports an event whose type is a reserved lifecycle
	// name (for example "connect") arriving from the wire.
	ErrReservedType = errors.New("frame: reserved event type")
)

// Code is the stable numeric code of a wire violation. Codes are part of
// the protocol documentation (docs/PROTOCOL.md) and never change meaning.
type Code uint16

// Wire violation codes.
const (
	CodeFrameTooLarge      Code = 1
	CodeCorruptLength      Code = 2
	CodeDelimiterInPayload Code = 3
	CodeBadVersion         Code = 10
	CodeBadFlags           Code = 11
	CodeTruncated          Code = 12
	CodeNameTooLong        Code = 13
	CodeDecompress         Code = 14
	CodeBadJSON            Code = 20
	CodeNotEnvelope        Code = 21
	CodeBadType            Code = 22
	CodeReservedType       Code = 23
)

var codeErr = map[Code]error{
	CodeFrameTooLarge:      ErrFrameTooLarge,
	CodeCorruptLength:      ErrCorruptLength,
	CodeDelimiterInPayload: ErrDelimiterInPayload,
	CodeBadVersion:         ErrBadVersion,
	CodeBadFlags:           ErrBadFlags,
	CodeTruncated:          ErrTruncated,
	CodeNameTooLong:        ErrNameTooLong,
	CodeDecompress:         ErrDecompress,
	CodeBadJSON:            ErrBadJSON,
	CodeNotEnvelope:        ErrNotEnvelope,
	CodeBadType:            ErrBadType,
	CodeReservedType:       ErrReservedType,
}

// String returns the sentinel's text for c.
func (c Code) String() string {
	if err, ok := codeErr[c]; ok {
		return err.Error()
	}
	return "frame: code " + strconv.Itoa(int(c))
}

// ProtocolError is a wire violation found while decoding: the peer sent
// bytes that break the format. After a ProtocolError from a stream decoder
// the stream position is undefined and the connection should be closed;
// errors from the []byte parsers leave the input untouched.
type ProtocolError struct {
	Code   Code   // stable code, see docs/PROTOCOL.md
	Detail string // human-readable detail, never includes payload bytes
}

func (e *ProtocolError) Error() string {
	if e.Detail == "" {
		return e.Code.String()
	}
	return e.Code.String() + ": " + e.Detail
}

// Unwrap returns the sentinel error for e.Code, so errors.Is works.
func (e *ProtocolError) Unwrap() error { return codeErr[e.Code] }

func protoErr(c Code, detail string) error {
	return &ProtocolError{Code: c, Detail: detail}
}

func configErr(detail string) error {
	return &configError{detail}
}

type configError struct{ detail string }

func (e *configError) Error() string { return ErrInvalidConfig.Error() + ": " + e.detail }
func (e *configError) Unwrap() error { return ErrInvalidConfig }
