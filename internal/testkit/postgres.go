package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresTimeout bounds creating and dropping a test database, so a
// wedged server fails the test rather than hanging CI.
const postgresTimeout = 30 * time.Second

// PostgresURL creates a fresh, empty database on the server named by
// TWOFOLD_TEST_POSTGRES_URL and returns a URL for it, dropping it when the
// test ends; each test gets its own database so tests can run in parallel.
// It skips the test when the variable is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TWOFOLD_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("TWOFOLD_TEST_POSTGRES_URL not set; skipping PostgreSQL test")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("TWOFOLD_TEST_POSTGRES_URL: want a postgres:// URL (got %q, err %v)", base, err)
	}
	suffix := make([]byte, 8)
	rand.Read(suffix) // never fails (crypto/rand, Go 1.24+)
	name := "twofold_test_" + hex.EncodeToString(suffix)

	ctx, cancel := context.WithTimeout(context.Background(), postgresTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to TWOFOLD_TEST_POSTGRES_URL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() { dropDatabase(t, base, name) })

	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// dropDatabase removes a test database, forcing off connections a test
// forgot to close (PostgreSQL 13+).
func dropDatabase(t testing.TB, base, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), postgresTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Errorf("drop test database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	sql := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Errorf("drop test database %s: %v", name, err)
	}
}

// SetPostgresReachable makes the test database at dbURL (from PostgresURL)
// refuse new connections and ends the ones it has, as an outage or a
// failover does, or lets it accept connections again. The database comes
// back at the end of the test in any case, so that it can be dropped.
func SetPostgresReachable(t testing.TB, dbURL string, reachable bool) {
	t.Helper()
	base := os.Getenv("TWOFOLD_TEST_POSTGRES_URL")
	u, err := url.Parse(dbURL)
	if err != nil || base == "" {
		t.Fatalf("SetPostgresReachable(%q): not a test database (%v)", dbURL, err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	ctx, cancel := context.WithTimeout(context.Background(), postgresTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to TWOFOLD_TEST_POSTGRES_URL: %v", err)
	}
	defer conn.Close(ctx)
	stmts := []string{"ALTER DATABASE " + pgx.Identifier{name}.Sanitize() + " ALLOW_CONNECTIONS true"}
	if !reachable {
		stmts = []string{"ALTER DATABASE " + pgx.Identifier{name}.Sanitize() + " ALLOW_CONNECTIONS false",
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + strings.ReplaceAll(name, "'", "''") + "' AND pid <> pg_backend_pid()"}
		t.Cleanup(func() { SetPostgresReachable(t, dbURL, true) })
	}
	for _, sql := range stmts {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}
