package rawbuf

import "unicode/utf8"

// This file converts between Go strings (bytes, normally UTF-8) and the
// UTF-16 strings Node.js works on.
//
// A Go string becomes a JavaScript string the way a WHATWG TextDecoder
// ('utf-8', no fatal flag) would decode its bytes: valid UTF-8 passes
// through, and every maximal subpart of an ill-formed sequence becomes one
// U+FFFD. V8 decodes Buffer contents the same way, so sanitizeUTF8 is also
// buf.toString('utf8').

// bytestr is the set of types the helpers read from.
type bytestr interface{ ~string | ~[]byte }

// replacement is U+FFFD REPLACEMENT CHARACTER in UTF-8.
const replacement = "\uFFFD"

// decodeRune decodes the WHATWG UTF-8 sequence at s[i:]. It returns the
// code point and its length, or -1 and the length of the maximal subpart
// of an ill-formed sequence (at least 1), which the caller replaces with one
// U+FFFD.
func decodeRune[S bytestr](s S, i int) (rune, int) {
	c := s[i]
	if c < 0x80 {
		return rune(c), 1
	}
	var need int
	var r rune
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need, r = 1, rune(c&0x1F)
	case c >= 0xE0 && c <= 0xEF:
		need, r = 2, rune(c&0x0F)
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F
		}
	case c >= 0xF0 && c <= 0xF4:
		need, r = 3, rune(c&0x07)
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
	default: // 80..C1, F5..FF: never valid anywhere
		return -1, 1
	}
	j := i + 1
	for ; need > 0; need-- {
		if j >= len(s) {
			return -1, j - i
		}
		d := s[j]
		if d < lo || d > hi {
			return -1, j - i
		}
		lo, hi = 0x80, 0xBF
		r = r<<6 | rune(d&0x3F)
		j++
	}
	return r, j - i
}

// sanitizeUTF8 appends s with every ill-formed sequence replaced by U+FFFD
// (WHATWG maximal-subpart replacement).
func sanitizeUTF8[S bytestr](dst []byte, s S) []byte {
	i := 0
	for i < len(s) {
		// Copy the longest ASCII run at once.
		j := i
		for j < len(s) && s[j] < utf8.RuneSelf {
			j++
		}
		if j > i {
			dst = append(dst, s[i:j]...)
			i = j
			if i == len(s) {
				break
			}
		}
		r, n := decodeRune(s, i)
		if r < 0 {
			dst = append(dst, replacement...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}

// units iterates over the UTF-16 code units of the JavaScript string a Go
// string decodes to (see the file comment).
type units struct {
	s    string
	i    int
	low  uint16 // pending low surrogate of an astral character
	pend bool
}

// next returns the next code unit, or ok == false at the end.
func (u *units) next() (unit uint16, ok bool) {
	if u.pend {
		u.pend = false
		return u.low, true
	}
	if u.i >= len(u.s) {
		return 0, false
	}
	c := u.s[u.i]
	if c < utf8.RuneSelf {
		u.i++
		return uint16(c), true
	}
	r, n := decodeRune(u.s, u.i)
	u.i += n
	if r < 0 {
		return utf8.RuneError, true
	}
	if r < 0x10000 {
		return uint16(r), true
	}
	r -= 0x10000
	u.low, u.pend = uint16(0xDC00+r&0x3FF), true
	return uint16(0xD800 + r>>10), true
}

// isASCII reports whether s has no byte >= 0x80.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
