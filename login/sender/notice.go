package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	gomail "github.com/wneessen/go-mail"
	"golang.org/x/text/language"
)

// Notice is an account notice to a user's verified address: a method was
// added or removed, a recovery code used. It never carries a secret.
type Notice struct {
	To      string
	Subject string
	Body    string // one plain paragraph
	AppName string
	Issuer  string
	Lang    language.Tag // the language of the subject and body, which the footer follows
}

// Notifier delivers account notices. The SMTP sender and, in development,
// the log sender implement it.
type Notifier interface {
	Notify(ctx context.Context, n Notice) (providerID string, err error)
}

type noticeData struct {
	Subject, Body, AppName, Host string
}

// Notify emails a notice with an HTML and a plain-text part.
func (s *SMTPEmail) Notify(ctx context.Context, n Notice) (string, error) {
	if n.To == "" || n.Subject == "" {
		return "", errors.New("smtp: notice needs a recipient and a subject")
	}
	host, err := issuerHost(n.Issuer)
	if err != nil {
		return "", fmt.Errorf("smtp: %w", err)
	}
	app := Message{AppName: n.AppName}.appName()
	d := noticeData{Subject: n.Subject, Body: n.Body, AppName: app, Host: host}
	var html, text bytes.Buffer
	if err := s.html.Execute(&html, n.Lang, "notice.html", d); err != nil {
		return "", fmt.Errorf("smtp: render notice: %w", err)
	}
	if err := s.text.Execute(&text, n.Lang, "notice.txt", d); err != nil {
		return "", fmt.Errorf("smtp: render notice: %w", err)
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return "", fmt.Errorf("smtp: from: %w", err)
	}
	if err := msg.To(n.To); err != nil {
		return "", fmt.Errorf("smtp: to: %w", err)
	}
	msg.Subject(n.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(randomID() + "@" + s.domain)
	msg.SetBodyString(gomail.TypeTextPlain, text.String())
	msg.AddAlternativeString(gomail.TypeTextHTML, html.String())
	if err := s.deliver(ctx, msg); err != nil {
		return "", fmt.Errorf("smtp: send notice: %w", err)
	}
	return msg.GetMessageID(), nil
}

// Notify logs a notice's subject (development only).
func (l *Log) Notify(ctx context.Context, n Notice) (string, error) {
	l.logger.LogAttrs(ctx, slog.LevelInfo, "account notice (development only)",
		slog.String("to", n.To), slog.String("subject", n.Subject))
	return "log", nil
}
