package fxforge

import (
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LoggerOption configures Logger.
type LoggerOption func(*loggerOptions)

type loggerOptions struct {
	level      *string
	production *bool
}

// LogLevel sets the level ("debug", "info", "warn", "error"); it wins over
// the LOG_LEVEL environment variable. The default is info.
func LogLevel(level string) LoggerOption { return func(c *loggerOptions) { c.level = &level } }

// Production selects the JSON encoder (true) or the colored development
// console encoder (false); it wins over APP_ENV=production.
func Production(on bool) LoggerOption { return func(c *loggerOptions) { c.production = &on } }

// Logger provides a *zap.Logger to the graph and routes fx's own events to
// it through fxevent.ZapLogger. Without options, LOG_LEVEL sets the level
// and APP_ENV=production selects JSON output; both are read when the app is
// built, not when Logger is called.
func Logger(opts ...LoggerOption) fx.Option {
	var cfg loggerOptions
	for _, o := range opts {
		o(&cfg)
	}
	return fx.Options(
		fx.Provide(func(lc fx.Lifecycle) (*zap.Logger, error) {
			log, err := cfg.build()
			if err != nil {
				return nil, err
			}
			lc.Append(fx.StopHook(func() { _ = log.Sync() }))
			return log, nil
		}),
		fx.WithLogger(func(log *zap.Logger) fxevent.Logger {
			l := &fxevent.ZapLogger{Logger: log.WithOptions(zap.IncreaseLevel(zapcore.InfoLevel))}
			l.UseLogLevel(zapcore.DebugLevel)
			return l
		}),
	)
}

func (c loggerOptions) build() (*zap.Logger, error) { return c.buildTo(zapcore.Lock(os.Stderr)) }

// buildTo builds the logger writing to out: JSON with ISO 8601 timestamps
// in production, sampled as zap's production preset does; the colored
// console otherwise. Either way, control characters that clients put into
// logged text are escaped (see escapingEncoder).
func (c loggerOptions) buildTo(out zapcore.WriteSyncer) (*zap.Logger, error) {
	name, text := "LOG_LEVEL", os.Getenv("LOG_LEVEL")
	if c.level != nil {
		name, text = "fxforge.LogLevel", *c.level
	}
	level := zapcore.InfoLevel
	if text != "" {
		if err := level.UnmarshalText([]byte(strings.ToLower(text))); err != nil {
			return nil, fmt.Errorf("fxforge: %s %q: use debug, info, warn or error", name, text)
		}
	}
	production := os.Getenv("APP_ENV") == "production"
	if c.production != nil {
		production = *c.production
	}
	opts := []zap.Option{zap.ErrorOutput(out), zap.AddCaller()}
	var enc zapcore.Encoder
	if production {
		ec := zap.NewProductionEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(ec)
		opts = append(opts, zap.AddStacktrace(zapcore.ErrorLevel))
	} else {
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeLevel = zapcore.CapitalColorLevelEncoder
		enc = zapcore.NewConsoleEncoder(ec)
		opts = append(opts, zap.Development())
	}
	core := zapcore.NewCore(&escapingEncoder{Encoder: enc, console: !production}, out, zap.NewAtomicLevelAt(level))
	if production {
		core = zapcore.NewSamplerWithOptions(core, time.Second, 100, 100)
	}
	return zap.New(core, opts...), nil
}
