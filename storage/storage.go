// Package storage is twofold's persistence: GORM records, one concrete
// *Store over SQLite or PostgreSQL, versioned migrations, and the
// single-use state changes (one conditional UPDATE each) that the sign-in
// flow and the token endpoint rely on. GORM never leaves this package.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Errors callers match with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	// ErrAlreadyUsed means a single-use transition lost: the row was used,
	// revoked or changed by someone else first.
	ErrAlreadyUsed = errors.New("already used")
)

// Options tunes Open.
type Options struct {
	MaxOpenConns int
	// CountQueries counts statements from the start (see Store.Queries).
	CountQueries bool
}

// Store is the one storage implementation; callers declare the few methods
// they need as small interfaces of their own.
type Store struct {
	db       *gorm.DB
	postgres bool
	counter  *counter
}

// Open connects to "sqlite:/path/file.db" or "postgres://…". It does not
// migrate; call Migrate.
func Open(rawURL string, opts Options) (*Store, error) {
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	var (
		dial     gorm.Dialector
		postgres bool
	)
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//")
		if path == "" {
			return nil, errors.New("database.url: sqlite: needs a file path, e.g. sqlite:data/twofold.db")
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Set("_txlock", "immediate")
		sqlDB, err := sql.Open(sqlite.DriverName, path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		dial = &sqlite.Dialector{Conn: utcPool{sqlDB}}
	case strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://"):
		dial = postgresOpen(rawURL)
		postgres = true
	default:
		return nil, fmt.Errorf("database.url: must be postgres:// or sqlite: (got %q)", rawURL)
	}
	db, err := gorm.Open(outageDialector{dial}, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	c := &counter{}
	c.on.Store(opts.CountQueries)
	if err := c.register(db); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := registerMemo(db); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	n := opts.MaxOpenConns
	if n <= 0 {
		n = 10
	}
	if !postgres && n > 4 {
		n = 4 // SQLite has one writer; more connections only queue on its lock
	}
	sqlDB.SetMaxOpenConns(n)
	sqlDB.SetMaxIdleConns(n)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return &Store{db: db, postgres: postgres, counter: c}, nil
}

func postgresOpen(dsn string) gorm.Dialector {
	return postgres.New(postgres.Config{DSN: dsn})
}

// Close closes the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return unavailable(sqlDB.PingContext(ctx))
}

// IsPostgres reports the dialect.
func (s *Store) IsPostgres() bool { return s.postgres }

// SQLDB returns the connection pool under the store. It exists for
// storage/volume, the load driver's raw bulk seeding; everything else goes
// through the Store's methods (internal/archtest fails when a package
// outside storage/ calls it).
func (s *Store) SQLDB() (*sql.DB, error) { return s.db.DB() }

// translate maps GORM and driver errors onto the package's errors. Most
// database failures arrive marked ErrUnavailable already (outageDialector);
// those of a raw Row's Scan are marked here.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey), strings.Contains(err.Error(), "UNIQUE constraint failed"):
		return fmt.Errorf("%w: %v", ErrConflict, err)
	}
	return unavailable(err)
}

// wantOne turns the result of a conditional UPDATE into ErrAlreadyUsed when
// it changed no row.
func wantOne(tx *gorm.DB) error {
	if tx.Error != nil {
		return translate(tx.Error)
	}
	if tx.RowsAffected != 1 {
		return ErrAlreadyUsed
	}
	return nil
}

// utcPool hands SQLite every time argument in UTC. SQLite keeps times as
// text and compares them as text, so a time in another zone (a caller's
// time.Now() in local time) would be compared by wall clock: an expiry
// written at UTC+2 would hold two hours too long. PostgreSQL's timestamptz
// compares instants and needs no help.
type utcPool struct{ *sql.DB }

func (p utcPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.DB.ExecContext(ctx, query, utcArgs(args)...)
}

func (p utcPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.DB.QueryContext(ctx, query, utcArgs(args)...)
}

func (p utcPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.DB.QueryRowContext(ctx, query, utcArgs(args)...)
}

// BeginTx keeps transactions in UTC too (gorm.ConnPoolBeginner).
func (p utcPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := p.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &utcTx{tx}, nil
}

// GetDBConn lets gorm's DB() find the pool (gorm.GetDBConnector).
func (p utcPool) GetDBConn() (*sql.DB, error) { return p.DB, nil }

// utcTx is a transaction of a utcPool; a pointer, because gorm checks
// committers with reflect's IsNil.
type utcTx struct{ *sql.Tx }

func (t *utcTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, query, utcArgs(args)...)
}

func (t *utcTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, query, utcArgs(args)...)
}

func (t *utcTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, query, utcArgs(args)...)
}

// utcArgs returns args with every time.Time (or *time.Time) in UTC, copying
// only when something changes.
func utcArgs(args []any) []any {
	var out []any
	for i, a := range args {
		var t time.Time
		switch v := a.(type) {
		case time.Time:
			t = v
		case *time.Time:
			if v == nil {
				continue
			}
			t = *v
		default:
			continue
		}
		if out == nil {
			out = slices.Clone(args)
		}
		out[i] = t.UTC()
	}
	if out == nil {
		return args
	}
	return out
}
