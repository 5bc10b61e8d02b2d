package login

import (
	"net/http"

	"github.com/twofold-id/twofold/login/sender"
	"github.com/twofold-id/twofold/storage"
)

// Notify tells a user, at their verified email address, about a change to
// how they sign in. A notice that cannot be sent is logged, never fatal:
// the change itself is already made and audited.
func (s *Service) Notify(r *http.Request, u *storage.User, subject, body string) {
	if u.Email == "" || !u.EmailVerified {
		return
	}
	n, ok := s.cfg.Senders[sender.Email].(sender.Notifier)
	if !ok {
		return
	}
	id, err := n.Notify(r.Context(), sender.Notice{To: u.Email, Subject: subject, Body: body, AppName: s.cfg.AppName, Issuer: s.cfg.Issuer})
	if err != nil {
		s.cfg.Logger.WarnContext(r.Context(), "account notice not sent", "user", u.ID, "err", err)
		return
	}
	s.auditDetail(r, "notice_sent", u.ID, "", "ok", "provider_id="+id)
}
