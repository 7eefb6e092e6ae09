// Package logtext makes text that comes from clients safe to write to a log
// that someone reads in a terminal. It is shared by fxforge's logger and the
// few log fields of wsgateway that carry client text.
package logtext

import (
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// Escape returns s with every control character written as an escape: C0
// (U+0000-U+001F), DEL and C1 (U+0080-U+009F) as \u00XX, and each byte
// that is not valid UTF-8 as \xXX, since a raw 0x9b byte is the one-byte
// terminal escape introducer. Everything else, backslashes included, is
// kept. s itself is returned when it needs no escaping.
func Escape(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if needsEscape(r, size) {
			return string(AppendEscaped(make([]byte, 0, len(s)+8), s))
		}
		i += size
	}
	return s
}

// AppendEscaped appends s to dst, escaped as Escape does.
func AppendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !needsEscape(r, size) {
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		if r == utf8.RuneError {
			dst = append(dst, '\\', 'x', hexDigits[s[i]>>4], hexDigits[s[i]&0xf])
		} else {
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}

// IsControl reports whether r is a C0 or C1 control character or DEL.
func IsControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }

// needsEscape reports whether the rune r, of size bytes, is a control
// character or an invalid byte.
func needsEscape(r rune, size int) bool {
	return IsControl(r) || (r == utf8.RuneError && size == 1)
}

// HasC1 reports whether the UTF-8 text b holds a C1 control character
// (U+0080-U+009F).
func HasC1(b []byte) bool { return nextC1(b, 0) >= 0 }

// AppendC1Escaped appends b to dst with each C1 control character written
// as \u00XX and every other byte as it is. It is for text whose other
// control characters are already escaped, such as encoded JSON, where the
// escape reads back as the same string.
func AppendC1Escaped(dst, b []byte) []byte {
	start := 0
	for i := nextC1(b, 0); i >= 0; i = nextC1(b, start) {
		c := b[i+1]
		dst = append(dst, b[start:i]...)
		dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		start = i + 2
	}
	return append(dst, b[start:]...)
}

// nextC1 returns the index of the first C1 character in b at or after
// from, or -1. In UTF-8 a C1 character is 0xc2 followed by 0x80-0x9f, and
// 0xc2 is never a continuation byte.
func nextC1(b []byte, from int) int {
	for i := from; i+1 < len(b); i++ {
		if b[i] == 0xc2 && b[i+1] >= 0x80 && b[i+1] <= 0x9f {
			return i
		}
	}
	return -1
}
