package testkit

import (
	"context"
	"net/url"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestPostgresURL(t *testing.T) {
	var (
		dbName string
		open   *pgx.Conn // left open on purpose: the drop must force it off
	)
	t.Run("create", func(t *testing.T) {
		dsn := PostgresURL(t)
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("parse %q: %v", dsn, err)
		}
		if !regexp.MustCompile(`^/twofold_test_[0-9a-f]{16}$`).MatchString(u.Path) {
			t.Errorf("database path = %q, want /twofold_test_<16 hex>", u.Path)
		}
		base, _ := url.Parse(os.Getenv("TWOFOLD_TEST_POSTGRES_URL"))
		if u.RawQuery != base.RawQuery {
			t.Errorf("query = %q, want %q kept from TWOFOLD_TEST_POSTGRES_URL", u.RawQuery, base.RawQuery)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		open, err = pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("connect to test database: %v", err)
		}
		var tables int
		err = open.QueryRow(ctx, `SELECT current_database(),
			(SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public')`).Scan(&dbName, &tables)
		if err != nil {
			t.Fatalf("query test database: %v", err)
		}
		if "/"+dbName != u.Path {
			t.Errorf("connected to %q, want %q", dbName, u.Path[1:])
		}
		if tables != 0 {
			t.Errorf("fresh database has %d tables, want 0", tables)
		}
		if _, err := open.Exec(ctx, "CREATE TABLE t (id int)"); err != nil {
			t.Fatalf("create table: %v", err)
		}
	})
	if dbName == "" {
		return // skipped or failed before connecting
	}
	t.Run("dropped", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		open.Close(ctx)
		conn, err := pgx.Connect(ctx, os.Getenv("TWOFOLD_TEST_POSTGRES_URL"))
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", dbName).Scan(&n); err != nil {
			t.Fatalf("query pg_database: %v", err)
		}
		if n != 0 {
			t.Errorf("database %s still exists after its test ended", dbName)
		}
	})
}
