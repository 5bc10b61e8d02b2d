package account

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/twofold-id/twofold/storage"
)

type sessionRow struct {
	ID, Created, LastSeen, IP, UserAgent, Clients string
	Current                                       bool
}

func (a *Account) sessionRows(ctx context.Context, u *storage.User, current *storage.Session, layout string) ([]sessionRow, error) {
	sessions, err := a.cfg.Store.Sessions(ctx, u.ID, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	rows := make([]sessionRow, 0, len(sessions))
	for _, x := range sessions {
		var clients []string
		for _, id := range x.Clients {
			if _, ok := names[id]; !ok {
				names[id] = id
				if c, err := a.cfg.Store.Client(ctx, id); err == nil && c.Name != "" {
					names[id] = c.Name
				}
			}
			clients = append(clients, names[id])
		}
		rows = append(rows, sessionRow{ID: x.ID, Created: x.CreatedAt.UTC().Format(layout), LastSeen: x.LastSeenAt.UTC().Format(layout), IP: x.IP,
			UserAgent: x.UserAgent, Clients: strings.Join(clients, ", "), Current: x.ID == current.ID})
	}
	return rows, nil
}

// endSession ends one of the user's sessions; ending this one is signing
// out.
func (a *Account) endSession(w http.ResponseWriter, r *http.Request) error {
	st, err := a.user(w, r)
	if err != nil {
		return err
	}
	id := r.PostFormValue("session")
	if id == st.Session.ID {
		return a.logout(w, r)
	}
	if err := a.cfg.Store.EndUserSession(r.Context(), st.User.ID, id, a.cfg.Now()); errors.Is(err, storage.ErrNotFound) {
		return a.render(w, r, st, http.StatusBadRequest, page{Error: a.say(r, "account.sessions.already_ended")})
	} else if err != nil {
		return err
	}
	a.audit(r, "session_ended", st.User, "ok", "by=user")
	http.Redirect(w, r, "/account?done=ended", http.StatusSeeOther)
	return nil
}

// logout ends this browser's session and its tokens (telling the clients
// that registered for back-channel logout), and clears the cookie.
func (a *Account) logout(w http.ResponseWriter, r *http.Request) error {
	st, err := a.user(w, r)
	if err != nil {
		return err
	}
	if err := a.cfg.Store.EndUserSession(r.Context(), st.User.ID, st.Session.ID, a.cfg.Now()); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	a.cfg.Login.ClearSession(w)
	a.audit(r, "logout", st.User, "ok", "by=account_page")
	http.Redirect(w, r, "/logged-out", http.StatusSeeOther)
	return nil
}
