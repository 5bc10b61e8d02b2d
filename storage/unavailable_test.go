package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// liteErr stands in for glebarez/go-sqlite's *Error, which has a Code
// method and no exported constructor.
type liteErr int

func (e liteErr) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e liteErr) Code() int     { return int(e) }

func TestUnavailableClassifies(t *testing.T) {
	pg := func(code string) error { return &pgconn.PgError{Code: code, Message: "x"} }
	tests := []struct {
		name   string
		err    error
		outage bool
	}{
		{name: "connection refused", err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, outage: true},
		{name: "closed pool", err: errors.New("sql: database is closed"), outage: true},
		{name: "bad connection", err: driver.ErrBadConn, outage: true},
		{name: "statement timeout by context", err: context.DeadlineExceeded, outage: true},
		{name: "pg admin shutdown", err: pg("57P01"), outage: true},
		{name: "pg statement timeout", err: pg("57014"), outage: true},
		{name: "pg database dropped", err: pg("3D000"), outage: true},
		{name: "pg not accepting connections", err: pg("55000"), outage: true},
		{name: "pg too many connections", err: pg("53300"), outage: true},
		{name: "pg serialization failure", err: pg("40001"), outage: true},
		{name: "pg connection failure", err: pg("08006"), outage: true},
		{name: "pg privilege revoked", err: pg("42501"), outage: true},
		{name: "pg password changed", err: pg("28P01"), outage: true},
		{name: "pg invalid UTF-8 (the data)", err: pg("22021")},
		{name: "pg unique violation", err: pg("23505")},
		{name: "pg undefined table (a bug)", err: pg("42P01")},
		{name: "sqlite busy", err: liteErr(5), outage: true},
		{name: "sqlite disk I/O", err: liteErr(10 | 3<<8), outage: true},
		{name: "sqlite cannot open", err: liteErr(14), outage: true},
		{name: "sqlite read-only", err: liteErr(8), outage: true},
		{name: "sqlite full", err: liteErr(13), outage: true},
		{name: "sqlite unique", err: liteErr(19 | 8<<8)},
		{name: "sqlite syntax (a bug)", err: liteErr(1)},
		{name: "sqlite unique by message", err: errors.New("constraint failed: UNIQUE constraint failed: clients.id (2067)")},
		{name: "not found", err: gorm.ErrRecordNotFound},
		{name: "duplicate", err: gorm.ErrDuplicatedKey},
		{name: "gorm misuse", err: gorm.ErrMissingWhereClause},
		{name: "caller went away", err: context.Canceled},
		{name: "wrapped outage", err: fmt.Errorf("save: %w", pg("57P01")), outage: true},
		{name: "nil", err: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unavailable(tt.err)
			if errors.Is(got, ErrUnavailable) != tt.outage {
				t.Errorf("unavailable(%v) = %v; outage %v, want %v", tt.err, got, !tt.outage, tt.outage)
			}
			if tt.err != nil && !errors.Is(got, tt.err) {
				t.Errorf("unavailable(%v) = %v lost the original error", tt.err, got)
			}
			if again := unavailable(got); tt.outage && again != got {
				t.Errorf("marking twice changed %v to %v", got, again)
			}
		})
	}
}
