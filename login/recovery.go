package login

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/login/otp"
	"github.com/twofold-id/twofold/storage"
)

// RecoveryCodeCount is how many recovery codes a user gets.
const RecoveryCodeCount = 10

// newRecoveryCodes generates a new set for a user, stores only their keyed
// hashes (the old set stops working) and returns them to show once.
func (s *Service) newRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	codes, err := otp.GenerateRecoveryCodes(RecoveryCodeCount)
	if err != nil {
		return nil, err
	}
	hashes := make([]string, len(codes))
	for i, c := range codes {
		norm, _ := otp.NormalizeRecoveryCode(c)
		hashes[i] = s.cfg.Codes.Hash(userID, norm)
	}
	if err := s.cfg.Store.ReplaceRecoveryCodes(ctx, userID, hashes, s.cfg.Now()); err != nil {
		return nil, err
	}
	return codes, nil
}

// ShowNewRecoveryCodes gives u a new set of recovery codes (the old set
// stops working) and shows them once, with a text download and a link on
// to next. It returns how many it made.
func (s *Service) ShowNewRecoveryCodes(w http.ResponseWriter, r *http.Request, u *storage.User, next string) (int, error) {
	codes, err := s.newRecoveryCodes(r.Context(), u.ID)
	if err != nil {
		return 0, err
	}
	s.render(w, r, http.StatusOK, "recovery_codes.html", map[string]any{"Title": "recovery_codes.title", "Codes": codes,
		"Download": recoveryDownload(s.Say(r, i18n.M("recovery_codes.file", "Username", u.Username, "Issuer", s.cfg.Issuer)), codes),
		"Continue": next, "NoLanguageSwitch": true}) // shown once: a switch would lose them
	return len(codes), nil
}

// recoveryFile is the text users download with their codes, under a
// heading in the page's language.
func recoveryFile(heading string, codes []string) string {
	return heading + "\n\n" + strings.Join(codes, "\n") + "\n"
}

// recoveryDownload is a data: link to the codes as a text file; the
// content is ours, so it is marked safe for the template.
func recoveryDownload(heading string, codes []string) template.URL {
	return template.URL("data:text/plain;charset=utf-8," + url.PathEscape(recoveryFile(heading, codes)))
}

// showRecovery renders the sign-in form for a recovery code.
func (s *Service) showRecovery(w http.ResponseWriter, r *http.Request) error {
	a, _, err := s.pendingRequest(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "recovery.html", map[string]any{"Title": "recovery.title", "AuthRequestID": a.ID})
	return nil
}

// postRecovery signs in with a recovery code. Guesses count against the
// sign-in's current challenge, like wrong codes do.
func (s *Service) postRecovery(w http.ResponseWriter, r *http.Request) error {
	st, err := s.pending(r, stepCode)
	if err != nil {
		return err
	}
	a, u := st.req, st.user
	page := func(status int, msg string) error {
		s.render(w, r, status, "recovery.html", map[string]any{"Title": "recovery.title", "AuthRequestID": a.ID, "Error": s.Say(r, i18n.M(msg))})
		return nil
	}
	code, ok := otp.NormalizeRecoveryCode(r.PostFormValue("code"))
	if !ok {
		return page(http.StatusBadRequest, "recovery.format")
	}
	if held, err := s.guardFactor(w, r, st); held || err != nil {
		return err
	}
	now := st.now
	ch, err := s.cfg.Store.SpendLatestAttempt(r.Context(), a.ID, now)
	if errors.Is(err, storage.ErrAlreadyUsed) {
		if err := s.release(r, u.ID); err != nil { // nothing was compared
			return err
		}
		if _, err := s.latestChallenge(r, st); err != nil {
			return err
		}
		return page(http.StatusUnauthorized, "recovery.too_many")
	} else if err != nil {
		return err
	}
	err = s.cfg.Store.UseRecoveryCode(r.Context(), u.ID, s.cfg.Codes.Hash(u.ID, code), now)
	if errors.Is(err, storage.ErrNotFound) {
		s.audit(r, "recovery_code_failed", u.ID, a.ClientID, "rejected")
		if err := s.failure(r, string(storage.MethodRecovery), u.ID, a.ClientID); err != nil {
			return err
		}
		return page(http.StatusUnauthorized, "recovery.wrong")
	} else if err != nil {
		return err
	}
	if err := s.cfg.Store.UseChallenge(r.Context(), ch.ID, now); err != nil && !errors.Is(err, storage.ErrAlreadyUsed) {
		return err
	}
	left, err := s.cfg.Store.RecoveryCodesLeft(r.Context(), u.ID)
	if err != nil {
		return err
	}
	s.auditDetail(r, "recovery_code_used", u.ID, a.ClientID, "accepted", fmt.Sprintf("left=%d", left))
	s.Notify(r, u, i18n.M("notice.recovery_used_subject"), i18n.M("notice.recovery_used", left))
	callback, err := s.signInTo(w, r, st, []string{"pwd", "mfa"}, ACRTwoFactor, true)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "recovery_used.html", map[string]any{"Title": "recovery_used.title", "Left": left, "Continue": callback})
	return nil
}
