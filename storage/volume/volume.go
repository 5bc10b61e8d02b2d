// Package volume grows a PostgreSQL database to the size of a large
// deployment's with filler records, for the load driver (`twofold bench
// --volume-*`) and the tests of the purge job. It is not part of the
// production store: it writes raw, PostgreSQL-only bulk statements through
// the store's connection pool (storage.Store.SQLDB), which only packages
// under storage/ may use.
package volume

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DB is what seeding needs of a *storage.Store.
type DB interface {
	IsPostgres() bool
	SQLDB() (*sql.DB, error)
}

// Size is an amount of filler records: users named volume-0000001…, live
// sessions spread over them, and expired records for the purge job.
type Size struct {
	Users    int64
	Sessions int64 // live: expiring in the next month
	// Expired is split evenly over sessions, auth requests, access tokens,
	// refresh tokens and challenges, all expired in the past month.
	Expired int64
	// PasswordHash is the one hash every volume user gets: the hash of a
	// password nobody keeps, so that sign-ins cost what real ones do but
	// none can succeed.
	PasswordHash string
}

// volumeMark tags the volume rows that have no username (in client_id,
// user_agent or provider_id), so that they can be counted; no real client,
// browser or SMS provider uses it.
const volumeMark = "twofold-volume"

// volumeBatch is the most rows one INSERT adds, so that no statement holds
// a transaction of many millions of rows.
const volumeBatch = 1_000_000

// SQL pieces of the volume inserts. Ids take their randomness from
// gen_random_uuid (a strong source) and have the length of real ones;
// hashes are digests of random values, which no code, token or cookie
// hashes to. A volume user's id is derived from its number, so that other
// rows can refer to user n without a join.
const (
	volRand22 = `rtrim(translate(encode(uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), '=')`
	volRand43 = `left(` + volRand22 + ` || ` + volRand22 + `, 43)`
	volHex64  = `encode(sha256(uuid_send(gen_random_uuid())), 'hex')`
	volHash   = `md5(gen_random_uuid()::text)`
	volUserID = `md5('twofold-volume-user-' || (1 + g % $3))::uuid::text`
	volNow    = `$4::timestamptz`
	volExpiry = `(` + volNow + ` - interval '1 minute' - (g * 7919 % 2592000) * interval '1 second')`
	volSeries = ` FROM generate_series($1::bigint, $2::bigint) AS g`
)

// volumeUsersSQL inserts users $1…$2 with password hash $3 at $4.
const volumeUsersSQL = `INSERT INTO users (id, username, name, email, email_verified, phone, phone_verified,
	password_hash, disabled, api_account, admin, sessions_not_before, created_at, updated_at)
SELECT md5('twofold-volume-user-' || g)::uuid::text, u.name, 'Volume user ' || g, u.name || '@volume.invalid', false, '', false,
	$3, false, false, false, NULL, ` + volNow + `, ` + volNow + `
FROM generate_series($1::bigint, $2::bigint) AS g,
	LATERAL (SELECT 'volume-' || lpad(g::text, greatest(7, length(g::text)), '0') AS name) AS u
ON CONFLICT DO NOTHING`

// volumeLiveSessionsSQL inserts live sessions $1…$2 over $3 users, begun
// in the week before $4 and ending one to 31 days after it.
const volumeLiveSessionsSQL = `INSERT INTO sessions (id, sid, user_id, auth_time, amr, acr, mfa_at, clients,
	ip, user_agent, created_at, last_seen_at, expires_at, revoked_at)
SELECT ` + volHex64 + `, replace(gen_random_uuid()::text, '-', ''), ` + volUserID + `, t.begun, '["pwd"]', '', NULL, '[]',
	'192.0.2.' || (1 + g % 254), '` + volumeMark + `', t.begun, t.begun,
	` + volNow + ` + interval '1 day' + (g * 104729 % 2592000) * interval '1 second', NULL` + volSeries + `,
	LATERAL (SELECT ` + volNow + ` - (g * 7919 % 604800) * interval '1 second' AS begun) AS t`

// expiredKinds are the tables the expired volume goes to, in a fixed
// order; each insert takes rows $1…$2 over $3 users at $4, and each count
// the volume rows already there.
var expiredKinds = []struct{ table, insert, count string }{
	{"sessions", `INSERT INTO sessions (id, sid, user_id, auth_time, amr, acr, mfa_at, clients,
	ip, user_agent, created_at, last_seen_at, expires_at, revoked_at)
SELECT ` + volHex64 + `, replace(gen_random_uuid()::text, '-', ''), ` + volUserID + `, e - interval '14 days', '["pwd"]', '', NULL, '[]',
	'192.0.2.' || (1 + g % 254), '` + volumeMark + `', e - interval '14 days', e - interval '1 day', e, NULL` + volSeries + `,
	LATERAL (SELECT ` + volExpiry + ` AS e) AS t`,
		`SELECT count(*) FROM sessions WHERE user_agent = '` + volumeMark + `' AND expires_at <= $1`},
	{"auth_requests", `INSERT INTO auth_requests (id, client_id, redirect_uri, state, nonce, scopes, response_type,
	response_mode, code_challenge, code_challenge_method, prompt, max_age, acr_values, login_hint, ui_locales,
	browser_hash, user_id, auth_time, amr, acr, session_id, pending_user_id, done_at, code_hash, code_expires_at,
	redeemed_at, created_at, expires_at)
SELECT ` + volRand43 + `, '` + volumeMark + `', 'https://volume.invalid/callback', ` + volHash + `, '', '["openid"]', 'code',
	'', '', '', '[]', NULL, '[]', '', '[]',
	` + volHash + `, ` + volUserID + `, e - interval '29 minutes', '["pwd"]', '', ` + volHex64 + `, '', e - interval '29 minutes', ` + volHash + `, e - interval '28 minutes',
	e - interval '28 minutes 30 seconds', e - interval '30 minutes', e` + volSeries + `,
	LATERAL (SELECT ` + volExpiry + ` AS e) AS t`,
		`SELECT count(*) FROM auth_requests WHERE client_id = '` + volumeMark + `'`},
	{"access_tokens", `INSERT INTO access_tokens (id, client_id, subject, user_id, scopes, audience, family_id,
	session_id, created_at, expires_at, revoked_at)
SELECT ` + volRand22 + `, '` + volumeMark + `', u.id, u.id, '["openid"]', '["` + volumeMark + `"]', ` + volRand43 + `,
	` + volHex64 + `, e - interval '1 hour', e, NULL` + volSeries + `,
	LATERAL (SELECT ` + volExpiry + ` AS e, ` + volUserID + ` AS id) AS u`,
		`SELECT count(*) FROM access_tokens WHERE client_id = '` + volumeMark + `'`},
	{"refresh_tokens", `INSERT INTO refresh_tokens (id, token_hash, family_id, client_id, user_id, scopes, audience,
	amr, acr, auth_time, session_id, created_at, expires_at, used_at, revoked_at)
SELECT ` + volRand22 + `, ` + volHash + `, ` + volRand43 + `, '` + volumeMark + `', ` + volUserID + `, '["openid"]', '["` + volumeMark + `"]',
	'["pwd"]', '', e - interval '30 days', ` + volHex64 + `, e - interval '30 days', e, NULL, NULL` + volSeries + `,
	LATERAL (SELECT ` + volExpiry + ` AS e) AS t`,
		`SELECT count(*) FROM refresh_tokens WHERE client_id = '` + volumeMark + `'`},
	{"challenges", `INSERT INTO challenges (id, auth_request_id, user_id, method, channel, destination, fallback_from,
	code_hash, attempts, max_attempts, provider_id, created_at, expires_at, used_at)
SELECT ` + volRand22 + `, ` + volRand43 + `, ` + volUserID + `, 'sms', 'sms', '+1555010' || lpad((g % 10000)::text, 4, '0'), '',
	` + volHash + `, 0, 5, '` + volumeMark + `', e - interval '5 minutes', e, NULL` + volSeries + `,
	LATERAL (SELECT ` + volExpiry + ` AS e) AS t`,
		`SELECT count(*) FROM challenges WHERE provider_id = '` + volumeMark + `'`},
}

// volumeCounts are the volume rows present: users, live sessions, and the
// expired rows of each of expiredKinds.
type volumeCounts struct {
	users, live int64
	expired     []int64
}

// Seed fills a PostgreSQL database with v's filler records, adding
// only what is missing (the volume rows already there are counted first),
// and returns what it added. Each statement inserts at most a million rows
// with INSERT … SELECT … FROM generate_series, so millions take minutes.
// Afterwards it vacuums and analyzes the tables it grew, so that the
// planner knows their size and autovacuum does not start in the middle of
// a measurement. No volume record can be used: the users' password is
// unknown and every code, token and session is expired or hashes from no
// value anyone holds.
func Seed(ctx context.Context, s DB, v Size, now time.Time) (Size, error) {
	if v.Users < 0 || v.Sessions < 0 || v.Expired < 0 {
		return Size{}, fmt.Errorf("volume: counts must be ≥ 0 (got %d users, %d sessions, %d expired)", v.Users, v.Sessions, v.Expired)
	}
	db, have, err := open(ctx, s, now)
	if err != nil {
		return Size{}, err
	}
	var added Size
	if v.Users > have.users && v.PasswordHash == "" {
		return Size{}, errors.New("volume: users need a password hash")
	}
	if added.Users, err = fillVolume(ctx, db, volumeUsersSQL, have.users, v.Users, v.PasswordHash, now); err != nil {
		return added, fmt.Errorf("volume users: %w", err)
	}
	users := max(have.users, v.Users)
	if users == 0 && (v.Sessions > have.live || v.Expired > 0) {
		return added, errors.New("volume: sessions and expired records need volume users")
	}
	if added.Sessions, err = fillVolume(ctx, db, volumeLiveSessionsSQL, have.live, v.Sessions, users, now); err != nil {
		return added, fmt.Errorf("volume sessions: %w", err)
	}
	grown := map[string]bool{"users": added.Users > 0, "sessions": added.Sessions > 0}
	for i, k := range expiredKinds {
		n, err := fillVolume(ctx, db, k.insert, have.expired[i], expiredShare(v.Expired, i), users, now)
		added.Expired += n
		if err != nil {
			return added, fmt.Errorf("volume expired %s: %w", k.table, err)
		}
		grown[k.table] = grown[k.table] || n > 0
	}
	for _, table := range []string{"users", "sessions", "auth_requests", "access_tokens", "refresh_tokens", "challenges"} {
		if !grown[table] {
			continue
		}
		if _, err := db.ExecContext(ctx, "VACUUM (ANALYZE) "+table); err != nil {
			return added, fmt.Errorf("vacuum %s: %w", table, err)
		}
	}
	return added, nil
}

// Count reports the volume records present at now (PostgreSQL only).
func Count(ctx context.Context, s DB, now time.Time) (Size, error) {
	_, have, err := open(ctx, s, now)
	if err != nil {
		return Size{}, err
	}
	out := Size{Users: have.users, Sessions: have.live}
	for _, n := range have.expired {
		out.Expired += n
	}
	return out, nil
}

// open returns the PostgreSQL connection pool and the volume records
// present at now; volume seeding is PostgreSQL-only.
func open(ctx context.Context, s DB, now time.Time) (*sql.DB, volumeCounts, error) {
	if !s.IsPostgres() {
		return nil, volumeCounts{}, errors.New("volume seeding needs PostgreSQL (database.url postgres://…)")
	}
	db, err := s.SQLDB()
	if err != nil {
		return nil, volumeCounts{}, err
	}
	have, err := countVolume(ctx, db, now)
	return db, have, err
}

// countVolume counts the volume rows with plain scans: seeding is rare and
// the marks are not worth an index that every real write would pay for.
func countVolume(ctx context.Context, db *sql.DB, now time.Time) (volumeCounts, error) {
	var c volumeCounts
	err := db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM users WHERE username LIKE 'volume-%'),
		(SELECT count(*) FROM sessions WHERE user_agent = '`+volumeMark+`' AND expires_at > $1)`, now).Scan(&c.users, &c.live)
	if err != nil {
		return c, fmt.Errorf("count volume: %w", err)
	}
	c.expired = make([]int64, len(expiredKinds))
	for i, k := range expiredKinds {
		args := []any{}
		if k.table == "sessions" {
			args = append(args, now)
		}
		if err := db.QueryRowContext(ctx, k.count, args...).Scan(&c.expired[i]); err != nil {
			return c, fmt.Errorf("count volume %s: %w", k.table, err)
		}
	}
	return c, nil
}

// expiredShare is kind i's part of n expired records: a fifth each, the
// remainder going to the first kinds.
func expiredShare(n int64, i int) int64 {
	k := int64(len(expiredKinds))
	share := n / k
	if int64(i) < n%k {
		share++
	}
	return share
}

// fillVolume runs insert for rows have+1…want in batches of volumeBatch
// and returns how many rows it added. Every insert takes the row range,
// then arg ($3) and now ($4).
func fillVolume(ctx context.Context, db *sql.DB, insert string, have, want int64, arg any, now time.Time) (int64, error) {
	var added int64
	for from := have + 1; from <= want; from += volumeBatch {
		to := min(from+volumeBatch-1, want)
		res, err := db.ExecContext(ctx, insert, from, to, arg, now)
		if err != nil {
			return added, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return added, err
		}
		added += n
	}
	return added, nil
}
