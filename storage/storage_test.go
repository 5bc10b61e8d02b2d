package storage_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/testkit"
	"github.com/twofold-id/twofold/storage"
	"github.com/twofold-id/twofold/storage/storagetest"
)

// TestSQLite runs the conformance suite on a SQLite file per subtest.
func TestSQLite(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) *storage.Store {
		return open(t, "sqlite:"+filepath.Join(t.TempDir(), "twofold.db"))
	})
}

// TestPostgres runs the conformance suite on a fresh PostgreSQL database per
// subtest; it skips when TWOFOLD_TEST_POSTGRES_URL is unset.
func TestPostgres(t *testing.T) {
	testkit.PostgresURL(t) // skip early, before any subtest
	storagetest.Run(t, func(t *testing.T) *storage.Store {
		return open(t, testkit.PostgresURL(t))
	})
}

// TestMigrationPathPostgres carries rows written at every schema version to
// the newest one on PostgreSQL (SQLite runs it in migrate_test.go).
func TestMigrationPathPostgres(t *testing.T) {
	storage.MigrationPathTest(t, open(t, testkit.PostgresURL(t)))
}

func open(t *testing.T, url string) *storage.Store {
	t.Helper()
	s, err := storage.Open(url, storage.Options{})
	if err != nil {
		t.Fatalf("Open(%q): %v", url, err)
	}
	// Registered after testkit's drop, so it runs before it.
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestOpenRejectsUnknownURLs(t *testing.T) {
	for _, url := range []string{"mysql://localhost/db", "sqlite:", "", "/tmp/x.db"} {
		if s, err := storage.Open(url, storage.Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", url)
		} else if !strings.Contains(err.Error(), "database.url") {
			t.Errorf("Open(%q) = %v; want an error naming database.url", url, err)
		}
	}
}

// TestGormStaysInStorage fails when a package outside storage/ imports GORM
// or one of its drivers: callers use *storage.Store and its errors only.
func TestGormStaysInStorage(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || rel == "storage" || strings.HasPrefix(rel, "storage/") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "gorm.io/gorm" || strings.HasPrefix(p, "gorm.io/") {
				t.Errorf("%s imports %s: GORM stays inside storage/", rel, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// moduleRoot finds the directory holding go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}
