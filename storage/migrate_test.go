package storage

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
)

// models are every record the store keeps; a model missing here is a table
// nobody checks against its migration.
var models = []any{
	&Client{}, &User{}, &Session{}, &AuthRequest{}, &AccessToken{},
	&RefreshToken{}, &SigningKey{}, &AuditEvent{}, &SecondFactor{}, &Challenge{}, &Policy{}, &Setting{}, &LogoutDelivery{}, &RecoveryCode{},
	&AbuseCounter{}, &AccountGuard{},
}

func openSQLite(t *testing.T) *Store {
	t.Helper()
	s, err := Open("sqlite:"+filepath.Join(t.TempDir(), "twofold.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrationVersionsAreConsecutive(t *testing.T) {
	// migrateTo(n) applies migrations[:n]: version i+1 must sit at index i.
	for i, m := range migrations {
		if m.version != i+1 || m.name == "" {
			t.Errorf("migrations[%d] = version %d %q; want version %d with a name", i, m.version, m.name, i+1)
		}
	}
}

func TestMigrateFromZero(t *testing.T) {
	s := openSQLite(t)
	ctx := t.Context()
	applied, err := s.migrateTo(ctx, 0)
	if err != nil || len(applied) != 0 {
		t.Fatalf("migrateTo(0) = %v, %v; want nothing applied", applied, err)
	}
	if n, err := s.Pending(ctx); err != nil || n != len(migrations) {
		t.Fatalf("Pending at version 0 = %d, %v; want %d", n, err, len(migrations))
	}
	if s.db.Migrator().HasTable(&User{}) {
		t.Fatal("version 0 has a users table")
	}
	applied, err = s.Migrate(ctx)
	if err != nil || len(applied) != len(migrations) {
		t.Fatalf("Migrate from version 0 = %v, %v; want all %d applied", applied, err, len(migrations))
	}
	checkSchemaMatchesModels(t, s)
}

// checkSchemaMatchesModels checks that the migrated tables are exactly the
// models' tables, with exactly the models' columns: hand-written SQL and
// Go structs drift apart silently otherwise.
func checkSchemaMatchesModels(t *testing.T, s *Store) {
	t.Helper()
	m := s.db.Migrator()
	want := map[string]bool{"schema_migrations": true}
	for _, model := range models {
		stmt := &gorm.Statement{DB: s.db}
		if err := stmt.Parse(model); err != nil {
			t.Fatalf("parse %T: %v", model, err)
		}
		table := stmt.Schema.Table
		want[table] = true
		if !m.HasTable(model) {
			t.Errorf("no table %s for %T", table, model)
			continue
		}
		cols, err := m.ColumnTypes(model)
		if err != nil {
			t.Fatalf("ColumnTypes(%s): %v", table, err)
		}
		var have []string
		for _, c := range cols {
			have = append(have, c.Name())
		}
		var fields []string
		for _, f := range stmt.Schema.Fields {
			if f.DBName != "" {
				fields = append(fields, f.DBName)
			}
		}
		slices.Sort(have)
		slices.Sort(fields)
		if !slices.Equal(have, fields) {
			t.Errorf("table %s has columns %v; %T wants %v", table, have, model, fields)
		}
	}
	tables, err := m.GetTables()
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		if !want[table] && !strings.HasPrefix(table, "sqlite_") {
			t.Errorf("table %s has no model", table)
		}
	}
	for table := range maps.Keys(want) {
		if !slices.Contains(tables, table) {
			t.Errorf("GetTables lacks %s", table)
		}
	}
}

// fixture is data written at one schema version with plain SQL (the models
// follow the newest schema) and read back through the Store at the newest
// version: every migration must carry old rows forward (hydra's migratest).
// When a migration changes a table, add a fixture at the version before it.
type fixture struct {
	version int
	name    string
	write   func(t *testing.T, s *Store)
	check   func(t *testing.T, s *Store)
}

var fixtures = []fixture{
	{1, "users", writeUserV1, checkUserV1},
	{1, "auth_requests", writeAuthRequestV1, checkAuthRequestV1},
	{8, "clients", writeClientV8, checkClientV8},
	{9, "refresh_tokens", writeRefreshTokenV9, checkRefreshTokenV9},
}

func TestMigrationsKeepData(t *testing.T) {
	MigrationPathTest(t, openSQLite(t))
}

// MigrationPathTest steps an empty database through every version, writing
// each version's fixtures, and checks them all at the newest version. It is
// exported to storage_test, which runs it on PostgreSQL too.
func MigrationPathTest(t *testing.T, s *Store) {
	ctx := t.Context()
	for _, f := range fixtures {
		if f.version < 1 || f.version > len(migrations) {
			t.Fatalf("fixture %s is at version %d, which does not exist", f.name, f.version)
		}
	}
	for v := 0; v <= len(migrations); v++ {
		applied, err := s.migrateTo(ctx, v)
		if err != nil {
			t.Fatalf("migrateTo(%d): %v", v, err)
		}
		if v > 0 && !slices.Equal(applied, []int{v}) {
			t.Fatalf("migrateTo(%d) applied %v, want [%d]", v, applied, v)
		}
		for _, f := range fixtures {
			if f.version == v {
				f.write(t, s)
			}
		}
	}
	if n, err := s.Pending(ctx); err != nil || n != 0 {
		t.Fatalf("Pending at the newest version = %d, %v", n, err)
	}
	checkSchemaMatchesModels(t, s)
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) { f.check(t, s) })
	}
}

var v1Time = time.Date(2030, 1, 2, 3, 4, 5, 678901000, time.UTC)

func writeUserV1(t *testing.T, s *Store) {
	err := s.db.WithContext(t.Context()).Exec(`INSERT INTO users
		(id, username, name, email, email_verified, phone, phone_verified, password_hash, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		"u-v1", "alice", "Alice", "alice@example.com", true, "+15550100", false,
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", false, v1Time, v1Time.Add(time.Hour)).Error
	if err != nil {
		t.Fatalf("insert user at version 1: %v", err)
	}
	// Defaults of version 1: a user inserted with the NOT NULL columns only.
	err = s.db.WithContext(t.Context()).Exec(`INSERT INTO users (id, username, created_at, updated_at)
		VALUES (?, ?, ?, ?)`, "u-v1-min", "bob", v1Time, v1Time).Error
	if err != nil {
		t.Fatalf("insert minimal user at version 1: %v", err)
	}
}

func checkUserV1(t *testing.T, s *Store) {
	u, err := s.UserByUsername(t.Context(), "ALICE")
	if err != nil {
		t.Fatalf("UserByUsername: %v", err)
	}
	want := User{
		ID: "u-v1", Username: "alice", Name: "Alice", Email: "alice@example.com", EmailVerified: true,
		Phone: "+15550100", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		CreatedAt: v1Time, UpdatedAt: v1Time.Add(time.Hour),
	}
	if !u.CreatedAt.Equal(want.CreatedAt) || !u.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("times = %v, %v; want %v, %v", u.CreatedAt, u.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	u.CreatedAt, u.UpdatedAt = want.CreatedAt, want.UpdatedAt
	if *u != want {
		t.Errorf("user written at version 1 reads back as %+v, want %+v", *u, want)
	}
	bare, err := s.User(t.Context(), "u-v1-min")
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if bare.Username != "bob" || bare.Name != "" || bare.EmailVerified || bare.Disabled || bare.PasswordHash != "" {
		t.Errorf("minimal user written at version 1 reads back as %+v", *bare)
	}
}

func writeAuthRequestV1(t *testing.T, s *Store) {
	err := s.db.WithContext(t.Context()).Exec(`INSERT INTO auth_requests
		(id, client_id, redirect_uri, scopes, response_type, max_age, user_id, amr, acr, done_at, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		"ar-v1", "app", "https://app.example/cb", `["openid"]`, "code", 0, "u-v1", `["pwd","otp"]`, "2fa",
		v1Time, v1Time, v1Time.Add(30*time.Minute)).Error
	if err != nil {
		t.Fatalf("insert auth request at version 1: %v", err)
	}
}

func checkAuthRequestV1(t *testing.T, s *Store) {
	a, err := s.AuthRequest(t.Context(), "ar-v1", v1Time)
	if err != nil {
		t.Fatalf("AuthRequest: %v", err)
	}
	if a.ClientID != "app" || a.UserID != "u-v1" || a.ACR != "2fa" || !slices.Equal(a.AMR, []string{"pwd", "otp"}) ||
		!slices.Equal(a.Scopes, []string{"openid"}) || a.MaxAge == nil || *a.MaxAge != 0 ||
		a.DoneAt == nil || !a.DoneAt.Equal(v1Time) || a.CodeHash != "" || len(a.Prompt) != 0 {
		t.Errorf("auth request written at version 1 reads back as %+v", *a)
	}
	if a.PendingUserID != "" {
		t.Errorf("PendingUserID = %q for a version-1 row, want empty", a.PendingUserID)
	}
}

func writeClientV8(t *testing.T, s *Store) {
	err := s.db.WithContext(t.Context()).Exec(`INSERT INTO clients
		(id, name, auth_method, redirect_uris, grant_types, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		"c-v8", "Wiki", "client_secret_basic", `["https://wiki.example/cb"]`, `["authorization_code"]`, v1Time, v1Time).Error
	if err != nil {
		t.Fatalf("insert client at version 8: %v", err)
	}
}

// checkClientV8: a client registered before clients named a signing
// algorithm has none, so it keeps keys.algorithm.
func checkClientV8(t *testing.T, s *Store) {
	c, err := s.Client(t.Context(), "c-v8")
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	if c.Name != "Wiki" || c.AuthMethod != "client_secret_basic" || c.IDTokenSignedResponseAlg != "" ||
		!slices.Equal(c.RedirectURIs, []string{"https://wiki.example/cb"}) || c.AccessTokenFormat != "opaque" {
		t.Errorf("client written at version 8 reads back as %+v", *c)
	}
}

func writeRefreshTokenV9(t *testing.T, s *Store) {
	err := s.db.WithContext(t.Context()).Exec(`INSERT INTO refresh_tokens
		(id, token_hash, family_id, client_id, user_id, acr, auth_time, created_at, expires_at, used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		"rt-v9", "hash-v9", "fam-v9", "wiki", "u-v1", "2fa", v1Time, v1Time, v1Time.Add(time.Hour), v1Time.Add(time.Minute)).Error
	if err != nil {
		t.Fatalf("insert refresh token at version 9: %v", err)
	}
}

// checkRefreshTokenV9: a token rotated before successors were recorded
// has none, so presenting it again is still reuse.
func checkRefreshTokenV9(t *testing.T, s *Store) {
	r, err := s.RefreshTokenByHash(t.Context(), "hash-v9")
	if err != nil {
		t.Fatalf("RefreshTokenByHash: %v", err)
	}
	if r.ID != "rt-v9" || r.ACR != "2fa" || r.UsedAt == nil || !r.UsedAt.Equal(v1Time.Add(time.Minute)) || r.SuccessorID != "" {
		t.Errorf("refresh token written at version 9 reads back as %+v", *r)
	}
}
