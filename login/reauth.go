package login

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/storage"
)

// PasswordRefused is Reauthenticate's answer when it is not yes: the
// status and the sentence for the form. Retry-After is already set where
// a wait applies.
type PasswordRefused struct {
	Status  int
	Message i18n.Message
	// Wrong: the password was checked and is wrong; it counted as a failed
	// sign-in.
	Wrong bool
	// Busy: every password-hashing slot was taken; nothing was checked,
	// and the message is about the form, not the password.
	Busy bool
}

func (e *PasswordRefused) Error() string { return e.Message.ID }

// Reauthenticate checks the current password of a signed-in user, which a
// change to the account asks again: a session left open is not enough.
// Nor may it become a password-guessing oracle: the IP limit and the
// account's backoff or lock apply first, and a wrong password counts and
// backs off like the sign-in's. The user is signed in, so the answer may
// say why. A refusal is a *PasswordRefused; any other error is ours.
func (s *Service) Reauthenticate(w http.ResponseWriter, r *http.Request, u *storage.User, password string) error {
	if held, err := s.reauthHeld(w, r, u.ID); err != nil || held != nil {
		if err != nil {
			return err
		}
		return held
	}
	ok, err := s.cfg.Passwords.Verify(r.Context(), u.PasswordHash, password)
	if errors.Is(err, ErrBusy) {
		w.Header().Set("Retry-After", "2")
		return &PasswordRefused{Status: http.StatusTooManyRequests, Busy: true,
			Message: i18n.M("reauth.busy")}
	} else if err != nil {
		return err
	}
	if !ok {
		if err := s.failure(r, "password", u.ID, ""); err != nil {
			return err
		}
		return &PasswordRefused{Status: http.StatusUnauthorized, Wrong: true, Message: i18n.M("reauth.wrong")}
	}
	return nil
}

// reauthHeld answers a password that must not be tried now: the IP's
// limit, the account's backoff (claiming its slot, as the sign-in does)
// or its lock.
func (s *Service) reauthHeld(w http.ResponseWriter, r *http.Request, userID string) (*PasswordRefused, error) {
	wait, err := s.ipBlocked(r)
	if err != nil {
		return nil, err
	}
	if wait == 0 {
		var held bool
		wait, held, err = s.accountHeld(r, userID)
		switch {
		case err != nil || !held:
			return nil, err
		case wait == 0: // locked
			return &PasswordRefused{Status: http.StatusTooManyRequests,
				Message: i18n.M("reauth.locked")}, nil
		}
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
	return &PasswordRefused{Status: http.StatusTooManyRequests,
		Message: i18n.M("reauth.wait", "Wait", humanWait(wait))}, nil
}
