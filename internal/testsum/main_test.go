package main

import (
	"strings"
	"testing"
	"time"
)

// TestSummaryListsSkips feeds go test -json output of a package with a
// passing, a skipped and a failing test, and a package without tests.
func TestSummaryListsSkips(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"ex/a","Test":"TestOK"}`,
		`{"Action":"pass","Package":"ex/a","Test":"TestOK","Elapsed":0.01}`,
		`{"Action":"run","Package":"ex/a","Test":"TestPostgres"}`,
		`{"Action":"output","Package":"ex/a","Test":"TestPostgres","Output":"=== RUN   TestPostgres\n"}`,
		`{"Action":"output","Package":"ex/a","Test":"TestPostgres","Output":"    pg_test.go:12: TWOFOLD_TEST_POSTGRES_URL not set; skipping PostgreSQL test\n"}`,
		`{"Action":"output","Package":"ex/a","Test":"TestPostgres","Output":"--- SKIP: TestPostgres (0.00s)\n"}`,
		`{"Action":"skip","Package":"ex/a","Test":"TestPostgres","Elapsed":0}`,
		`{"Action":"output","Package":"ex/a","Test":"TestBroken","Output":"    x_test.go:3: got 1, want 2\n"}`,
		`{"Action":"fail","Package":"ex/a","Test":"TestBroken","Elapsed":0}`,
		`{"Action":"fail","Package":"ex/a","Elapsed":1.5}`,
		`{"Action":"skip","Package":"ex/b","Elapsed":0}`,
		`# ex/c`,
		`{"ImportPath":"ex/d [ex/d.test]","Action":"build-output","Output":"d/d.go:2:23: cannot use \"s\" as int value\n"}`,
		`{"ImportPath":"ex/d [ex/d.test]","Action":"build-fail"}`,
		`{"Action":"output","Package":"ex/d","Output":"FAIL\tex/d [build failed]\n"}`,
		`{"Action":"fail","Package":"ex/d","Elapsed":0,"FailedBuild":"ex/d [ex/d.test]"}`,
	}, "\n")
	var out strings.Builder
	s := newSummary(&out)
	s.read(strings.NewReader(in))
	s.finish(3 * time.Second)
	got := out.String()
	for _, want := range []string{
		"--- FAIL: ex/a TestBroken\n    x_test.go:3: got 1, want 2\n",
		"FAIL  ex/a  1.5s\n",
		"--    ex/b  (no tests)\n",
		"# ex/c\n",
		"d/d.go:2:23: cannot use \"s\" as int value\nFAIL\tex/d [build failed]\nFAIL  ex/d  0.0s\n",
		"Skipped tests (1): these did not run\n  SKIP  ex/a TestPostgres: TWOFOLD_TEST_POSTGRES_URL not set; skipping PostgreSQL test\n",
		"1 passed, 1 failed, 1 skipped in 3s\n  FAIL  ex/a TestBroken\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
