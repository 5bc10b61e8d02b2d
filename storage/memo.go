package storage

import (
	"context"
	"errors"
	"slices"
	"sync"

	"gorm.io/gorm"
)

// A memo keeps the records one request has read, so that the several
// places that load the same auth request, user, client or policies for one
// request (zitadel/oidc's checks, the login flow's steps, the policy
// resolution) cost one query. It lives in the request's context and dies
// with the request: nothing read is kept past it, so every replica sees a
// change on the next request. Any write through the store with that
// context forgets what was read of the written table (everything, for raw
// SQL), so a request always reads its own writes.
type memo struct {
	mu   sync.Mutex
	vals map[memoKey]any
}

type memoKey struct{ table, key string }

type memoCtxKey struct{}

// WithMemo returns a context whose reads the store remembers until a write
// to the same table; give it to one request, never to a long-lived job.
func WithMemo(ctx context.Context) context.Context {
	if ctx.Value(memoCtxKey{}) != nil {
		return ctx
	}
	return context.WithValue(ctx, memoCtxKey{}, &memo{vals: map[memoKey]any{}})
}

func memoOf(ctx context.Context) *memo {
	if ctx == nil {
		return nil
	}
	m, _ := ctx.Value(memoCtxKey{}).(*memo)
	return m
}

// missing remembers that a record was not there.
type missing struct{}

// rememberOne loads a record once per memo, or learns once that it is not
// there; callers get their own copy.
func rememberOne[T any](ctx context.Context, table, key string, load func() (*T, error)) (*T, error) {
	m := memoOf(ctx)
	if m == nil {
		return load()
	}
	k := memoKey{table, key}
	m.mu.Lock()
	val := m.vals[k]
	m.mu.Unlock()
	switch v := val.(type) {
	case T:
		return &v, nil
	case missing:
		return nil, ErrNotFound
	}
	rec, err := load()
	if errors.Is(err, ErrNotFound) {
		m.mu.Lock()
		m.vals[k] = missing{}
		m.mu.Unlock()
	}
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.vals[k] = *rec
	m.mu.Unlock()
	out := *rec
	return &out, nil
}

// rememberAll is rememberOne for a list.
func rememberAll[T any](ctx context.Context, table, key string, load func() ([]T, error)) ([]T, error) {
	m := memoOf(ctx)
	if m == nil {
		return load()
	}
	k := memoKey{table, key}
	m.mu.Lock()
	v, ok := m.vals[k].([]T)
	m.mu.Unlock()
	if ok {
		return slices.Clone(v), nil
	}
	recs, err := load()
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.vals[k] = slices.Clone(recs)
	m.mu.Unlock()
	return recs, nil
}

// forget drops what was read of table, or everything when table is "".
func (m *memo) forget(table string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if table == "" {
		clear(m.vals)
		return
	}
	for k := range m.vals {
		if k.table == table {
			delete(m.vals, k)
		}
	}
}

// registerMemo makes every write forget the memo of its context. Raw SQL
// run with Row (an UPSERT … RETURNING) is a write too, so it forgets as
// well, whatever it does.
func registerMemo(db *gorm.DB) error {
	cb := db.Callback()
	forget := func(db *gorm.DB) {
		if m := memoOf(db.Statement.Context); m != nil {
			m.forget(db.Statement.Table)
		}
	}
	for name, p := range map[string]interface {
		Register(string, func(*gorm.DB)) error
	}{"create": cb.Create(), "update": cb.Update(), "delete": cb.Delete(), "raw": cb.Raw(), "row": cb.Row()} {
		if err := p.Register("twofold:memo_forget_"+name, forget); err != nil {
			return err
		}
	}
	return nil
}
