package op

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/storage"
)

// Store is what the OIDC glue needs from storage.
type Store interface {
	Ping(ctx context.Context) error
	Client(ctx context.Context, id string) (*storage.Client, error)
	Clients(ctx context.Context) ([]storage.Client, error)
	User(ctx context.Context, id string) (*storage.User, error)
	Session(ctx context.Context, id string) (*storage.Session, error)
	GlobalNotBefore(ctx context.Context) (time.Time, error)
	CreateAuthRequest(ctx context.Context, a *storage.AuthRequest) error
	AuthRequest(ctx context.Context, id string, now time.Time) (*storage.AuthRequest, error)
	SaveAuthCode(ctx context.Context, id, codeHash string, expires time.Time) error
	AuthRequestByCodeHash(ctx context.Context, codeHash string) (*storage.AuthRequest, error)
	RedeemAuthCode(ctx context.Context, id string, now time.Time) error
	RevokeFamily(ctx context.Context, familyID string, now time.Time) error
	CreateAccessToken(ctx context.Context, t *storage.AccessToken) error
	ActiveAccessToken(ctx context.Context, id string, now time.Time) (*storage.AccessToken, error)
	RevokeAccessToken(ctx context.Context, id, clientID string, now time.Time) error
	CreateRefreshToken(ctx context.Context, t *storage.RefreshToken) error
	RefreshTokenByHash(ctx context.Context, hash string) (*storage.RefreshToken, error)
	RefreshTokenByID(ctx context.Context, id string) (*storage.RefreshToken, error)
	RotateRefreshToken(ctx context.Context, oldID string, next *storage.RefreshToken, now time.Time) error
	RevokeSession(ctx context.Context, id string, now time.Time) error
	ActiveSession(ctx context.Context, id string, now time.Time) (*storage.Session, error)
	LiveSessionBySID(ctx context.Context, userID, sid string, now time.Time) (*storage.Session, error)
	Audit(ctx context.Context, e *storage.AuditEvent) error
}

// Lifetimes are the token lifetimes the provider issues.
type Lifetimes struct {
	AccessToken, IDToken, RefreshToken, AuthCode, Login time.Duration
}

// oidcStorage implements zitadel/oidc's op.Storage on our records. Every
// failure a client can cause is an *oidc.Error; internal failures are
// server_error with a fixed description and the cause as parent (logged,
// never sent).
type oidcStorage struct {
	store   Store
	keys    *Keys
	secrets keyring.Hasher // client secrets
	tokens  keyring.Hasher // refresh tokens and codes
	// successors derives a rotated refresh token from the one presented.
	successors keyring.Hasher
	life       Lifetimes
	grace      ReuseGrace
	loginURL   string
	now        func() time.Time
	log        *slog.Logger
}

// serverError is an internal failure: a fixed description, the cause kept
// as parent for the log. Storage failures go through storeError.
func serverError(err error) *oidc.Error {
	return oidc.ErrServerError().WithDescription("internal error").WithParent(err)
}

var codeChallengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func (s *oidcStorage) audit(ctx context.Context, typ, clientID, userID, outcome string) {
	err := s.store.Audit(ctx, &storage.AuditEvent{CreatedAt: s.now(), Type: typ, ClientID: clientID, UserID: userID, Outcome: outcome})
	if err != nil {
		s.log.ErrorContext(ctx, "audit write failed", "type", typ, "err", err)
	}
}

// CreateAuthRequest refuses what zitadel/oidc lets through: PKCE plain or
// unknown methods, and public clients without PKCE. hintSubject is the
// subject of the request's id_token_hint, whose signature zitadel/oidc has
// checked (an expired hint still names the user the client expects).
func (s *oidcStorage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hintSubject string) (zop.AuthRequest, error) {
	rec, err := s.store.Client(ctx, req.ClientID)
	if isNotFound(err) {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	} else if err != nil {
		return nil, storeError(ctx, err)
	}
	switch {
	case req.CodeChallenge == "" && rec.AuthMethod == string(oidc.AuthMethodNone):
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE (code_challenge with S256) is required for public clients")
	case req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case req.CodeChallenge != "" && !codeChallengeRE.MatchString(req.CodeChallenge):
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge must be a base64url SHA-256 digest (43 characters)")
	case len(req.State) > 2048 || len(req.Nonce) > 2048 || len(req.LoginHint) > 512:
		return nil, oidc.ErrInvalidRequest().WithDescription("state, nonce or login_hint too long")
	case req.ResponseMode != "" && !slices.Contains(supportedResponseModes, string(req.ResponseMode)):
		// zitadel/oidc answers an unknown mode (JARM's query.jwt, …) as
		// query, so a relying party would take a plain answer for a signed one.
		return nil, oidc.ErrInvalidRequest().WithDescription("response_mode must be query, fragment or form_post")
	}
	now := s.now()
	a := &storage.AuthRequest{
		ID:                  keyring.RandomToken(32),
		ClientID:            req.ClientID,
		RedirectURI:         req.RedirectURI,
		State:               req.State,
		Nonce:               req.Nonce,
		Scopes:              storage.StringList(req.Scopes),
		ResponseType:        string(req.ResponseType),
		ResponseMode:        string(req.ResponseMode),
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod),
		Prompt:              storage.StringList(req.Prompt),
		ACRValues:           storage.StringList(req.ACRValues),
		LoginHint:           req.LoginHint,
		HintSubject:         hintSubject,
		CreatedAt:           now,
		ExpiresAt:           now.Add(s.life.Login),
	}
	for _, l := range req.UILocales {
		a.UILocales = append(a.UILocales, l.String())
	}
	if req.MaxAge != nil {
		m := int64(*req.MaxAge)
		a.MaxAge = &m
	}
	if err := s.store.CreateAuthRequest(ctx, a); err != nil {
		return nil, storeError(ctx, err)
	}
	return &authRequest{a}, nil
}

func (s *oidcStorage) AuthRequestByID(ctx context.Context, id string) (zop.AuthRequest, error) {
	a, err := s.store.AuthRequest(ctx, id, s.now())
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown or expired sign-in request")
	} else if err != nil {
		return nil, storeError(ctx, err)
	}
	return &authRequest{a}, nil
}

// AuthRequestByCode finds the request of a code. It runs before the client
// is authenticated, so it spends nothing but a code presented with a wrong
// code_verifier (see checkVerifier); a code that was already redeemed is a
// replay, and the tokens issued from it are revoked.
func (s *oidcStorage) AuthRequestByCode(ctx context.Context, code string) (zop.AuthRequest, error) {
	a, err := s.store.AuthRequestByCodeHash(ctx, s.tokens.Sum("code", code))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid code")
	} else if err != nil {
		return nil, storeError(ctx, err)
	}
	now := s.now()
	if a.RedeemedAt != nil {
		if err := s.store.RevokeFamily(ctx, a.ID, now); err != nil {
			return nil, storeError(ctx, err)
		}
		s.audit(ctx, "code_replay", a.ClientID, a.UserID, "tokens revoked")
		return nil, oidc.ErrInvalidGrant().WithDescription("code already used")
	}
	if a.CodeExpiresAt == nil || !now.Before(*a.CodeExpiresAt) {
		return nil, oidc.ErrInvalidGrant().WithDescription("code expired")
	}
	if err := s.checkVerifier(ctx, a, now); err != nil {
		return nil, err
	}
	setTokenClient(ctx, a.ClientID)
	return &authRequest{a}, nil
}

func (s *oidcStorage) SaveAuthCode(ctx context.Context, id, code string) error {
	err := s.store.SaveAuthCode(ctx, id, s.tokens.Sum("code", code), s.now().Add(s.life.AuthCode))
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return oidc.ErrInvalidRequest().WithDescription("this sign-in has already been completed")
	} else if err != nil {
		return storeError(ctx, err)
	}
	return nil
}

// DeleteAuthRequest keeps the record: a redeemed request is how a replayed
// code is recognised. The purge job removes it when it expires.
func (s *oidcStorage) DeleteAuthRequest(context.Context, string) error { return nil }

func (s *oidcStorage) CreateAccessToken(ctx context.Context, req zop.TokenRequest) (string, time.Time, error) {
	tok, err := s.newAccessToken(ctx, req)
	if err != nil {
		return "", time.Time{}, err
	}
	return tok.ID, tok.ExpiresAt, nil
}

// redeem spends the code of a code-flow request: exactly one exchange wins;
// a loser is a replay and revokes the family.
func (s *oidcStorage) redeem(ctx context.Context, a *authRequest) error {
	now := s.now()
	err := s.store.RedeemAuthCode(ctx, a.rec.ID, now)
	if errors.Is(err, storage.ErrAlreadyUsed) {
		if err := s.store.RevokeFamily(ctx, a.rec.ID, now); err != nil {
			return storeError(ctx, err)
		}
		s.audit(ctx, "code_replay", a.rec.ClientID, a.rec.UserID, "tokens revoked")
		return oidc.ErrInvalidGrant().WithDescription("code already used or expired")
	}
	if err != nil {
		return storeError(ctx, err)
	}
	return nil
}

func (s *oidcStorage) newAccessToken(ctx context.Context, req zop.TokenRequest) (*storage.AccessToken, error) {
	now := s.now()
	tok := &storage.AccessToken{
		ID: keyring.RandomToken(16), Subject: req.GetSubject(), Scopes: req.GetScopes(),
		Audience: req.GetAudience(), CreatedAt: now, ExpiresAt: now.Add(s.life.AccessToken),
	}
	switch r := req.(type) {
	case *authRequest:
		if err := s.redeem(ctx, r); err != nil {
			return nil, err
		}
		tok.ClientID, tok.UserID, tok.FamilyID, tok.SessionID = r.rec.ClientID, r.rec.UserID, r.rec.ID, r.rec.SessionID
	case *refreshRequest:
		tok.ClientID, tok.UserID, tok.FamilyID, tok.SessionID = r.rec.ClientID, r.rec.UserID, r.rec.FamilyID, r.rec.SessionID
	case *clientCredentialsRequest:
		tok.ClientID, tok.FamilyID = r.clientID, tok.ID
	default:
		return nil, oidc.ErrUnsupportedGrantType()
	}
	if err := s.store.CreateAccessToken(ctx, tok); err != nil {
		return nil, storeError(ctx, err)
	}
	return tok, nil
}

func (s *oidcStorage) CreateAccessAndRefreshTokens(ctx context.Context, req zop.TokenRequest, current string) (string, string, time.Time, error) {
	now := s.now()
	raw := "rt_" + keyring.RandomToken(32)
	next := &storage.RefreshToken{ID: keyring.RandomToken(16), TokenHash: s.tokens.Sum("refresh", raw), CreatedAt: now}
	switch r := req.(type) {
	case *refreshRequest:
		var err error
		if raw, err = s.rotate(ctx, r, current); err != nil {
			return "", "", time.Time{}, err
		}
	case *authRequest:
		a := r.rec
		next.FamilyID, next.ClientID, next.UserID, next.Audience = a.ID, a.ClientID, a.UserID, []string{a.ClientID}
		next.Scopes, next.AMR, next.ACR, next.AuthTime = a.Scopes, a.AMR, a.ACR, r.GetAuthTime()
		next.SessionID, next.ExpiresAt = a.SessionID, now.Add(s.life.RefreshToken)
	default:
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	tok, err := s.newAccessToken(ctx, req) // redeems the code of an authRequest first
	if err != nil {
		return "", "", time.Time{}, err
	}
	if _, ok := req.(*authRequest); ok {
		if err := s.store.CreateRefreshToken(ctx, next); err != nil {
			return "", "", time.Time{}, storeError(ctx, err)
		}
	}
	return tok.ID, raw, tok.ExpiresAt, nil
}

// reuse answers a refresh token presented after it was rotated: the family
// is revoked, since either the client or an attacker holds a stolen copy.
func (s *oidcStorage) reuse(ctx context.Context, old *storage.RefreshToken) error {
	if err := s.store.RevokeFamily(ctx, old.FamilyID, s.now()); err != nil {
		return storeError(ctx, err)
	}
	s.audit(ctx, "refresh_token_reuse", old.ClientID, old.UserID, "family revoked")
	return oidc.ErrInvalidGrant().WithDescription("refresh token already used; all tokens of this grant are revoked")
}

func (s *oidcStorage) TokenRequestByRefreshToken(ctx context.Context, raw string) (zop.RefreshTokenRequest, error) {
	t, err := s.store.RefreshTokenByHash(ctx, s.tokens.Sum("refresh", raw))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	} else if err != nil {
		return nil, storeError(ctx, err)
	}
	var replay *storage.RefreshToken // the successor already issued, within the reuse grace
	switch {
	case t.RevokedAt != nil:
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token revoked")
	case t.UsedAt != nil:
		if replay, err = s.graceSuccessor(ctx, t); err != nil {
			return nil, storeError(ctx, err)
		} else if replay == nil {
			return nil, s.reuse(ctx, t)
		}
	case !s.now().Before(t.ExpiresAt):
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token expired")
	}
	void, err := s.voidByMarks(ctx, t.UserID, t.AuthTime)
	if err != nil {
		return nil, storeError(ctx, err)
	} else if void {
		return nil, oidc.ErrInvalidGrant().WithDescription("the sign-in behind this refresh token has ended")
	}
	setTokenClient(ctx, t.ClientID)
	if replay != nil {
		return &refreshRequest{rec: t, scopes: replay.Scopes, replay: replay}, nil
	}
	return &refreshRequest{rec: t, scopes: t.Scopes}, nil
}

// TerminateSession is unused: end_session is served by logout.go, not by
// zitadel/oidc.
func (s *oidcStorage) TerminateSession(context.Context, string, string) error { return nil }

// RevokeToken revokes a token of the calling client. A token issued to
// another client is refused with unauthorized_client (RFC 7009 §2.1); an
// unknown, expired or revoked access token is not an error.
//
// zitadel/oidc hands over either a record id it decoded or the raw token,
// and may "decode" a refresh token it failed to find into random bytes (its
// decryption of an opaque access token does not authenticate): so the raw
// token the client sent is looked up as a refresh token first, whatever
// the library made of it.
func (s *oidcStorage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	now := s.now()
	raw := revokedTokenOf(ctx)
	if raw == "" && userID == "" {
		raw = tokenOrID
	}
	if raw != "" {
		rt, err := s.store.RefreshTokenByHash(ctx, s.tokens.Sum("refresh", raw))
		if err == nil {
			return s.revokeFamilyOf(ctx, rt, clientID, now)
		} else if !errors.Is(err, storage.ErrNotFound) {
			return storeError(ctx, err)
		}
	}
	if userID == "" { // not decoded, and no refresh token: nothing to revoke
		return nil
	}
	// Decoded to a record id: a refresh token's (of this client) or an access token's.
	if rt, err := s.store.RefreshTokenByID(ctx, tokenOrID); err == nil {
		return s.revokeFamilyOf(ctx, rt, clientID, now)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return storeError(ctx, err)
	}
	at, err := s.store.ActiveAccessToken(ctx, tokenOrID, now)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return storeError(ctx, err)
	}
	if at.ClientID != clientID {
		s.audit(ctx, "revocation_refused", clientID, at.UserID, "token of another client")
		return oidc.ErrUnauthorizedClient().WithDescription("the token was not issued to this client")
	}
	if err := s.store.RevokeAccessToken(ctx, tokenOrID, clientID, now); err != nil {
		return storeError(ctx, err)
	}
	return nil
}

// revokeFamilyOf revokes the grant of a refresh token of the calling client.
func (s *oidcStorage) revokeFamilyOf(ctx context.Context, rt *storage.RefreshToken, clientID string, now time.Time) *oidc.Error {
	if rt.ClientID != clientID {
		s.audit(ctx, "revocation_refused", clientID, rt.UserID, "token of another client")
		return oidc.ErrUnauthorizedClient().WithDescription("the token was not issued to this client")
	}
	if err := s.store.RevokeFamily(ctx, rt.FamilyID, now); err != nil {
		return storeError(ctx, err)
	}
	return nil
}

func (s *oidcStorage) GetRefreshTokenInfo(ctx context.Context, clientID, raw string) (string, string, error) {
	t, err := s.store.RefreshTokenByHash(ctx, s.tokens.Sum("refresh", raw))
	if err != nil && !isNotFound(err) {
		return "", "", storeError(ctx, err)
	}
	if err != nil || t.ClientID != clientID {
		return "", "", zop.ErrInvalidRefreshToken
	}
	return t.UserID, t.ID, nil
}

// SigningKey returns the key of the algorithm the client of this token
// request asked for (id_token_signed_response_alg), or of keys.algorithm.
func (s *oidcStorage) SigningKey(ctx context.Context) (zop.SigningKey, error) {
	alg := ""
	if id := tokenClientOf(ctx); id != "" {
		c, err := s.store.Client(ctx, id)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, storeError(ctx, err)
		}
		if err == nil {
			alg = c.IDTokenSignedResponseAlg
		}
	}
	k, err := s.keys.SigningKeyFor(ctx, alg)
	if err != nil {
		return nil, storeError(ctx, err)
	}
	return k, nil
}

func (s *oidcStorage) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	algs, err := s.keys.Algorithms(ctx)
	if err != nil {
		return nil, storeError(ctx, err)
	}
	return algs, nil
}

func (s *oidcStorage) KeySet(ctx context.Context) ([]zop.Key, error) {
	keys, err := s.keys.KeySet(ctx)
	if err != nil {
		return nil, storeError(ctx, err)
	}
	return keys, nil
}

func (s *oidcStorage) GetClientByClientID(ctx context.Context, id string) (zop.Client, error) {
	rec, err := s.store.Client(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errors.New("unknown client")
	} else if err != nil {
		return nil, storeError(ctx, err)
	}
	setCaller(ctx, id) // at the token endpoint: the client being authenticated
	return &client{rec: rec, loginURL: s.loginURL, idTokenTTL: s.life.IDToken, asserted: asserted(ctx, id)}, nil
}

// AuthorizeClientIDSecret compares keyed hashes in constant time. Client
// secrets carry 256 bits of entropy, so a fast keyed hash is as safe as a
// password hash and keeps the token endpoint fast.
func (s *oidcStorage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	if asserted(ctx, id) {
		return nil // proven by its private_key_jwt assertion (see assertion.go)
	}
	rec, err := s.store.Client(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		s.secrets.Equal("", secret) // same work as a known client
		return errors.New("invalid client credentials")
	} else if err != nil {
		return storeError(ctx, err)
	}
	if rec.SecretHash == "" || !s.secrets.Equal(rec.SecretHash, secret) {
		s.audit(ctx, "client_auth_failed", id, "", "wrong secret")
		return errors.New("invalid client credentials")
	}
	return nil
}

// ClientCredentials authenticates a client for the client_credentials
// grant. It does not refuse a client that lacks the grant: zitadel/oidc
// turns every error from here into invalid_client (401), while a client
// that authenticated but may not use the grant is unauthorized_client (400,
// RFC 6749 §5.2), which AuthorizeClientCredentialsClient answers itself
// right after, from GrantTypes.
func (s *oidcStorage) ClientCredentials(ctx context.Context, id, secret string) (zop.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, id, secret); err != nil {
		return nil, err
	}
	return s.GetClientByClientID(ctx, id)
}

// ClientCredentialsTokenRequest grants only the scopes the client is
// registered for (zitadel/oidc passes the requested ones through).
func (s *oidcStorage) ClientCredentialsTokenRequest(ctx context.Context, id string, scopes []string) (zop.TokenRequest, error) {
	rec, err := s.store.Client(ctx, id)
	if isNotFound(err) {
		return nil, oidc.ErrInvalidClient()
	} else if err != nil {
		return nil, storeError(ctx, err)
	}
	granted := slices.DeleteFunc(slices.Clone(scopes), func(sc string) bool { return !rec.Scopes.Contains(sc) })
	setTokenClient(ctx, id)
	return &clientCredentialsRequest{clientID: id, scopes: granted}, nil
}

// SetUserinfoFromScopes is deprecated in zitadel/oidc; SetUserinfoFromRequest does the work.
func (s *oidcStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *oidcStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req zop.IDTokenRequest, scopes []string) error {
	if id := sessionIDOf(req); id != "" { // zitadel/oidc never fills IDTokenClaims.SessionID itself
		sess, err := s.store.Session(ctx, id)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return storeError(ctx, err)
		}
		if err == nil && sess.SID != "" {
			info.AppendClaims("sid", sess.SID) // stable across session rotation, as in logout tokens
		}
	}
	if r, ok := req.(*refreshRequest); ok && r.rec.ACR != "" {
		// zitadel/oidc sets acr only for an op.AuthRequest; an ID token from
		// a refresh must still say what the sign-in reached (OIDC Core
		// 12.2), or a relying party that requires the two-factor level
		// turns its user away after the first refresh.
		info.AppendClaims("acr", r.rec.ACR)
	}
	return s.fillUserinfo(ctx, info, req.GetSubject(), scopes)
}

func (s *oidcStorage) fillUserinfo(ctx context.Context, info *oidc.UserInfo, userID string, scopes []string) error {
	u, err := s.store.User(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return oidc.ErrInvalidRequest().WithDescription("user no longer exists")
	} else if err != nil {
		return storeError(ctx, err)
	}
	info.Subject = u.ID
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeProfile:
			info.PreferredUsername = u.Username
			info.Name = u.Name
			if tag, err := language.Parse(u.Locale); err == nil && u.Locale != "" {
				info.Locale = oidc.NewLocale(tag)
			}
		case oidc.ScopeEmail:
			if u.Email != "" {
				info.Email = u.Email
				info.EmailVerified = oidc.Bool(u.EmailVerified)
			}
		case oidc.ScopePhone:
			if u.Phone != "" {
				info.PhoneNumber = u.Phone
				info.PhoneNumberVerified = oidc.Bool(u.PhoneVerified)
			}
		}
	}
	return nil
}

// activeToken loads a live access token: not expired, not revoked, and for
// a user's token not older than the user's or the global session mark.
func (s *oidcStorage) activeToken(ctx context.Context, tokenID string) (*storage.AccessToken, error) {
	t, err := s.store.ActiveAccessToken(ctx, tokenID, s.now())
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrInvalidToken
	} else if err != nil {
		return nil, err
	}
	if t.UserID == "" {
		return t, nil
	}
	void, err := s.voidByMarks(ctx, t.UserID, t.CreatedAt)
	if err != nil {
		return nil, err
	}
	if void {
		return nil, ErrInvalidToken
	}
	return t, nil
}

// voidByMarks reports whether something a user got at issued is void under
// the user's or the provider-wide session mark (or the user is gone or
// disabled). The marks make "sign everyone out" one row, checked per use.
func (s *oidcStorage) voidByMarks(ctx context.Context, userID string, issued time.Time) (bool, error) {
	u, err := s.store.User(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	} else if err != nil {
		return false, err
	}
	if u.Disabled || (u.SessionsNotBefore != nil && issued.Before(*u.SessionsNotBefore)) {
		return true, nil
	}
	global, err := s.store.GlobalNotBefore(ctx)
	if err != nil {
		return false, err
	}
	return issued.Before(global), nil
}

// Userinfo's errors (RFC 6750 §3.1). zitadel/oidc answers every error of
// SetUserinfoFromToken with 403; the provider's wrapper turns
// invalid_token into 401 with its challenge.
const (
	errInvalidToken      = "invalid_token"
	errInsufficientScope = "insufficient_scope"
)

// SetUserinfoFromToken answers /userinfo only for a live token of a user.
func (s *oidcStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.activeToken(ctx, tokenID)
	if errors.Is(err, ErrInvalidToken) {
		return &oidc.Error{ErrorType: errInvalidToken, Description: "the access token is invalid, expired or revoked"}
	} else if err != nil {
		return storeError(ctx, err)
	}
	if t.Subject != subject {
		return &oidc.Error{ErrorType: errInvalidToken, Description: "the access token is invalid, expired or revoked"}
	}
	if t.UserID == "" {
		return &oidc.Error{ErrorType: errInsufficientScope, Description: "the access token was issued to a client, not for a user"}
	}
	return s.fillUserinfo(ctx, info, t.UserID, t.Scopes)
}

// SetIntrospectionFromToken answers active only to the client the token was
// issued to (or one in its audience). Any error makes zitadel/oidc answer
// "active": false; a database failure is noted so that the answer is 503.
func (s *oidcStorage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.activeToken(ctx, tokenID)
	if err != nil && !errors.Is(err, ErrInvalidToken) {
		return storeError(ctx, err)
	} else if err != nil {
		return errors.New("inactive")
	}
	if t.Subject != subject || (t.ClientID != clientID && !slices.Contains(t.Audience, clientID)) {
		return errors.New("inactive")
	}
	if t.UserID != "" {
		info := new(oidc.UserInfo)
		if err := s.fillUserinfo(ctx, info, t.UserID, t.Scopes); err != nil {
			return err // server_error (noted) or the user is gone: inactive either way
		}
		resp.SetUserInfo(info)
		resp.Username = info.PreferredUsername
	}
	resp.Subject = t.Subject
	resp.ClientID = t.ClientID
	resp.Scope = oidc.SpaceDelimitedArray(t.Scopes)
	resp.Audience = oidc.Audience(t.Audience)
	resp.Expiration = oidc.FromTime(t.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(t.CreatedAt)
	resp.TokenType = oidc.BearerToken
	return nil
}

func (s *oidcStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID returns a public key from the JWK Set a
// private_key_jwt client registered.
func (s *oidcStorage) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	rec, err := s.store.Client(ctx, clientID)
	if isNotFound(err) {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	} else if err != nil {
		return nil, storeError(ctx, err)
	}
	var set jose.JSONWebKeySet
	if rec.JWKS == "" || json.Unmarshal([]byte(rec.JWKS), &set) != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("client has no keys")
	}
	keys := set.Key(keyID)
	if len(keys) == 0 {
		if keyID != "" || len(set.Keys) != 1 {
			return nil, oidc.ErrInvalidClient().WithDescription("unknown key id")
		}
		keys = set.Keys
	}
	return &keys[0], nil
}

// ValidateJWTProfileScopes refuses the JWT bearer grant, which twofold does
// not offer.
func (s *oidcStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("jwt-bearer grant is not supported")
}

func (s *oidcStorage) Health(ctx context.Context) error { return s.store.Ping(ctx) }
