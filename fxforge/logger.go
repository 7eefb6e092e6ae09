package fxforge

import (
	"fmt"
	"os"
	"strings"

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

func (c loggerOptions) build() (*zap.Logger, error) {
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
	var zc zap.Config
	if production {
		zc = zap.NewProductionConfig()
	} else {
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		zc.DisableStacktrace = true
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	log, err := zc.Build()
	if err != nil {
		return nil, fmt.Errorf("fxforge: build logger: %w", err)
	}
	return log, nil
}
