package i18n_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/twofold-id/twofold/i18n"
	"github.com/twofold-id/twofold/web"
)

// Every catalogue has exactly the keys English has: a missing key would
// show English on a translated page, an extra one is a typo or a leftover.
func TestCataloguesHaveTheSameKeys(t *testing.T) {
	b := i18n.Default()
	if len(b.Tags()) < 4 {
		t.Fatalf("catalogues: %v, want at least en, de, fr, es", b.Tags())
	}
	source := b.Keys(i18n.Source)
	for _, tag := range b.Tags()[1:] {
		keys := b.Keys(tag)
		for _, k := range source {
			if _, ok := slices.BinarySearch(keys, k); !ok {
				t.Errorf("web/locales: the %s catalogue lacks %q", tag, k)
			}
		}
		for _, k := range keys {
			if _, ok := slices.BinarySearch(source, k); !ok {
				t.Errorf("web/locales: the %s catalogue has %q, which English lacks", tag, k)
			}
		}
	}
}

// placeholder is a value a message is given ({{.Wait}}).
var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// A translation uses the values its English message is given, no more
// and no fewer (a lost {{.Code}} would send a text without the code), and
// has the plural forms its language needs when English has some.
func TestTranslationsKeepPlaceholders(t *testing.T) {
	files, err := fs.Glob(web.FS, "locales/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	parsed := map[string]map[string]*goi18n.Message{}
	for _, f := range files {
		buf, _ := fs.ReadFile(web.FS, f)
		mf, err := goi18n.ParseMessageFileBytes(buf, f, map[string]goi18n.UnmarshalFunc{"toml": toml.Unmarshal})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		tag, err := i18n.FileTag(f)
		if err != nil {
			t.Fatal(err)
		}
		if mf.Tag != tag {
			t.Fatalf("%s: go-i18n reads its language as %s, we read %s", f, mf.Tag, tag)
		}
		if parsed[mf.Tag.String()] == nil {
			parsed[mf.Tag.String()] = map[string]*goi18n.Message{}
		}
		for _, m := range mf.Messages {
			parsed[mf.Tag.String()][m.ID] = m
		}
	}
	names := func(m *goi18n.Message) []string {
		var out []string
		for _, s := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
			for _, g := range placeholder.FindAllStringSubmatch(s, -1) {
				if g[1] != "Count" && !slices.Contains(out, g[1]) {
					out = append(out, g[1])
				}
			}
		}
		slices.Sort(out)
		return out
	}
	for id, en := range parsed["en"] {
		for tag, msgs := range parsed {
			m, ok := msgs[id]
			if tag == "en" || !ok {
				continue // the key test reports it
			}
			if got, want := names(m), names(en); !slices.Equal(got, want) {
				t.Errorf("%s %s uses %v, English %v", tag, id, got, want)
			}
			if en.One != "" && m.Other == "" {
				t.Errorf("%s %s has no plural form other", tag, id)
			}
			if m.Other == "" && m.One == "" {
				t.Errorf("%s %s is empty", tag, id)
			}
		}
	}
}

// key is how a template names a message: T or TH and a literal id.
var key = regexp.MustCompile(`\bTH? "([^"]+)"`)

// Every message a template names is in the English catalogue.
func TestTemplatesNameKnownMessages(t *testing.T) {
	b := i18n.Default()
	seen := 0
	err := fs.WalkDir(web.FS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(web.FS, path)
		if err != nil {
			return err
		}
		for _, m := range key.FindAllStringSubmatch(string(src), -1) {
			seen++
			if !b.Has(m[1]) {
				t.Errorf("%s names %q, which en.toml lacks", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 100 {
		t.Errorf("found %d messages in the templates: is the pattern still right?", seen)
	}
}

// goKey is a string literal that reads as a message id: dotted lower-case
// words.
var goKey = regexp.MustCompile(`^[a-z_]+(\.[a-z_]+)+$`)

// Every literal in the Go code of the pages and messages that looks like
// a message id of a catalogue group (code.title, error.locked) is in the
// English catalogue: a typo there would show its id on a page.
func TestGoNamesKnownMessages(t *testing.T) {
	b := i18n.Default()
	groups := map[string]bool{}
	for _, k := range b.Keys(i18n.Source) {
		groups[strings.SplitN(k, ".", 2)[0]] = true
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, dir := range []string{"login", "account", "op", "demo"} {
		if err := walkGo(filepath.Join(root, dir), func(path string, lit string) {
			seen++
			if !b.Has(lit) {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s names %q, which en.toml lacks", rel, lit)
			}
		}, groups); err != nil {
			t.Fatal(err)
		}
	}
	if seen < 50 {
		t.Errorf("found %d message ids in the Go code: is the pattern still right?", seen)
	}
}

// walkGo calls found with every string literal of the production Go files
// under root that reads as a message id of one of groups (file names,
// "code.html", excepted).
func walkGo(root string, found func(path, lit string), groups map[string]bool) error {
	return filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !goKey.MatchString(s) || !groups[strings.SplitN(s, ".", 2)[0]] ||
				fileName.MatchString(s) {
				return true
			}
			found(path, s)
			return true
		})
		return nil
	})
}

// fileName is a literal that names a file, not a message.
var fileName = regexp.MustCompile(`\.(html|txt|go|toml|js|css)$`)

// Plural forms follow each language's CLDR rule, and a message within a
// message is said in the same language.
func TestLocalize(t *testing.T) {
	b := i18n.Default()
	fr, de := language.French, language.German
	for _, tc := range []struct {
		tag  language.Tag
		m    i18n.Message
		want string
	}{
		{i18n.Source, i18n.M("wait.seconds", 1), "1 second"},
		{i18n.Source, i18n.M("wait.seconds", 0), "0 seconds"},
		{fr, i18n.M("wait.seconds", 0), "0 seconde"}, // French says 0 and 1 in the singular
		{fr, i18n.M("wait.seconds", 2), "2 secondes"},
		{de, i18n.M("error.account_wait", "Wait", i18n.M("wait.minutes", 3)), "Zu viele fehlgeschlagene Versuche für Ihr Konto. Versuchen Sie es in 3 Minuten erneut."},
		{language.MustParse("de-AT"), i18n.M("common.continue"), "Weiter"},
		{i18n.Source, i18n.M("no.such.key"), "no.such.key"},
		{i18n.Source, i18n.Message{}, ""},
	} {
		tag, _ := b.Supported(tc.tag.String())
		if got := b.Localize(tag, tc.m); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.tag, tc.m, got, tc.want)
		}
	}
}

// A catalogue that does not parse, or is named by no language tag, fails
// the load with its name.
func TestLoadRefusesBrokenCatalogues(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"no English":  {"de.toml": "[a]\nb = \"c\"\n"},
		"bad TOML":    {"en.toml": "[a\n"},
		"bad name":    {"en.toml": "[a]\nb = \"c\"\n", "xx-not-a-tag-at-all.toml": "[a]\nb = \"c\"\n"},
		"mixed forms": {"en.toml": "[a]\nfew = \"c\"\nd = \"e\"\n"},
		"id twice":    {"en.toml": "[a]\nother = \"c\"\n", "console.en.toml": "[a]\nother = \"d\"\n"},
	} {
		dir := t.TempDir()
		for f, src := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := i18n.Load(os.DirFS(dir), "."); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// A language's catalogue may be split into <area>.<tag>.toml files; they
// load as one.
func TestSplitCataloguesLoadAsOne(t *testing.T) {
	dir := t.TempDir()
	for f, src := range map[string]string{
		"en.toml": "[language]\nname = \"English\"\n[a]\nother = \"A\"\n", "console.en.toml": "[b]\nother = \"B\"\n",
		"de.toml": "[language]\nname = \"Deutsch\"\n[a]\nother = \"A-de\"\n", "console.de.toml": "[b]\nother = \"B-de\"\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b, err := i18n.Load(os.DirFS(dir), ".")
	if err != nil {
		t.Fatal(err)
	}
	de, _ := b.Supported("de")
	if got := b.Keys(de); !slices.Equal(got, []string{"a", "b", "language.name"}) {
		t.Errorf("de keys = %v", got)
	}
	if got := b.Text(de, "b"); got != "B-de" {
		t.Errorf("b in de = %q, want B-de", got)
	}
}

// What a page costs in words: choosing its language and rendering it.
func BenchmarkChoose(b *testing.B) {
	bundle := i18n.Default()
	r := httptest.NewRequest(http.MethodGet, "/login", nil)
	r.Header.Set("Accept-Language", "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5")
	for b.Loop() {
		bundle.Choose(r)
	}
}

func BenchmarkRenderPasswordPage(b *testing.B) {
	pages, err := i18n.Default().ParsePages(web.FS, "templates/*.html")
	if err != nil {
		b.Fatal(err)
	}
	data := map[string]any{"Title": "password.title", "ClientName": "Example", "AuthRequestID": "abc", "Username": "alice",
		"Error": "Wrong username or password."}
	for _, tag := range []language.Tag{language.English, language.German} {
		b.Run(tag.String(), func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := pages.Execute(&buf, tag, "password.html", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
