package login

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

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
	s.render(w, r, http.StatusOK, "recovery_codes.html", map[string]any{"Title": "Save your recovery codes", "Codes": codes,
		"Download": recoveryDownload(s.cfg.Issuer, u.Username, codes), "Continue": next})
	return len(codes), nil
}

// recoveryFile is the text users download with their codes.
func recoveryFile(issuer, username string, codes []string) string {
	return fmt.Sprintf("twofold recovery codes for %s at %s\nEach code works once. Keep them somewhere safe.\n\n%s\n",
		username, issuer, strings.Join(codes, "\n"))
}

// recoveryDownload is a data: link to the codes as a text file; the
// content is ours, so it is marked safe for the template.
func recoveryDownload(issuer, username string, codes []string) template.URL {
	return template.URL("data:text/plain;charset=utf-8," + url.PathEscape(recoveryFile(issuer, username, codes)))
}

// showRecovery renders the sign-in form for a recovery code.
func (s *Service) showRecovery(w http.ResponseWriter, r *http.Request) error {
	a, _, err := s.pendingRequest(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "recovery.html", map[string]any{"Title": "Use a recovery code", "AuthRequestID": a.ID})
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
		s.render(w, r, status, "recovery.html", map[string]any{"Title": "Use a recovery code", "AuthRequestID": a.ID, "Error": msg})
		return nil
	}
	code, ok := otp.NormalizeRecoveryCode(r.PostFormValue("code"))
	if !ok {
		return page(http.StatusBadRequest, "Enter one of your recovery codes, like abcde-fghjk.")
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
		return page(http.StatusUnauthorized, "Too many wrong codes for this sign-in. Start again from the application.")
	} else if err != nil {
		return err
	}
	err = s.cfg.Store.UseRecoveryCode(r.Context(), u.ID, s.cfg.Codes.Hash(u.ID, code), now)
	if errors.Is(err, storage.ErrNotFound) {
		s.audit(r, "recovery_code_failed", u.ID, a.ClientID, "rejected")
		if err := s.failure(r, string(storage.MethodRecovery), u.ID, a.ClientID); err != nil {
			return err
		}
		return page(http.StatusUnauthorized, "That recovery code is not right, or it was used already.")
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
	s.Notify(r, u, "A recovery code was used to sign in",
		fmt.Sprintf("Someone signed in to your account with one of your recovery codes. %d codes are left.", left))
	callback, err := s.signInTo(w, r, st, []string{"pwd", "mfa"}, ACRTwoFactor, true)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "recovery_used.html", map[string]any{"Title": "Recovery code used", "Left": left, "Continue": callback})
	return nil
}
