package sender

import (
	"context"
	"errors"
	"log/slog"
)

// Log is the development sender: it writes the code to the log instead of
// delivering it. It is the only place a code may be printed, which is why
// it cannot be built outside development mode.
type Log struct {
	logger *slog.Logger
}

// NewLog returns the development sender, or an error when dev is false so
// that a production configuration can never print codes.
func NewLog(logger *slog.Logger, dev bool) (*Log, error) {
	if !dev {
		return nil, errors.New("sender: the log sender runs only in development mode")
	}
	if logger == nil {
		return nil, errors.New("sender: log sender needs a logger")
	}
	return &Log{logger: logger}, nil
}

// Send logs the code at WARN level, so it stands out and is not filtered
// by a default INFO level, and returns a fixed provider id.
func (l *Log) Send(ctx context.Context, m Message) (string, error) {
	if m.To == "" || m.Code == "" {
		return "", errors.New("sender: log: message needs a recipient and a code")
	}
	l.logger.LogAttrs(ctx, slog.LevelWarn, "one-time code (development only)",
		slog.String("channel", string(m.Channel)),
		slog.String("to", m.To),
		slog.String("code", m.Code),
		slog.String("purpose", m.Purpose))
	return "log", nil
}
