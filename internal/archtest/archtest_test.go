package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// module is our import path; below it is written "twofold/…".
const module = "github.com/twofold-id/twofold"

// floors places every package of ours. A package imports only packages on
// its own floor or below (the arrows point down); a new package must be
// given a floor here, which is the point: a newcomer places it once.
var floors = map[string]int{
	// 0: leaves, importing nothing of ours.
	"twofold/config": 0, "twofold/keyring": 0, "twofold/metrics": 0, "twofold/web": 0, "twofold/password": 0,
	"twofold/login/contact": 0, "twofold/login/otp": 0, "twofold/internal/loadtest/faketwilio": 0,
	"twofold/internal/testsum": 0, // the test command's summary: a tool over go test, importing nothing of ours
	// 1: the store, its conformance suite and the load driver's seeding.
	"twofold/storage": 1, "twofold/storage/storagetest": 1, "twofold/storage/volume": 1,
	// 1 too: the message catalogues, over web.
	"twofold/i18n": 1,
	// 2: the sign-in's parts.
	"twofold/login/policy": 2, "twofold/login/guard": 2, "twofold/login/sender": 2,
	// 3: the rooms: each mounts its own routes.
	"twofold/login": 3, "twofold/account": 3, "twofold/op": 3, "twofold/admin": 3, "twofold/demo": 3,
	// 4: wiring.
	"twofold/internal/server": 4,
	// 5: what starts a server: the load driver and the test harness.
	"twofold/internal/loadtest": 5, "twofold/internal/testkit": 5,
	// 6: the top: the binary, the end-to-end tests, this test.
	"twofold/cmd/twofold": 6, "twofold/internal/e2e": 6, "twofold/internal/archtest": 6,
}

// leaves import nothing of ours at all, not even another leaf.
var leaves = []string{"twofold/config", "twofold/keyring", "twofold/metrics", "twofold/web", "twofold/password",
	"twofold/login/contact", "twofold/login/otp", "twofold/internal/loadtest/faketwilio", "twofold/internal/testsum"}

// A rule forbids the imports of packages matching from to packages
// matching to, except to the targets in unless and from the importers in
// except. Patterns are import paths, "…/..." matching a path and everything
// below it. Rules look at the imports of production code; tests also at
// those of _test.go files; deep also through other packages (go list's
// Deps, production code only).
type rule struct {
	from, to string
	unless   []string
	except   []string
	tests    bool
	deep     bool
	why      string
}

var rules = []rule{
	{from: "twofold/storage/...", to: "net/http", deep: true,
		why: "storage imports no HTTP code"},
	{from: "twofold/storage/...", to: "twofold/...", unless: []string{"twofold/storage/...", "twofold/keyring", "twofold/config"}, deep: true,
		why: "storage is the lowest floor but the leaves: nothing above it"},
	{from: "twofold/login/...", to: "twofold/admin/...", tests: true, deep: true,
		why: "the sign-in does not reach into administration"},
	{from: "twofold/admin/...", to: "twofold/login", tests: true, deep: true,
		why: "administration does not reach into the sign-in (its parts below, policy and contact, are shared)"},
	{from: "twofold/login/...", to: "twofold/account/...", tests: true, deep: true,
		why: "the account pages use the sign-in's exported surface; the sign-in knows nothing of them"},
	{from: "twofold/account/...", to: "twofold/op/...", tests: true, deep: true,
		why: "the account pages know the provider only through the redemption they are given"},
	{from: "twofold/account/...", to: "twofold/admin/...", tests: true, deep: true,
		why: "the account pages do not reach into administration"},
	{from: "twofold/admin/...", to: "twofold/account/...", tests: true, deep: true,
		why: "administration does not reach into the account pages (the composition root names the built-in clients)"},
	{from: "twofold/op/...", to: "twofold/login/...", tests: true, deep: true,
		why: "the OIDC glue knows the sign-in only through the functions it is given"},
	{from: "twofold/op/...", to: "twofold/admin/...", tests: true, deep: true,
		why: "the OIDC glue does not reach into administration"},
	{from: "twofold/...", to: "twofold/cmd/...", tests: true,
		why: "nothing imports the commands"},
	{from: "twofold/...", to: "twofold/internal/loadtest", except: []string{"twofold/cmd/..."}, tests: true,
		why: "the load driver is twofold bench's alone"},
	{from: "twofold/...", to: "twofold/internal/server", except: []string{"twofold/cmd/...", "twofold/internal/loadtest", "twofold/internal/testkit"},
		why: "wiring is for the binary and what starts a server (the load driver, the test harness); tests may use it"},
	{from: "twofold/...", to: "twofold/internal/testkit/...",
		why: "test helpers are imported by _test.go files only, never linked into the binary"},
	{from: "twofold/cmd/...", to: "twofold/internal/testkit/...", deep: true,
		why: "no test helper is linked into the binary"},
	{from: "...", to: "gorm.io/...", except: []string{"twofold/storage/..."}, tests: true,
		why: "GORM stays inside storage"},
	{from: "twofold/...", to: "net/http/httptest", except: []string{"twofold/internal/testkit"},
		why: "net/http/httptest is for tests (testkit is test code)"},
	{from: "twofold/cmd/...", to: "net/http/httptest", deep: true,
		why: "the binary links no test server"},
}

// A sourceRule forbids what imports cannot show: a line matching pattern
// in the production files of the packages matching one of from (but none
// of except), and with tests also in their _test.go files.
type sourceRule struct {
	from, except []string
	pattern      *regexp.Regexp
	tests        bool
	why          string
}

var sourceRules = []sourceRule{
	{from: []string{"twofold/..."}, except: []string{"twofold/storage/..."}, pattern: regexp.MustCompile(`\.SQLDB\(`), tests: true,
		why: "the raw connection pool is for storage/volume's bulk seeding; everything else goes through the Store's methods"},
	{from: []string{"twofold/login/...", "twofold/account/...", "twofold/op/...", "twofold/admin/...", "twofold/demo/..."},
		pattern: regexp.MustCompile(`\.(Debug|Info|Warn|Error)\("`),
		why:     "request-path logging uses the *Context calls (ErrorContext…), so that the line carries request_id"},
}

// pkg is what go list says of one of our packages.
type pkg struct {
	ImportPath                string
	Dir                       string
	Imports, Deps             []string
	TestImports, XTestImports []string
	GoFiles                   []string
	TestGoFiles, XTestGoFiles []string
	Error                     *struct{ Err string }
}

func TestImportArrows(t *testing.T) {
	pkgs := goList(t)
	for _, p := range pkgs {
		if p.Error != nil { // an import cycle, say: the rules still run
			t.Errorf("%s: %s", p.ImportPath, p.Error.Err)
		}
		checkFloor(t, p)
		for _, r := range rules {
			for _, v := range r.violations(p) {
				t.Errorf("%s imports %s: %s", p.ImportPath, v, r.why)
			}
		}
		if slices.Contains(leaves, p.ImportPath) {
			for _, imp := range p.Imports {
				if match("twofold/...", imp) {
					t.Errorf("%s imports %s: a leaf imports nothing of ours", p.ImportPath, imp)
				}
			}
		}
	}
}

func TestSourceRules(t *testing.T) {
	for _, p := range goList(t) {
		for _, r := range sourceRules {
			matches := func(pattern string) bool { return match(pattern, p.ImportPath) }
			if !slices.ContainsFunc(r.from, matches) || slices.ContainsFunc(r.except, matches) {
				continue
			}
			files := slices.Clone(p.GoFiles)
			if r.tests {
				files = append(append(files, p.TestGoFiles...), p.XTestGoFiles...)
			}
			for _, f := range files {
				src, err := os.ReadFile(filepath.Join(p.Dir, f))
				if err != nil {
					t.Fatal(err)
				}
				for i, line := range strings.Split(string(src), "\n") {
					if m := r.pattern.FindString(line); m != "" {
						t.Errorf("%s/%s:%d: %s…: %s", p.ImportPath, f, i+1, m, r.why)
					}
				}
			}
		}
	}
}

// checkFloor fails an import that goes up a floor, and a package with none.
func checkFloor(t *testing.T, p pkg) {
	t.Helper()
	floor, ok := floors[p.ImportPath]
	if !ok {
		t.Errorf("%s has no floor: place it in floors", p.ImportPath)
		return
	}
	for _, imp := range p.Imports {
		if f, ours := floors[imp]; ours && f > floor {
			t.Errorf("%s (floor %d) imports %s (floor %d): arrows point down", p.ImportPath, floor, imp, f)
		}
	}
}

// violations lists the imports of p that r forbids.
func (r rule) violations(p pkg) []string {
	if !match(r.from, p.ImportPath) || r.allowed(p.ImportPath) {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	check := func(imps []string, how string) {
		for _, imp := range imps {
			if imp == p.ImportPath || seen[imp] || !r.forbids(imp) {
				continue
			}
			seen[imp] = true
			out = append(out, imp+how)
		}
	}
	check(p.Imports, "")
	if r.tests {
		check(p.TestImports, " (in a test)")
		check(p.XTestImports, " (in a test)")
	}
	if r.deep {
		check(p.Deps, " (indirectly)")
	}
	return out
}

func (r rule) forbids(imp string) bool {
	return match(r.to, imp) && !slices.ContainsFunc(r.unless, func(u string) bool { return match(u, imp) })
}

func (r rule) allowed(importer string) bool {
	return slices.ContainsFunc(r.except, func(e string) bool { return match(e, importer) })
}

// match reports whether path matches pattern: equal, or below a "…/..."
// pattern's root; "..." alone matches everything.
func match(pattern, path string) bool {
	if pattern == "..." {
		return true
	}
	if root, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == root || strings.HasPrefix(path, root+"/")
	}
	return path == pattern
}

// goList returns our packages as go list sees them, our import paths
// shortened to "twofold/…".
func goList(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		p.ImportPath = short(p.ImportPath)
		for _, l := range []*[]string{&p.Imports, &p.Deps, &p.TestImports, &p.XTestImports} {
			for i := range *l {
				(*l)[i] = short((*l)[i])
			}
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func short(path string) string {
	if rest, ok := strings.CutPrefix(path, module); ok {
		return "twofold" + rest
	}
	return path
}
