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
type LoggerOption func(*loggerConfig)

type loggerConfig struct {
	level      string
	production *bool
}

// LogLevel sets the level ("debug", "info", "warn", "error"); it wins over
// the LOG_LEVEL environment variable. The default is info.
func LogLevel(level string) LoggerOption { return func(c *loggerConfig) { c.level = level } }

// Production selects the JSON encoder (true) or the colored development
// console encoder (false); it wins over APP_ENV=production.
func Production(on bool) LoggerOption { return func(c *loggerConfig) { c.production = &on } }

// Logger provides a *zap.Logger to the graph and routes fx's own events to
// it through fxevent.ZapLogger. Without options, LOG_LEVEL sets the level
// and APP_ENV=production selects JSON output.
func Logger(opts ...LoggerOption) fx.Option {
	cfg := loggerConfig{level: os.Getenv("LOG_LEVEL")}
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

func (c loggerConfig) build() (*zap.Logger, error) {
	level := zapcore.InfoLevel
	if c.level != "" {
		if err := level.UnmarshalText([]byte(strings.ToLower(c.level))); err != nil {
			return nil, fmt.Errorf("fxforge: log level %q: use debug, info, warn or error", c.level)
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
