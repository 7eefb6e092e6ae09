package fxforge

import (
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"

	"github.com/fxforge/fxforge/internal/logtext"
)

// escapingEncoder keeps control characters that clients put into logged
// text (paths, patterns, origins, reasons) from reaching the terminal of
// whoever reads the log. zap's JSON encoding already escapes C0 characters
// and invalid UTF-8 in every string it writes, but writes C1 characters
// (U+0080-U+009F, among them U+009B, the one-byte escape introducer) as
// they are, and the console encoder writes the message raw. So the message
// of a console line is escaped in full, and any C1 character left in an
// encoded line becomes \u00XX: in JSON text that is the same string.
type escapingEncoder struct {
	zapcore.Encoder
	console bool
}

func (e *escapingEncoder) Clone() zapcore.Encoder {
	return &escapingEncoder{Encoder: e.Encoder.Clone(), console: e.console}
}

func (e *escapingEncoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	if e.console {
		ent.Message = logtext.Escape(ent.Message)
		ent.LoggerName = logtext.Escape(ent.LoggerName)
	}
	buf, err := e.Encoder.EncodeEntry(ent, fields)
	if err != nil {
		return nil, err
	}
	if !logtext.HasC1(buf.Bytes()) {
		return buf, nil
	}
	escaped := logtext.AppendC1Escaped(nil, buf.Bytes())
	buf.Reset()
	buf.AppendBytes(escaped)
	return buf, nil
}
