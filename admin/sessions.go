package admin

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// SessionView is an SSO session as admins see it.
type SessionView struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	Username   string    `json:"username,omitempty"`
	AMR        []string  `json:"amr"`
	ACR        string    `json:"acr"`
	Clients    []string  `json:"clients"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func sessionView(s *storage.Session, username string) SessionView {
	return SessionView{ID: s.ID, UserID: s.UserID, Username: username, AMR: nonNil(s.AMR), ACR: s.ACR,
		Clients: nonNil(s.Clients), IP: s.IP, UserAgent: s.UserAgent, CreatedAt: s.CreatedAt,
		LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt}
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// Sessions lists live sessions, newest first: one user's (by username or
// id) or, with an empty ref, everyone's (at most 1000). Sessions void under
// a user's or the global not-before mark are left out.
func (a *Admin) Sessions(ctx context.Context, userRef string) ([]SessionView, error) {
	userID := ""
	if userRef != "" {
		u, err := a.FindUser(ctx, "user", userRef)
		if err != nil {
			return nil, err
		}
		userID = u.ID
	}
	list, err := a.store.Sessions(ctx, userID, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	global, err := a.store.GlobalNotBefore(ctx)
	if err != nil {
		return nil, err
	}
	users := map[string]*storage.User{}
	out := []SessionView{}
	for i := range list {
		s := &list[i]
		u, ok := users[s.UserID]
		if !ok {
			if u, err = a.store.User(ctx, s.UserID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return nil, err
			}
			users[s.UserID] = u
		}
		if u == nil || s.CreatedAt.Before(global) || (u.SessionsNotBefore != nil && s.CreatedAt.Before(*u.SessionsNotBefore)) {
			continue
		}
		out = append(out, sessionView(s, u.Username))
	}
	return out, nil
}

// RevokeSession ends one session and the tokens issued under it.
func (a *Admin) RevokeSession(ctx context.Context, actor Actor, id string) error {
	s, err := a.store.Session(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return notFound("id", "no session %q", id)
	} else if err != nil {
		return err
	}
	if err := a.store.RevokeSession(ctx, id, a.cfg.Now()); err != nil {
		return err
	}
	a.audit(ctx, actor, "session_revoked", s.UserID, "", "")
	return nil
}

// RevokeUser ends every session of a user at once, on every replica: the
// user's not-before mark voids the SSO cookie, refresh tokens and access
// tokens issued before now.
func (a *Admin) RevokeUser(ctx context.Context, actor Actor, userRef string) (*storage.User, error) {
	u, err := a.FindUser(ctx, "user", userRef)
	if err != nil {
		return nil, err
	}
	if err := a.store.RevokeUser(ctx, u.ID, a.cfg.Now()); err != nil {
		return nil, err
	}
	a.audit(ctx, actor, "sessions_revoked", u.ID, "", "")
	return u, nil
}

// RevokeAll ends everyone's sessions and user tokens at once: one global
// mark, checked on every use, rather than a scan of the sessions.
func (a *Admin) RevokeAll(ctx context.Context, actor Actor) error {
	if err := a.store.RevokeAll(ctx, a.cfg.Now()); err != nil {
		return err
	}
	a.audit(ctx, actor, "sessions_revoked_all", "", "", "")
	return nil
}

// AuditQuery selects a page of audit events.
type AuditQuery struct {
	User, Client, Type string
	Since              time.Time
	Limit              int
	Cursor             string // from the previous page's NextCursor
}

// AuditEvent is one audit event as the API shows it.
type AuditEvent struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Type      string    `json:"type"`
	Actor     string    `json:"actor"`
	UserID    string    `json:"user_id"`
	ClientID  string    `json:"client_id"`
	IP        string    `json:"ip"`
	Outcome   string    `json:"outcome"`
	Detail    string    `json:"detail"`
}

// AuditPage is one page of events, newest first.
type AuditPage struct {
	Events     []AuditEvent `json:"events"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// Audit returns a page of audit events. A user filter may be a username
// or an id; a user that no longer exists is matched by id.
func (a *Admin) Audit(ctx context.Context, q AuditQuery) (AuditPage, error) {
	var before int64
	if q.Cursor != "" {
		n, err := strconv.ParseInt(q.Cursor, 10, 64)
		if err != nil || n <= 0 {
			return AuditPage{}, invalid("cursor", "not a cursor this API returned")
		}
		before = n
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	if q.Limit < 1 || q.Limit > 500 {
		return AuditPage{}, invalid("limit", "must be 1 to 500 (got %d)", q.Limit)
	}
	userID := q.User
	if q.User != "" {
		if u, err := a.store.UserByUsername(ctx, q.User); err == nil {
			userID = u.ID
		} else if !errors.Is(err, storage.ErrNotFound) {
			return AuditPage{}, err
		}
	}
	events, err := a.store.AuditEvents(ctx, storage.AuditFilter{UserID: userID, ClientID: q.Client, Type: q.Type,
		Since: q.Since, Before: before, Limit: q.Limit + 1})
	if err != nil {
		return AuditPage{}, err
	}
	page := AuditPage{Events: []AuditEvent{}}
	if len(events) > q.Limit {
		events = events[:q.Limit]
		page.NextCursor = strconv.FormatInt(events[q.Limit-1].ID, 10)
	}
	for _, e := range events {
		page.Events = append(page.Events, AuditEvent(e))
	}
	return page, nil
}
