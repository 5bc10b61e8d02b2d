package login

import (
	"net/http"

	"golang.org/x/text/language"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/login/sender"
	"github.com/twofold-id/twofold/storage"
)

// Notify tells a user, at their verified email address, about a change to
// how they sign in, in the user's language (MessageLang). A notice that
// cannot be sent is logged, never fatal: the change itself is already
// made and audited.
func (s *Service) Notify(r *http.Request, u *storage.User, subject, body i18n.Message) {
	if u.Email == "" || !u.EmailVerified {
		return
	}
	n, ok := s.cfg.Senders[sender.Email].(sender.Notifier)
	if !ok {
		return
	}
	lang := s.MessageLang(r, u)
	b := s.pages.Bundle()
	id, err := n.Notify(r.Context(), sender.Notice{To: u.Email, Subject: b.Localize(lang, subject), Body: b.Localize(lang, body),
		AppName: s.cfg.AppName, Issuer: s.cfg.Issuer, Lang: lang})
	if err != nil {
		s.cfg.Logger.WarnContext(r.Context(), "account notice not sent", "user", u.ID, "err", err)
		return
	}
	s.auditDetail(r, "notice_sent", u.ID, "", "ok", "provider_id="+id)
}

// MessageLang is the language of what is sent to u (codes, notices): the
// user's own locale when the catalogues have it, else the language of the
// page that causes the message.
func (s *Service) MessageLang(r *http.Request, u *storage.User) language.Tag {
	if u != nil && u.Locale != "" {
		if tag, ok := s.pages.Bundle().Supported(u.Locale); ok {
			return tag
		}
	}
	return s.Lang(r)
}
