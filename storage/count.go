package storage

import (
	"context"
	"sync/atomic"

	"gorm.io/gorm"
)

// counter counts the statements a Store sends to the database, so that a
// test notices a change that adds round trips to a flow. It costs one
// atomic load per statement while off, and production never turns it on.
// It stays in the store, opt-in, because it is a GORM callback: moving it
// out would mean handing the *gorm.DB out of storage/, a larger hole than
// the counter itself.
type counter struct {
	on atomic.Bool
	n  atomic.Int64
}

// uncountedKey marks contexts whose statements the counter skips.
type uncountedKey struct{}

// WithoutCounting returns a context whose statements Queries leaves out:
// background work (purges, key rotation, back-channel polls) that would
// otherwise land at random in a count of what requests do.
func WithoutCounting(ctx context.Context) context.Context {
	return context.WithValue(ctx, uncountedKey{}, true)
}

// register hooks the counter after the last callback of each of GORM's
// processors, so every statement is counted once whether it failed or not.
func (c *counter) register(db *gorm.DB) error {
	cb := db.Callback()
	for name, p := range map[string]interface {
		Register(string, func(*gorm.DB)) error
	}{
		"create": cb.Create(), "query": cb.Query(), "update": cb.Update(),
		"delete": cb.Delete(), "row": cb.Row(), "raw": cb.Raw(),
	} {
		if err := p.Register("twofold:count_"+name, c.count); err != nil {
			return err
		}
	}
	return nil
}

func (c *counter) count(db *gorm.DB) {
	if !c.on.Load() {
		return
	}
	st := db.Statement
	if db.DryRun || st.SQL.Len() == 0 { // nothing was sent
		return
	}
	if st.Context != nil && st.Context.Value(uncountedKey{}) != nil {
		return
	}
	c.n.Add(1)
}

// CountQueries starts counting statements (see Queries); it is safe to
// call at any time, also while the store is in use.
func (s *Store) CountQueries() { s.counter.on.Store(true) }

// Queries returns the number of statements (queries, inserts, updates,
// deletes, raw statements) sent since counting started, whether they
// succeeded or not; 0 when counting is off. BEGIN and COMMIT are not
// counted. Take differences around the work to measure.
func (s *Store) Queries() int64 { return s.counter.n.Load() }
