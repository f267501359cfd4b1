package rawbuf

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Encoding is a Node.js Buffer encoding, as used by node-ipc's
// config.encoding in rawBuffer mode. The zero value is UTF8, node-ipc's
// default. Encoding values are plain integers: safe to copy and compare.
type Encoding uint8

// The Node.js Buffer encodings. See AppendEncode and AppendDecode for the
// exact conversions.
const (
	UTF8      Encoding = iota // 'utf8', 'utf-8' (also the empty name)
	ASCII                     // 'ascii'
	Latin1                    // 'latin1', 'binary'
	Hex                       // 'hex'
	Base64                    // 'base64'
	Base64URL                 // 'base64url'
	UTF16LE                   // 'utf16le', 'utf-16le', 'ucs2', 'ucs-2'

	// UCS2 is another name for UTF16LE; Node treats them identically.
	UCS2 = UTF16LE

	numEncodings = iota - 1 // UCS2 does not count
)

var encodingNames = [numEncodings]string{
	UTF8:      "utf8",
	ASCII:     "ascii",
	Latin1:    "latin1",
	Hex:       "hex",
	Base64:    "base64",
	Base64URL: "base64url",
	UTF16LE:   "utf16le",
}

// String returns Node's canonical name for e ("utf8", "ascii", "latin1",
// "hex", "base64", "base64url", "utf16le"), or "Encoding(N)" for a value
// outside the constants.
func (e Encoding) String() string {
	if e.Valid() {
		return encodingNames[e]
	}
	return "Encoding(" + strconv.Itoa(int(e)) + ")"
}

// Valid reports whether e is one of the declared constants.
func (e Encoding) Valid() bool { return e < numEncodings }

// ParseEncoding returns the Encoding for a Node.js encoding name,
// case-insensitively: "utf8", "utf-8", "ascii", "latin1", "binary", "hex",
// "base64", "base64url", "ucs2", "ucs-2", "utf16le", "utf-16le". The empty
// name is UTF8, as in Node. Any other name returns an error wrapping
// ErrUnknownEncoding.
func ParseEncoding(name string) (Encoding, error) {
	for _, c := range [...]struct {
		name string
		enc  Encoding
	}{
		{"utf8", UTF8}, {"utf-8", UTF8}, {"", UTF8},
		{"ascii", ASCII},
		{"latin1", Latin1}, {"binary", Latin1},
		{"hex", Hex},
		{"base64", Base64}, {"base64url", Base64URL},
		{"utf16le", UTF16LE}, {"utf-16le", UTF16LE}, {"ucs2", UTF16LE}, {"ucs-2", UTF16LE},
	} {
		if strings.EqualFold(name, c.name) {
			return c.enc, nil
		}
	}
	return UTF8, &encodingError{name}
}

// encodingError wraps ErrUnknownEncoding with the offending name.
type encodingError struct{ name string }

func (e *encodingError) Error() string {
	return ErrUnknownEncoding.Error() + " " + strconv.Quote(e.name)
}

func (e *encodingError) Unwrap() error { return ErrUnknownEncoding }

// MaxEncodedLen returns an upper bound on the number of bytes AppendEncode
// appends for a string of n bytes: size dst with this much spare capacity
// for an allocation-free call.
func MaxEncodedLen(n int, enc Encoding) int {
	switch enc {
	case ASCII, Latin1:
		return n // one byte per UTF-16 unit; a Go string has at most n units
	case Hex:
		return n / 2
	case Base64, Base64URL:
		return n/4*3 + n%4*3/4
	case UTF16LE:
		return 2 * n
	}
	return 3 * n // UTF8: each invalid byte may become U+FFFD
}

// MaxDecodedLen returns an upper bound on the number of bytes AppendDecode
// appends for n input bytes: size dst with this much spare capacity for an
// allocation-free call.
func MaxDecodedLen(n int, enc Encoding) int {
	switch enc {
	case ASCII:
		return n
	case Latin1, Hex:
		return 2 * n
	case Base64:
		return base64.StdEncoding.EncodedLen(n)
	case Base64URL:
		return base64.RawURLEncoding.EncodedLen(n)
	case UTF16LE:
		return n / 2 * 3
	}
	return 3 * n
}

// AppendEncode appends to dst the bytes of Node's Buffer.from(s, enc) and
// returns the extended slice. s is first read as the JavaScript string its
// bytes decode to: valid UTF-8 passes through and each ill-formed sequence
// (maximal subpart, as in the WHATWG decoder) stands for one U+FFFD. Then,
// as Node does:
//
//   - UTF8: the UTF-8 bytes; so valid input is copied unchanged and
//     ill-formed sequences become EF BF BD.
//   - ASCII, Latin1: the low byte of each UTF-16 code unit ('é' → E9,
//     'ā' U+0101 → 01, '😀' → 3D 00). Node does the same for both names.
//   - Hex: pairs of hex digits (either case). Decoding stops silently at the
//     first pair that is not two hex digits, and a trailing odd digit is
//     dropped: "abzz" → AB, "abc" → AB. Like Node, each UTF-16 unit is
//     truncated to its low byte first, so "šb" (U+0161 U+0062) → AB.
//   - Base64, Base64URL: Node's lenient decoder, the same for both names:
//     the standard and URL-safe alphabets are both accepted, whitespace and
//     any other character outside the alphabets is skipped, padding is
//     optional, decoding stops at the first '=', and a final group of 2 or
//     3 characters yields 1 or 2 bytes (a lone final character none).
//     Units are truncated to their low byte, as for Hex.
//   - UTF16LE: each UTF-16 code unit in 2 bytes, little-endian; astral
//     characters become surrogate pairs.
//
// Like Node it never rejects input; the only error is an Encoding outside
// the constants, wrapping ErrUnknownEncoding (dst is then returned
// unchanged). It does not allocate when dst has MaxEncodedLen(len(s), enc)
// spare capacity. dst may be nil. Safe for concurrent use.
func AppendEncode(dst []byte, s string, enc Encoding) ([]byte, error) {
	switch enc {
	case UTF8:
		if utf8.ValidString(s) {
			return append(dst, s...), nil
		}
		return sanitizeUTF8(dst, s), nil
	case ASCII, Latin1:
		return appendLowBytes(dst, s), nil
	case Hex:
		return appendHexJS(dst, s), nil
	case Base64, Base64URL:
		return appendBase64JS(dst, s), nil
	case UTF16LE:
		return appendUTF16LE(dst, s), nil
	}
	return dst, &encodingError{enc.String()}
}

// AppendDecode appends to dst the UTF-8 bytes of Node's buf.toString(enc)
// for buf = b, and returns the extended slice:
//
//   - UTF8: b with each ill-formed sequence replaced by U+FFFD (EF BF BD),
//     one per maximal subpart as in the WHATWG/V8 decoder (so E2 82 41 →
//     U+FFFD 'A', but ED A0 80 → three U+FFFD, and F0 9F 98 → one).
//   - ASCII: each byte & 0x7F (Node 20 strips the high bit).
//   - Latin1: each byte as U+0000..U+00FF.
//   - Hex: two lowercase hex digits per byte.
//   - Base64: the standard alphabet, padded with '='.
//   - Base64URL: the URL-safe alphabet, unpadded.
//   - UTF16LE: each little-endian byte pair as a UTF-16 code unit; an odd
//     trailing byte is dropped, and a surrogate not part of a pair becomes
//     U+FFFD (as Node's UTF-8 conversion of the resulting string would).
//
// An Encoding outside the constants is treated as UTF8, node-ipc's
// default; use Valid or ParseEncoding to reject such values first.
// It does not allocate when dst has MaxDecodedLen(len(b), enc) spare
// capacity. b is only read; dst must not overlap b. dst may be nil. Safe
// for concurrent use.
func AppendDecode(dst []byte, b []byte, enc Encoding) []byte {
	switch enc {
	case ASCII:
		for _, c := range b {
			dst = append(dst, c&0x7F)
		}
		return dst
	case Latin1:
		for _, c := range b {
			if c < utf8.RuneSelf {
				dst = append(dst, c)
			} else {
				dst = append(dst, 0xC0|c>>6, 0x80|c&0x3F)
			}
		}
		return dst
	case Hex:
		return hex.AppendEncode(dst, b)
	case Base64:
		return base64.StdEncoding.AppendEncode(dst, b)
	case Base64URL:
		return base64.RawURLEncoding.AppendEncode(dst, b)
	case UTF16LE:
		return appendFromUTF16LE(dst, b)
	}
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	return sanitizeUTF8(dst, b)
}

// appendLowBytes appends the low byte of each UTF-16 unit of s.
func appendLowBytes(dst []byte, s string) []byte {
	if isASCII(s) {
		return append(dst, s...)
	}
	u := units{s: s}
	for {
		c, ok := u.next()
		if !ok {
			return dst
		}
		dst = append(dst, byte(c))
	}
}

// appendUTF16LE appends the UTF-16LE code units of s.
func appendUTF16LE(dst []byte, s string) []byte {
	u := units{s: s}
	for {
		c, ok := u.next()
		if !ok {
			return dst
		}
		dst = append(dst, byte(c), byte(c>>8))
	}
}

// appendFromUTF16LE appends the UTF-8 form of the UTF-16LE units in b.
func appendFromUTF16LE(dst []byte, b []byte) []byte {
	n := len(b) &^ 1
	for i := 0; i < n; i += 2 {
		c := rune(b[i]) | rune(b[i+1])<<8
		switch {
		case c < utf8.RuneSelf:
			dst = append(dst, byte(c))
			continue
		case c < 0xD800 || c > 0xDFFF:
		case c <= 0xDBFF && i+3 < n:
			if d := rune(b[i+2]) | rune(b[i+3])<<8; d >= 0xDC00 && d <= 0xDFFF {
				c = 0x10000 + (c-0xD800)<<10 + (d - 0xDC00)
				i += 2
				break
			}
			c = utf8.RuneError
		default: // lone surrogate
			c = utf8.RuneError
		}
		dst = utf8.AppendRune(dst, c)
	}
	return dst
}

// unhexTable maps a byte to its hex digit value, or 0xFF.
var unhexTable = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
		t[c-'a'+'A'] = byte(c - 'a' + 10)
	}
	return t
}()

// appendHexJS implements Buffer.from(s, 'hex'): pairs of units, each
// truncated to a byte, until the first invalid pair.
func appendHexJS(dst []byte, s string) []byte {
	// Fast path over the ASCII prefix, two bytes (= two units) at a time.
	i := 0
	for ; i+1 < len(s) && s[i] < utf8.RuneSelf && s[i+1] < utf8.RuneSelf; i += 2 {
		a, b := unhexTable[s[i]], unhexTable[s[i+1]]
		if a > 15 || b > 15 {
			return dst
		}
		dst = append(dst, a<<4|b)
	}
	if i+1 >= len(s) {
		return dst // done, or one odd trailing digit
	}
	// A non-ASCII character within the next pair: go unit by unit.
	u := units{s: s, i: i}
	for {
		hi, ok1 := u.next()
		lo, ok2 := u.next()
		if !ok1 || !ok2 {
			return dst
		}
		a, b := unhexTable[byte(hi)], unhexTable[byte(lo)]
		if a > 15 || b > 15 {
			return dst
		}
		dst = append(dst, a<<4|b)
	}
}

// unbase64Table maps a byte to its 6-bit value in either the standard or
// the URL-safe alphabet, or 0xFF; as Node's unbase64.
var unbase64Table = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['-'], t['_'] = 62, 63
	return t
}()

// b64state is the decoder state between characters: q valid characters
// of the current group seen, hi the previous one.
type b64state struct {
	q, hi byte
}

// push adds one character's byte; it reports false at '=' (stop).
func (st *b64state) push(dst []byte, c byte) ([]byte, bool) {
	v := unbase64Table[c]
	if v > 63 {
		return dst, c != '='
	}
	switch st.q {
	case 1:
		dst = append(dst, st.hi<<2|v>>4)
	case 2:
		dst = append(dst, st.hi<<4|v>>2)
	case 3:
		dst = append(dst, st.hi<<6|v)
	}
	st.hi = v
	st.q = (st.q + 1) & 3
	return dst, true
}

// appendBase64JS implements Node 20's lenient Buffer.from(s, 'base64'):
// skip characters outside both alphabets, stop at the first '=', decode the
// rest as if it were one base64 string, leftover bits of a final partial
// group producing 1 or 2 bytes.
func appendBase64JS(dst []byte, s string) []byte {
	var st b64state
	i := 0
	for i < len(s) {
		// Fast path: a whole group of four valid characters.
		if st.q == 0 && i+4 <= len(s) {
			a, b, c, d := unbase64Table[s[i]], unbase64Table[s[i+1]], unbase64Table[s[i+2]], unbase64Table[s[i+3]]
			if (a|b|c|d)&0xC0 == 0 {
				dst = append(dst, a<<2|b>>4, b<<4|c>>2, c<<6|d)
				i += 4
				continue
			}
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			break
		}
		var ok bool
		if dst, ok = st.push(dst, c); !ok {
			return dst
		}
		i++
	}
	if i == len(s) {
		return dst
	}
	// A non-ASCII character: go unit by unit, each truncated to a byte.
	u := units{s: s, i: i}
	for {
		c, ok := u.next()
		if !ok {
			return dst
		}
		if dst, ok = st.push(dst, byte(c)); !ok {
			return dst
		}
	}
}
