package logtext_test

import (
	"testing"
	"unicode/utf8"

	"github.com/fxforge/fxforge/internal/logtext"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text is kept", "/ws?room=α", "/ws?room=α"},
		{"ESC", "a\x1b[2Jb", `a\u001b[2Jb`},
		{"newline and tab", "a\nb\tc", `a\u000ab\u0009c`},
		{"NUL and DEL", "\x00\x7f", `\u0000\u007f`},
		{"C1 CSI as UTF-8", "a\u009b31mb", `a\u009b31mb`},
		{"first and last C1", "\u0080\u009f", `\u0080\u009f`},
		{"raw 0x9b byte", "a\x9b31m", `a\x9b31m`},
		{"U+00A0 is not a control", "a\u00a0b", "a\u00a0b"},
		{"backslashes are kept", `C:\tmp`, `C:\tmp`},
		{"replacement character is kept", "\ufffd", "\ufffd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := logtext.Escape(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEscapeReturnsCleanTextWithoutCopying(t *testing.T) {
	s := "users.count"
	if allocs := testing.AllocsPerRun(100, func() { _ = logtext.Escape(s) }); allocs != 0 {
		t.Errorf("Escape of clean text allocated %v times", allocs)
	}
}

func FuzzEscapeLeavesNoControlCharacter(f *testing.F) {
	for _, s := range []string{"", "a\x1bb", "\u009b", "\x9b", "\xc2", "ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := logtext.Escape(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Escape(%q) = %q is not valid UTF-8", s, out)
		}
		for i, r := range out {
			if logtext.IsControl(r) {
				t.Fatalf("Escape(%q) = %q has %U at %d", s, out, r, i)
			}
		}
	})
}
