package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// migration is one schema step. SQL uses {{ts}}, {{bool}}, {{blob}} and
// {{serial}} for the types SQLite and PostgreSQL spell differently.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are append-only: never edit one that has shipped. A new one
// goes in a file of its own (migrate_v12.go) that registers it:
//
//	func init() { register(migration{12, "what it adds", schemaV12}) }
//
// so that work on two features does not meet in this list.
var migrations = []migration{
	{1, "initial schema", schemaV1},
	{2, "second factors and one-time-code challenges", schemaV2},
	{3, "policies, session marks, back-channel logout", schemaV3},
	{4, "recovery codes", schemaV4},
	{5, "abuse counters", schemaV5},
	{6, "stable public session ids", schemaV6},
	{7, "indexes for revoking a user's tokens and purging deliveries", schemaV7},
	{8, "the id_token_hint subject of an authorization request", schemaV8},
	{9, "per-client signing algorithm", schemaV9},
	{10, "refresh token successors, for the reuse grace", schemaV10},
	{11, "a user's language", schemaV11},
}

// register adds a migration from its own file; they are kept in version
// order whatever order the files' init functions run in.
func register(m migration) {
	migrations = append(migrations, m)
	slices.SortFunc(migrations, func(a, b migration) int { return a.version - b.version })
}

// schemaV11 keeps the language a user reads messages in (a BCP 47 tag);
// empty means the language of the sign-in that sends them.
const schemaV11 = `
ALTER TABLE users ADD COLUMN locale text NOT NULL DEFAULT '';
`

// schemaV10 records what a refresh token was rotated into. Tokens rotated
// before it have none, so presenting one again stays reuse.
const schemaV10 = `
ALTER TABLE refresh_tokens ADD COLUMN successor_id text NOT NULL DEFAULT '';
`

// schemaV9 lets a client name the algorithm its tokens are signed with
// (OIDC Dynamic Registration's id_token_signed_response_alg); empty means
// keys.algorithm, which is what every client registered before it gets.
const schemaV9 = `
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg text NOT NULL DEFAULT '';
`

// schemaV8 keeps the user an authorization request's id_token_hint names,
// so that a live session of someone else does not answer it (OIDC Core
// 3.1.2.1: prompt=none then answers login_required).
const schemaV8 = `
ALTER TABLE auth_requests ADD COLUMN hint_subject text NOT NULL DEFAULT '';
`

// schemaV7 indexes the columns that revoking a user (password change,
// disable, delete, "sign out everywhere") and the purge of given-up
// deliveries filter on; without them each of those scans whole tables:
// about a second per table at two million tokens.
const schemaV7 = `
CREATE INDEX access_tokens_user_id ON access_tokens (user_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);
CREATE INDEX logout_deliveries_failed_at ON logout_deliveries (failed_at);
`

// schemaV6 gives sessions a sid that survives rotation (a new cookie id
// after each sign-in), for back-channel logout.
const schemaV6 = `
ALTER TABLE sessions ADD COLUMN sid text NOT NULL DEFAULT '';
UPDATE sessions SET sid = id WHERE sid = '';
`

// schemaV5 holds the abuse counters of login/guard: generic fixed-window
// counters (keys hash contact data and addresses) and per-account failures.
const schemaV5 = `
CREATE TABLE abuse_counters (
	key text PRIMARY KEY,
	window_start {{ts}} NOT NULL,
	count bigint NOT NULL DEFAULT 0,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX abuse_counters_window_start ON abuse_counters (window_start);
CREATE TABLE account_guards (
	user_id text PRIMARY KEY,
	failures integer NOT NULL DEFAULT 0,
	last_failure_at {{ts}},
	claimed_at {{ts}},
	locked_at {{ts}}
);
`

const schemaV4 = `
CREATE TABLE recovery_codes (
	id text PRIMARY KEY,
	user_id text NOT NULL,
	code_hash text NOT NULL,
	used_at {{ts}},
	created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX recovery_codes_user_hash ON recovery_codes (user_id, code_hash);
`

const schemaV3 = `
CREATE TABLE policies (
	id text PRIMARY KEY,
	scope text NOT NULL,
	target_id text NOT NULL DEFAULT '',
	second_factor text NOT NULL DEFAULT '',
	allowed_methods text NOT NULL DEFAULT '[]',
	sms_fallback {{bool}},
	code_digits integer,
	code_ttl_seconds bigint,
	max_attempts integer,
	resend_cooldown_seconds bigint,
	max_resends integer,
	session_lifetime_seconds bigint,
	idle_timeout_seconds bigint,
	remember_device_seconds bigint,
	exempt_api_accounts {{bool}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX policies_scope_target ON policies (scope, target_id);
CREATE TABLE settings (
	key text PRIMARY KEY,
	value text NOT NULL DEFAULT '',
	updated_at {{ts}} NOT NULL
);
CREATE TABLE logout_deliveries (
	id text PRIMARY KEY,
	client_id text NOT NULL,
	user_id text NOT NULL,
	session_id text NOT NULL,
	attempts integer NOT NULL DEFAULT 0,
	next_attempt_at {{ts}} NOT NULL,
	delivered_at {{ts}},
	failed_at {{ts}},
	last_error text NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL
);
CREATE INDEX logout_deliveries_due ON logout_deliveries (delivered_at, failed_at, next_attempt_at);
ALTER TABLE users ADD COLUMN api_account {{bool}} NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN admin {{bool}} NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN sessions_not_before {{ts}};
ALTER TABLE sessions ADD COLUMN clients text NOT NULL DEFAULT '[]';
ALTER TABLE sessions ADD COLUMN mfa_at {{ts}};
ALTER TABLE clients ADD COLUMN backchannel_logout_uri text NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN scopes text NOT NULL DEFAULT '[]';
`

const schemaV2 = `
CREATE TABLE second_factors (
	id text PRIMARY KEY,
	user_id text NOT NULL,
	method text NOT NULL,
	destination text NOT NULL DEFAULT '',
	secret {{blob}},
	last_step bigint NOT NULL DEFAULT 0,
	preferred {{bool}} NOT NULL DEFAULT FALSE,
	verified_at {{ts}},
	created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX second_factors_user_method ON second_factors (user_id, method);
CREATE TABLE challenges (
	id text PRIMARY KEY,
	auth_request_id text NOT NULL,
	user_id text NOT NULL,
	method text NOT NULL,
	channel text NOT NULL,
	destination text NOT NULL,
	fallback_from text NOT NULL DEFAULT '',
	code_hash text NOT NULL,
	attempts integer NOT NULL DEFAULT 0,
	max_attempts integer NOT NULL,
	provider_id text NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL,
	used_at {{ts}}
);
CREATE INDEX challenges_auth_request_id ON challenges (auth_request_id, created_at);
CREATE INDEX challenges_expires_at ON challenges (expires_at);
ALTER TABLE auth_requests ADD COLUMN pending_user_id text NOT NULL DEFAULT '';
`

const schemaV1 = `
CREATE TABLE clients (
	id text PRIMARY KEY,
	name text NOT NULL DEFAULT '',
	secret_hash text NOT NULL DEFAULT '',
	auth_method text NOT NULL,
	application_type text NOT NULL DEFAULT 'web',
	redirect_uris text NOT NULL DEFAULT '[]',
	post_logout_redirect_uris text NOT NULL DEFAULT '[]',
	grant_types text NOT NULL DEFAULT '[]',
	access_token_format text NOT NULL DEFAULT 'opaque',
	jwks text NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE TABLE users (
	id text PRIMARY KEY,
	username text NOT NULL,
	name text NOT NULL DEFAULT '',
	email text NOT NULL DEFAULT '',
	email_verified {{bool}} NOT NULL DEFAULT FALSE,
	phone text NOT NULL DEFAULT '',
	phone_verified {{bool}} NOT NULL DEFAULT FALSE,
	password_hash text NOT NULL DEFAULT '',
	disabled {{bool}} NOT NULL DEFAULT FALSE,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX users_username ON users (username);
CREATE TABLE sessions (
	id text PRIMARY KEY,
	user_id text NOT NULL,
	auth_time {{ts}} NOT NULL,
	amr text NOT NULL DEFAULT '[]',
	acr text NOT NULL DEFAULT '',
	ip text NOT NULL DEFAULT '',
	user_agent text NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	last_seen_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL,
	revoked_at {{ts}}
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE TABLE auth_requests (
	id text PRIMARY KEY,
	client_id text NOT NULL,
	redirect_uri text NOT NULL,
	state text NOT NULL DEFAULT '',
	nonce text NOT NULL DEFAULT '',
	scopes text NOT NULL DEFAULT '[]',
	response_type text NOT NULL,
	response_mode text NOT NULL DEFAULT '',
	code_challenge text NOT NULL DEFAULT '',
	code_challenge_method text NOT NULL DEFAULT '',
	prompt text NOT NULL DEFAULT '[]',
	max_age bigint,
	acr_values text NOT NULL DEFAULT '[]',
	login_hint text NOT NULL DEFAULT '',
	ui_locales text NOT NULL DEFAULT '[]',
	browser_hash text NOT NULL DEFAULT '',
	user_id text NOT NULL DEFAULT '',
	auth_time {{ts}},
	amr text NOT NULL DEFAULT '[]',
	acr text NOT NULL DEFAULT '',
	session_id text NOT NULL DEFAULT '',
	done_at {{ts}},
	code_hash text NOT NULL DEFAULT '',
	code_expires_at {{ts}},
	redeemed_at {{ts}},
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL
);
CREATE INDEX auth_requests_code_hash ON auth_requests (code_hash);
CREATE INDEX auth_requests_expires_at ON auth_requests (expires_at);
CREATE TABLE access_tokens (
	id text PRIMARY KEY,
	client_id text NOT NULL,
	subject text NOT NULL,
	user_id text NOT NULL DEFAULT '',
	scopes text NOT NULL DEFAULT '[]',
	audience text NOT NULL DEFAULT '[]',
	family_id text NOT NULL DEFAULT '',
	session_id text NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL,
	revoked_at {{ts}}
);
CREATE INDEX access_tokens_family_id ON access_tokens (family_id);
CREATE INDEX access_tokens_session_id ON access_tokens (session_id);
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);
CREATE TABLE refresh_tokens (
	id text PRIMARY KEY,
	token_hash text NOT NULL,
	family_id text NOT NULL,
	client_id text NOT NULL,
	user_id text NOT NULL,
	scopes text NOT NULL DEFAULT '[]',
	audience text NOT NULL DEFAULT '[]',
	amr text NOT NULL DEFAULT '[]',
	acr text NOT NULL DEFAULT '',
	auth_time {{ts}} NOT NULL,
	session_id text NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL,
	used_at {{ts}},
	revoked_at {{ts}}
);
CREATE UNIQUE INDEX refresh_tokens_token_hash ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
CREATE TABLE signing_keys (
	id text PRIMARY KEY,
	algorithm text NOT NULL,
	private_key {{blob}} NOT NULL,
	public_key text NOT NULL,
	created_at {{ts}} NOT NULL,
	retired_at {{ts}},
	visible_until {{ts}}
);
CREATE TABLE audit_events (
	id {{serial}},
	created_at {{ts}} NOT NULL,
	type text NOT NULL,
	actor text NOT NULL DEFAULT '',
	user_id text NOT NULL DEFAULT '',
	client_id text NOT NULL DEFAULT '',
	ip text NOT NULL DEFAULT '',
	outcome text NOT NULL DEFAULT '',
	detail text NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_created_at ON audit_events (created_at);
CREATE INDEX audit_events_user_id ON audit_events (user_id, created_at);
`

// schemaMigration is the bookkeeping row of an applied migration.
type schemaMigration struct {
	Version   int `gorm:"primaryKey;autoIncrement:false"`
	Name      string
	AppliedAt time.Time
}

func (s *Store) dialectSQL(sql string) string {
	r := strings.NewReplacer(
		"{{ts}}", "datetime", "{{bool}}", "boolean", "{{blob}}", "blob",
		"{{serial}}", "integer PRIMARY KEY AUTOINCREMENT")
	if s.postgres {
		r = strings.NewReplacer(
			"{{ts}}", "timestamptz", "{{bool}}", "boolean", "{{blob}}", "bytea",
			"{{serial}}", "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
	}
	return r.Replace(sql)
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Version int    `json:"version"`
	Name    string `json:"name"`
	Applied bool   `json:"applied"`
}

// Migrations reports every known migration and whether it is applied.
func (s *Store) Migrations(ctx context.Context) ([]MigrationStatus, error) {
	applied, err := s.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]MigrationStatus, len(migrations))
	for i, m := range migrations {
		out[i] = MigrationStatus{Version: m.version, Name: m.name, Applied: applied[m.version]}
	}
	return out, nil
}

// Pending reports how many migrations are not applied yet.
func (s *Store) Pending(ctx context.Context) (int, error) {
	list, err := s.Migrations(ctx)
	n := 0
	for _, m := range list {
		if !m.Applied {
			n++
		}
	}
	return n, err
}

func (s *Store) appliedVersions(ctx context.Context) (map[int]bool, error) {
	db := s.db.WithContext(ctx)
	if !db.Migrator().HasTable(&schemaMigration{}) {
		return map[int]bool{}, nil
	}
	var rows []schemaMigration
	if err := db.Find(&rows).Error; err != nil {
		return nil, err
	}
	done := map[int]bool{}
	for _, r := range rows {
		done[r.Version] = true
	}
	return done, nil
}

// Migrate applies every pending migration, each in its own transaction, and
// returns the versions it applied. On PostgreSQL an advisory lock keeps
// replicas starting together from racing.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	return s.migrateTo(ctx, len(migrations))
}

func (s *Store) migrateTo(ctx context.Context, upto int) ([]int, error) {
	db := s.db.WithContext(ctx)
	var applied []int
	err := db.Connection(func(conn *gorm.DB) error {
		if s.postgres {
			if err := conn.Exec("SELECT pg_advisory_lock(7411001)").Error; err != nil {
				return err
			}
			defer conn.Exec("SELECT pg_advisory_unlock(7411001)")
		}
		if err := conn.Migrator().AutoMigrate(&schemaMigration{}); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var rows []schemaMigration
		if err := conn.Find(&rows).Error; err != nil {
			return err
		}
		done := map[int]bool{}
		for _, r := range rows {
			done[r.Version] = true
		}
		for _, m := range migrations[:upto] {
			if done[m.version] {
				continue
			}
			err := conn.Transaction(func(tx *gorm.DB) error {
				for stmt := range strings.SplitSeq(s.dialectSQL(m.sql), ";") {
					if strings.TrimSpace(stmt) == "" {
						continue
					}
					if err := tx.Exec(stmt).Error; err != nil {
						return fmt.Errorf("%w\n%s", err, strings.TrimSpace(stmt))
					}
				}
				return tx.Create(&schemaMigration{Version: m.version, Name: m.name, AppliedAt: time.Now().UTC()}).Error
			})
			if err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
			}
			applied = append(applied, m.version)
		}
		return nil
	})
	return applied, err
}
