package storage

import (
	"log/slog"
	"time"
)

// Client is a registered relying party.
type Client struct {
	ID                     string `gorm:"primaryKey"`
	Name                   string
	SecretHash             string // keyed hash of the client secret; empty for public clients
	AuthMethod             string // client_secret_basic, client_secret_post, none, private_key_jwt
	ApplicationType        string // web, native, user_agent
	RedirectURIs           StringList
	PostLogoutRedirectURIs StringList
	GrantTypes             StringList
	AccessTokenFormat      string // opaque or jwt
	// IDTokenSignedResponseAlg signs the client's ID tokens, JWT access
	// tokens and logout tokens: RS256, ES256, or empty for keys.algorithm.
	IDTokenSignedResponseAlg string
	JWKS                     string // public keys for private_key_jwt, as a JWK Set
	BackchannelLogoutURI     string
	Scopes                   StringList // extra scopes the client may ask for (e.g. twofold:admin)
	CreatedAt                time.Time
	UpdatedAt                time.Time
}

// LogValue keeps the secret hash out of logs.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", c.ID), slog.String("name", c.Name))
}

// User is a person (or an API account) who signs in.
type User struct {
	ID            string `gorm:"primaryKey"`
	Username      string
	Name          string
	Email         string
	EmailVerified bool
	Phone         string
	PhoneVerified bool
	PasswordHash  string
	Disabled      bool
	Locale        string // BCP 47 tag of the language messages to the user are in; "" for the sign-in's
	APIAccount    bool   // an integration: exempt from the second factor where policy allows
	Admin         bool   // may use the admin API with its own tokens
	// SessionsNotBefore ends, at once, every session and token of the user
	// that began before it.
	SessionsNotBefore *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// LogValue keeps the password hash out of logs.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", u.ID), slog.String("username", u.Username))
}

// Session is an SSO session; its ID is the SHA-256 of the cookie value, so
// the table alone cannot be replayed as cookies.
type Session struct {
	ID         string `gorm:"primaryKey"`
	SID        string `gorm:"column:sid"` // public session id (the sid claim); kept across rotation
	UserID     string
	AuthTime   time.Time
	AMR        StringList
	ACR        string
	MFAAt      *time.Time // when a second factor was last completed in it
	Clients    StringList // clients signed in through it, for back-channel logout
	IP         string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
}

// AuthRequest is one authorization request, from /authorize to the code
// exchange. DoneAt is the only gate to issuing a code.
type AuthRequest struct {
	ID                  string `gorm:"primaryKey"`
	ClientID            string
	RedirectURI         string
	State               string
	Nonce               string
	Scopes              StringList
	ResponseType        string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              StringList
	MaxAge              *int64
	ACRValues           StringList
	LoginHint           string
	HintSubject         string // subject of the request's id_token_hint (signature checked), if any
	UILocales           StringList
	BrowserHash         string // keyed hash of the browser cookie that first opened the login page
	UserID              string
	AuthTime            *time.Time
	AMR                 StringList
	ACR                 string
	SessionID           string
	PendingUserID       string // password verified; a second factor is still due
	DoneAt              *time.Time
	CodeHash            string
	CodeExpiresAt       *time.Time
	RedeemedAt          *time.Time
	CreatedAt           time.Time
	ExpiresAt           time.Time
}

// AccessToken records an issued access token (opaque or JWT) so that
// revocation holds at once.
type AccessToken struct {
	ID        string `gorm:"primaryKey"`
	ClientID  string
	Subject   string
	UserID    string // empty for client_credentials
	Scopes    StringList
	Audience  StringList
	FamilyID  string // the grant: auth request id, shared by refreshes
	SessionID string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// RefreshToken is one link of a rotating refresh-token family.
type RefreshToken struct {
	ID        string `gorm:"primaryKey"`
	TokenHash string
	FamilyID  string
	ClientID  string
	UserID    string
	Scopes    StringList
	Audience  StringList
	AMR       StringList
	ACR       string
	AuthTime  time.Time
	SessionID string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time // rotated: presenting it again is reuse
	RevokedAt *time.Time
	// SuccessorID is the token this one was rotated into, so that the same
	// token presented again within the reuse grace gets that one back.
	SuccessorID string
}

// SigningKey is a token signing key; the private part is sealed with the
// master key, bound to its kid.
type SigningKey struct {
	ID           string `gorm:"primaryKey"`
	Algorithm    string
	PrivateKey   []byte
	PublicKey    string // JWK
	CreatedAt    time.Time
	RetiredAt    *time.Time
	VisibleUntil *time.Time // kept in JWKS until every token it signed has expired
}

// AuditEvent is one security-relevant event. Detail never holds secrets.
type AuditEvent struct {
	ID        int64 `gorm:"primaryKey;autoIncrement"`
	CreatedAt time.Time
	Type      string
	Actor     string
	UserID    string
	ClientID  string
	IP        string
	Outcome   string
	Detail    string
}

// SecondFactor is one second-factor method a user has enrolled.
type SecondFactor struct {
	ID          string `gorm:"primaryKey"`
	UserID      string
	Method      Method // sms, voice, email, totp
	Destination string // E.164 phone or email address; empty for totp
	Secret      []byte // sealed TOTP seed
	LastStep    int64  // last accepted TOTP time step (replay protection)
	Preferred   bool
	VerifiedAt  *time.Time
	CreatedAt   time.Time
}

// Challenge is one one-time code sent for one authorization request. Only
// its keyed hash is stored, bound to the challenge id.
type Challenge struct {
	ID            string `gorm:"primaryKey"`
	AuthRequestID string
	UserID        string
	Method        Method // the method the user chose
	// Channel is the method whose channel delivered the code: Method's own
	// (a code method's channel has its name), another after a fallback.
	Channel      Method
	Destination  string
	FallbackFrom Method // the method that failed to deliver, after a fallback
	CodeHash     string
	Attempts     int
	MaxAttempts  int
	ProviderID   string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	UsedAt       *time.Time
}

// Policy is the sign-in policy of one level: the global default (scope
// "global"), a client or a user. A nil or empty field inherits.
type Policy struct {
	ID                     string `gorm:"primaryKey"`
	Scope                  string // global, client, user
	TargetID               string
	SecondFactor           string // off, optional, required, or "" to inherit
	AllowedMethods         MethodList
	SMSFallback            *bool
	CodeDigits             *int
	CodeTTLSeconds         *int64
	MaxAttempts            *int
	ResendCooldownSeconds  *int64
	MaxResends             *int
	SessionLifetimeSeconds *int64
	IdleTimeoutSeconds     *int64
	RememberDeviceSeconds  *int64
	ExemptAPIAccounts      *bool
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// Setting is one provider-wide value, such as the global session mark.
type Setting struct {
	Key       string `gorm:"primaryKey"`
	Value     string
	UpdatedAt time.Time
}

// LogoutDelivery is one back-channel logout token still to deliver (an
// outbox row), so that a client that is down never blocks anyone.
type LogoutDelivery struct {
	ID            string `gorm:"primaryKey"`
	ClientID      string
	UserID        string
	SessionID     string
	Attempts      int
	NextAttemptAt time.Time
	DeliveredAt   *time.Time
	FailedAt      *time.Time
	LastError     string
	CreatedAt     time.Time
}

// RecoveryCode is one single-use recovery code, stored as a keyed hash
// bound to its user.
type RecoveryCode struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	CodeHash  string
	UsedAt    *time.Time
	CreatedAt time.Time
}
