package fxforge

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// hostile is text a client controls: a path with U+009B (CSI), ESC
// sequences that clear the screen and set the window title, BEL, a raw
// 0x9b byte and a newline that would forge a second log line.
const hostile = "/ws\u009b2J\x1b[2J\x1b]0;pwned\x07\x9b31m\nFAKE\tline"

// colors are the SGR sequences the console level encoder writes itself.
var colors = regexp.MustCompile("\x1b\\[[0-9;]*m")

func buildTest(t *testing.T, production bool) (*zap.Logger, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	log, err := loggerOptions{production: &production}.buildTo(zapcore.AddSync(&out))
	if err != nil {
		t.Fatal(err)
	}
	return log, &out
}

func TestConsoleLogEscapesControlCharactersFromClients(t *testing.T) {
	log, out := buildTest(t, false)
	log.Named("ws").Info("refused "+hostile, zap.String("path", hostile), zap.Strings("origins", []string{hostile}))
	line := colors.ReplaceAllString(out.String(), "")
	for i, r := range strings.TrimSuffix(line, "\n") {
		if r < 0x20 && r != '\t' || r >= 0x7f && r <= 0x9f {
			t.Fatalf("control character %U at %d reached the console:\n%q", r, i, line)
		}
	}
	if strings.Count(line, "\n") != 1 {
		t.Errorf("one entry became %d lines:\n%s", strings.Count(line, "\n"), line)
	}
	for _, want := range []string{`refused /ws\u009b2J\u001b[2J\u001b]0;pwned\u0007\x9b31m\u000aFAKE\u0009line`, `\u009b2J`, `\u001b[2J`} {
		if !strings.Contains(line, want) {
			t.Errorf("console line lacks %s:\n%s", want, line)
		}
	}
}

func TestProductionLogIsJSONWithISO8601TimeAndEscapedControlCharacters(t *testing.T) {
	log, out := buildTest(t, true)
	log.Info("refused "+hostile, zap.String("path", hostile), zap.Strings("origins", []string{hostile}))
	line := out.Bytes()
	for i, b := range line[:len(line)-1] {
		if b < 0x20 || b == 0xc2 && line[i+1] >= 0x80 && line[i+1] <= 0x9f {
			t.Fatalf("control character at byte %d of the JSON line:\n%q", i, line)
		}
	}
	var entry struct {
		TS      string   `json:"ts"`
		Msg     string   `json:"msg"`
		Path    string   `json:"path"`
		Origins []string `json:"origins"`
	}
	if err := json.Unmarshal(line, &entry); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, line)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z0700", entry.TS); err != nil {
		t.Errorf("ts %q is not ISO 8601: %v", entry.TS, err)
	}
	// Escapes in JSON read back as the text the client sent, except for
	// the invalid byte, which JSON cannot carry.
	want := strings.ToValidUTF8(hostile, "\ufffd")
	if entry.Path != want || entry.Msg != "refused "+want || len(entry.Origins) != 1 || entry.Origins[0] != want {
		t.Errorf("decoded entry %+v, want the client's text %q", entry, want)
	}
}

func TestCleanLinesAreLeftAlone(t *testing.T) {
	for _, production := range []bool{false, true} {
		log, out := buildTest(t, production)
		log.Info("HTTP server listening", zap.String("addr", "127.0.0.1:3000"), zap.String("name", "café\u00a0ünïcode"))
		if !strings.Contains(out.String(), "café\u00a0ünïcode") || !strings.Contains(out.String(), "HTTP server listening") {
			t.Errorf("production=%v: clean text changed:\n%s", production, out)
		}
	}
}
