package rawbuf

import (
	"errors"
	"strconv"
)

// Sentinel errors. Errors returned by this package wrap exactly one of
// these, so callers test with errors.Is.
var (
	// ErrShort reports a read past the end of a Reader's buffer. The error
	// a Reader returns from Err wraps both ErrShort and io.ErrUnexpectedEOF.
	ErrShort = errors.New("rawbuf: short buffer")
	// ErrUnknownEncoding reports an encoding name ParseEncoding does not
	// know, or an Encoding value outside the declared constants.
	ErrUnknownEncoding = errors.New("rawbuf: unknown encoding")
	// ErrBadHex reports malformed input to ParseHex. The concrete error is a
	// *HexError carrying the offset of the problem.
	ErrBadHex = errors.New("rawbuf: bad hex")
)

// HexError describes malformed input to ParseHex. It wraps ErrBadHex.
type HexError struct {
	// Offset is the byte offset in the input of the offending character,
	// or of the first digit of a token with an odd number of digits.
	Offset int
	// Reason says what is wrong, e.g. `invalid character 'g'` or
	// "odd number of hex digits".
	Reason string
}

// Error implements error.
func (e *HexError) Error() string {
	return "rawbuf: bad hex at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// Unwrap returns ErrBadHex.
func (e *HexError) Unwrap() error { return ErrBadHex }
