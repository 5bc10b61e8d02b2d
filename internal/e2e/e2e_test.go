// Package e2e drives a running twofold over HTTPS with a real relying-party
// library and a cookie-jar browser: no mocks of our own code. Every
// scenario runs on SQLite and, when TWOFOLD_TEST_POSTGRES_URL is set, on
// PostgreSQL.
package e2e

import (
	"testing"

	"github.com/twofold-id/twofold/internal/testkit"
)

// databases runs fn once per database backend.
func databases(t *testing.T, fn func(t *testing.T, o testkit.ServerOptions)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, testkit.ServerOptions{})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, testkit.ServerOptions{DatabaseURL: testkit.PostgresURL(t)})
	})
}
