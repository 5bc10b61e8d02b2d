package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// ErrUnavailable wraps every failure of the database itself: it is
// unreachable, restarting, closed, out of connections, space or time, or it
// refused to serve. Callers answer it with "try again shortly" (HTTP 503
// with Retry-After), never as the caller's fault: a client that is told its
// code is invalid throws the code away. The original error stays in the
// chain for the log.
var ErrUnavailable = errors.New("database unavailable")

// RetryAfter is how long callers suggest waiting after ErrUnavailable
// (the Retry-After of their 503): about a database failover.
const RetryAfter = 5 * time.Second

// unavailable marks err with ErrUnavailable when it is a failure of the
// database rather than an answer about the data (not found, a duplicate or
// another constraint) or a mistake in the query (GORM's own checks, SQL
// errors of the statement). A caller that went away (context.Canceled) is
// not the database's failure either.
func unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !isOutage(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// gormMistakes are GORM's own errors: answers about the data, or checks
// made before anything is sent. None means the database failed.
var gormMistakes = []error{
	gorm.ErrRecordNotFound, gorm.ErrDuplicatedKey, gorm.ErrForeignKeyViolated, gorm.ErrCheckConstraintViolated,
	gorm.ErrInvalidTransaction, gorm.ErrNotImplemented, gorm.ErrMissingWhereClause, gorm.ErrUnsupportedRelation,
	gorm.ErrPrimaryKeyRequired, gorm.ErrModelValueRequired, gorm.ErrModelAccessibleFieldsRequired,
	gorm.ErrSubQueryRequired, gorm.ErrInvalidData, gorm.ErrUnsupportedDriver, gorm.ErrRegistered,
	gorm.ErrInvalidField, gorm.ErrEmptySlice, gorm.ErrDryRunModeUnsupported, gorm.ErrInvalidDB,
	gorm.ErrInvalidValue, gorm.ErrInvalidValueOfLength, gorm.ErrPreloadNotAllowed,
}

// isOutage reports whether err is the database failing. What the server
// answered is judged by its code; anything else from the driver (a refused
// or broken connection, a timeout, a closed pool) is an outage.
func isOutage(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	for _, m := range gormMistakes {
		if errors.Is(err, m) {
			return false
		}
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pgOutage(pg.Code)
	}
	var lite interface{ Code() int } // glebarez/go-sqlite's *Error
	if errors.As(err, &lite) {
		return sqliteOutage(lite.Code())
	}
	return !strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// pgOutage reports whether a PostgreSQL SQLSTATE means the server cannot
// serve now, rather than that the statement or its data is wrong (classes
// 22 data exception, 23 integrity constraint, 42 syntax or access rule).
func pgOutage(code string) bool {
	if code == "42501" { // insufficient_privilege: access was revoked
		return true
	}
	switch code[:min(2, len(code))] {
	case "08", // connection exception
		"28", // invalid authorization (password changed, role dropped)
		"3D", // invalid catalog name: the database is gone
		"40", // transaction rollback: serialization failure, deadlock
		"53", // insufficient resources: too many connections, disk full
		"55", // object not in prerequisite state: lock not available, database not accepting connections
		"57", // operator intervention: shutdown, cannot connect now, statement timeout
		"58", // system error: I/O
		"XX": // internal error
		return true
	}
	return false
}

// sqliteOutage reports whether an SQLite result code (the primary code, the
// low byte) means the file cannot be used now rather than that the
// statement is wrong (SQLITE_ERROR, CONSTRAINT, MISMATCH, RANGE, TOOBIG).
func sqliteOutage(code int) bool {
	switch code & 0xff {
	case 1, 18, 19, 20, 25: // ERROR, TOOBIG, CONSTRAINT, MISMATCH, RANGE
		return false
	}
	return true // BUSY, LOCKED, NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB, …
}

// outageDialector marks, through GORM's error translation, every database
// failure of every statement, transaction begin and commit with
// ErrUnavailable, after the driver's own translation (duplicate keys). It
// forwards every optional interface GORM (v1.31) looks for on a Dialector:
// Apply, ErrorTranslator and SavePointerDialectorInterface.
type outageDialector struct{ gorm.Dialector }

// Translate implements gorm.ErrorTranslator.
func (d outageDialector) Translate(err error) error {
	if t, ok := d.Dialector.(gorm.ErrorTranslator); ok {
		err = t.Translate(err)
	}
	return unavailable(err)
}

// Apply passes the driver's defaults through (gorm.Open looks for it).
func (d outageDialector) Apply(c *gorm.Config) error {
	if a, ok := d.Dialector.(interface{ Apply(*gorm.Config) error }); ok {
		return a.Apply(c)
	}
	return nil
}

// SavePoint and RollbackTo pass nested transactions through
// (gorm.SavePointerDialectorInterface); both drivers implement them.
func (d outageDialector) SavePoint(tx *gorm.DB, name string) error {
	return d.Dialector.(gorm.SavePointerDialectorInterface).SavePoint(tx, name)
}

func (d outageDialector) RollbackTo(tx *gorm.DB, name string) error {
	return d.Dialector.(gorm.SavePointerDialectorInterface).RollbackTo(tx, name)
}
