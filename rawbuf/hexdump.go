package rawbuf

import (
	"encoding/hex"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// hexdumpLine is the length of one full line of AppendHexdump output for
// an offset that fits in 8 hex digits: offset, 2 spaces, 16 "xx " groups
// with an extra space after the eighth, " |", 16 characters, "|\n".
const hexdumpLine = 8 + 2 + 16*3 + 1 + 1 + 1 + 16 + 1 + 1

// HexdumpLen returns the length of AppendHexdump's output for n bytes at
// offsets that fit in 8 hex digits (baseOffset+n <= 0xFFFFFFFF): size dst
// with this much spare capacity for an allocation-free call.
func HexdumpLen(n int) int {
	if n <= 0 {
		return 0
	}
	full, rest := n/16, n%16
	n = full*hexdumpLine + 9
	if rest > 0 {
		n += hexdumpLine - 16 + rest
	}
	return n
}

// AppendHexdump appends the canonical hex+ASCII dump of b, the format of
// `hexdump -C` (BSD hexdump / util-linux) with the -v flag, to dst and
// returns the extended slice:
//
//	00000000  01 00 00 00 40 e2 01 00  00 00 00 00 00 00 c0 3f  |....@..........?|
//	00000010  00 00 00 c0 00 00 80 7f                           |........|
//	00000018
//
// Each line holds 16 bytes: the offset in at least 8 lowercase hex digits
// (more if it needs them), two spaces, the bytes in two groups of eight,
// then the bytes between '|' with '.' for anything outside printable ASCII
// (0x20..0x7E). A last line gives the offset just past the data. Offsets
// start at baseOffset, like `hexdump -C -s baseOffset file`; a negative
// baseOffset is treated as 0. Unlike plain `hexdump -C`, repeated lines are
// never collapsed into "*" (that is what -v turns off): logs should show
// every byte. An empty b appends nothing, as hexdump prints nothing for an
// empty file.
//
// It does not allocate when dst has HexdumpLen(len(b)) spare capacity.
// dst may be nil. Safe for concurrent use.
func AppendHexdump(dst []byte, b []byte, baseOffset int) []byte {
	if len(b) == 0 {
		return dst
	}
	if baseOffset < 0 {
		baseOffset = 0
	}
	off := uint64(baseOffset)
	for len(b) > 0 {
		line := b
		if len(line) > 16 {
			line = line[:16]
		}
		dst = appendOffset(dst, off)
		dst = append(dst, ' ', ' ')
		for i := 0; i < 16; i++ {
			if i < len(line) {
				c := line[i]
				dst = append(dst, hexDigits[c>>4], hexDigits[c&0x0F], ' ')
			} else {
				dst = append(dst, ' ', ' ', ' ')
			}
			if i == 7 {
				dst = append(dst, ' ')
			}
		}
		dst = append(dst, ' ', '|')
		for _, c := range line {
			if c < 0x20 || c > 0x7E {
				c = '.'
			}
			dst = append(dst, c)
		}
		dst = append(dst, '|', '\n')
		off += uint64(len(line))
		b = b[len(line):]
	}
	dst = appendOffset(dst, off)
	return append(dst, '\n')
}

// appendOffset appends off in at least 8 lowercase hex digits.
func appendOffset(dst []byte, off uint64) []byte {
	if off <= 0xFFFFFFFF {
		return append(dst,
			hexDigits[off>>28&0xF], hexDigits[off>>24&0xF], hexDigits[off>>20&0xF], hexDigits[off>>16&0xF],
			hexDigits[off>>12&0xF], hexDigits[off>>8&0xF], hexDigits[off>>4&0xF], hexDigits[off&0xF])
	}
	return strconv.AppendUint(dst, off, 16)
}

// Hexdump returns AppendHexdump(nil, b, 0) as a string, for logs and
// debugging; it allocates.
func Hexdump(b []byte) string {
	return string(AppendHexdump(make([]byte, 0, HexdumpLen(len(b))), b, 0))
}

// AppendHex appends the compact lowercase hex form of b (two digits per
// byte, no separators) to dst and returns the extended slice. It does not
// allocate when dst has 2*len(b) spare capacity. dst may be nil.
func AppendHex(dst, b []byte) []byte { return hex.AppendEncode(dst, b) }

// ParseHex appends the bytes written in hex in s to dst and returns the
// extended slice. It is meant for human input (CLI flags, test vectors) and
// is strict, unlike Node's 'hex' (see AppendEncode):
//
//   - digits may be upper or lower case;
//   - tokens may be separated by any mix of spaces, tabs, newlines, ':'
//     and '-' ("de:ad:be:ef", "de-ad", "de ad\nbe ef");
//   - each token may start with "0x" or "0X" ("0xdead 0xbeef");
//   - each token must hold an even, non-zero number of digits.
//
// Anything else returns dst truncated to its length on entry (its spare
// capacity may have been written) together with a *HexError
// (wrapping ErrBadHex) holding the byte offset of the offending character,
// or of the first digit of a token with an odd number of digits. Empty or
// separator-only input yields no bytes and no error.
//
// It does not allocate when dst has len(s)/2 spare capacity (the error
// path allocates). dst may be nil. Safe for concurrent use.
func ParseHex(dst []byte, s string) ([]byte, error) {
	start := len(dst)
	i := 0
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\v', '\f', ':', '-':
			i++
			continue
		}
		// A token: optional 0x prefix, then digits up to a separator.
		if s[i] == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') {
			i += 2
		}
		tok := i
		for i < len(s) {
			c := s[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == ':' || c == '-' {
				break
			}
			if unhexTable[c] > 15 {
				r, _ := utf8.DecodeRuneInString(s[i:])
				return dst[:start], &HexError{Offset: i, Reason: "invalid character " + strconv.QuoteRune(r)}
			}
			i++
		}
		switch n := i - tok; {
		case n == 0:
			return dst[:start], &HexError{Offset: tok, Reason: "0x prefix without digits"}
		case n%2 != 0:
			return dst[:start], &HexError{Offset: tok, Reason: "odd number of hex digits"}
		}
		for j := tok; j < i; j += 2 {
			dst = append(dst, unhexTable[s[j]]<<4|unhexTable[s[j+1]])
		}
	}
	return dst, nil
}
