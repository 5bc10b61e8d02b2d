package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersion: `version` and `--version` print the build information, in
// text and with --json; a build with VCS data shows the commit.
func TestVersion(t *testing.T) {
	c := newEmptyCLI(t)
	for _, args := range [][]string{{"version"}, {"--version"}, {"--dev", "--version"}} {
		out := c.ok("", args...)
		if !strings.HasPrefix(out, "twofold ") || !strings.Contains(out, runtime.Version()) {
			t.Errorf("twofold %s = %q, want twofold VERSION … %s", strings.Join(args, " "), out, runtime.Version())
		}
	}
	for _, args := range [][]string{{"version", "--json"}, {"--json", "--version"}} {
		var b buildInfo
		out := c.ok("", args...)
		if err := json.Unmarshal([]byte(out), &b); err != nil || b.Version == "" || b.Go == "" {
			t.Errorf("twofold %s = %q (%v), want JSON with version and go", strings.Join(args, " "), out, err)
		}
	}
	if entries, _ := os.ReadDir(c.dir); len(entries) != 0 {
		t.Errorf("version wrote %v into the data directory", entries)
	}

	saved := readBuildInfo
	t.Cleanup(func() { readBuildInfo = saved })
	readBuildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-03T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"}}}, true
	}
	if out := c.ok("", "version"); out != "twofold v1.2.3 (0123456789ab, 2026-12-03T10:00:00Z, modified) go1.99.1\n" {
		t.Errorf("version = %q", out)
	}
	var b buildInfo
	if err := json.Unmarshal([]byte(c.ok("", "--json", "version")), &b); err != nil ||
		b != (buildInfo{Version: "v1.2.3", Revision: "0123456789abcdef0123", Time: "2026-12-03T10:00:00Z", Modified: true, Go: "go1.99.1"}) {
		t.Errorf("version --json = %+v (%v)", b, err)
	}
}

// TestAdminCommandsDoNotInventADatabase: in a folder without a database,
// `user list --dev` (and every administrative command) fails naming the
// file and how to create it, and writes nothing; migrate creates it.
func TestAdminCommandsDoNotInventADatabase(t *testing.T) {
	t.Parallel()
	c := newEmptyCLI(t)
	c.env = []string{"TWOFOLD_DATA_DIR=" + c.dir, "TWOFOLD_PASSWORD_MEMORY_KIB=64", "TWOFOLD_PASSWORD_ITERATIONS=1"}
	db := filepath.Join(c.dir, "twofold.db")
	for _, args := range [][]string{{"user", "list", "--dev"}, {"--dev", "client", "list"}, {"--dev", "policy", "show"},
		{"--dev", "keys", "list"}, {"--dev", "audit", "list"}, {"--dev", "session", "list"}} {
		code, out, errOut := c.run("", args...)
		if code != 1 || out != "" || !strings.Contains(errOut, "no database at "+db) ||
			!strings.Contains(errOut, `run "twofold serve --dev" in this directory first`) || !strings.Contains(errOut, "twofold migrate") {
			t.Errorf("twofold %s in an empty folder: exit %d, stdout %q, stderr %q; want exit 1 naming %s and how to create it",
				strings.Join(args, " "), code, out, errOut, db)
		}
	}
	if entries, _ := os.ReadDir(c.dir); len(entries) != 0 {
		t.Fatalf("the refused commands wrote %v", entries)
	}
	code, _, errOut := c.run("", "--dev", "--json", "user", "list")
	var e errorObject
	if err := json.Unmarshal([]byte(errOut), &e); code != 1 || err != nil || !strings.Contains(e.Error, db) {
		t.Errorf("user list --json without a database: exit %d, stderr %q (%v)", code, errOut, err)
	}
	c.ok("", "--dev", "migrate")
	if out := c.ok("", "--dev", "--json", "user", "list"); strings.TrimSpace(out) != "[]" {
		t.Errorf("user list after migrate = %q, want []", out)
	}
}

// TestServeBindsBeforeItWrites: a port in use fails serve without creating
// the database, the development key or anything else.
func TestServeBindsBeforeItWrites(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	c := newEmptyCLI(t, "TWOFOLD_LISTEN="+busy.Addr().String())
	c.fails("", []string{"serve"}, "listen: ", "address already in use")
	if entries, _ := os.ReadDir(c.dir); len(entries) != 0 {
		t.Errorf("serve on a busy port wrote %v", entries)
	}
	// The metrics listener is bound before anything is written too.
	c = newEmptyCLI(t, "TWOFOLD_LISTEN=127.0.0.1:0", "TWOFOLD_METRICS_ENABLED=true", "TWOFOLD_METRICS_LISTEN="+busy.Addr().String())
	c.fails("", []string{"serve"}, "metrics.listen: ", "address already in use")
	if entries, _ := os.ReadDir(c.dir); len(entries) != 0 {
		t.Errorf("serve on a busy metrics port wrote %v", entries)
	}
	// A free port: serve creates the database and says where it is.
	c = newEmptyCLI(t, "TWOFOLD_LISTEN=127.0.0.1:0")
	stderr := serveOnce(t, c, func(string) {})
	abs, _ := filepath.Abs(c.dir)
	if !strings.Contains(stderr, "Data:      "+abs+" (data_dir)") || !strings.Contains(stderr, "database_file=") {
		t.Errorf("serve --dev does not say where its data is:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "twofold.db")); err != nil {
		t.Errorf("serve did not create the database: %v", err)
	}
}

// TestJSONErrors: with --json every failure is one JSON object on stderr,
// exit 1: a flag's problem names the flag, several problems are listed, a
// configuration problem names the key, a command line that does not parse
// answers in JSON too.
func TestJSONErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	jsonErr := func(args ...string) errorObject {
		t.Helper()
		code, out, errOut := c.run("", args...)
		var e errorObject
		if err := json.Unmarshal([]byte(errOut), &e); code != 1 || err != nil || e.Error == "" || out != "" {
			t.Fatalf("twofold %s: exit %d, stdout %q, stderr %q (%v); want exit 1 and a JSON error on stderr",
				strings.Join(args, " "), code, out, errOut, err)
		}
		return e
	}
	if e := jsonErr("--json", "client", "create", "--name", "Wiki", "--redirect-uri", "https://*.example/cb"); e.Field != "--redirect-uri" ||
		!strings.Contains(e.Error, "wildcards (*) are not allowed") {
		t.Errorf("wildcard redirect URI: %+v", e)
	}
	if e := jsonErr("--json", "client", "create", "--name", "Wiki", "--redirect-uri", "http://wiki.example/cb", "--grant-type", "implicit"); len(e.Errors) != 2 ||
		e.Field != "--grant-type" || e.Errors[0].Field != "--grant-type" || e.Errors[1].Field != "--redirect-uri" {
		t.Errorf("two problems: %+v, want --grant-type and --redirect-uri listed", e)
	}
	if e := jsonErr("--json", "client", "create", "--redirect-uri", "https://wiki.example/cb"); !strings.Contains(e.Error, "--name") {
		t.Errorf("missing flag: %+v", e)
	}
	if e := jsonErr("--json", "user", "show", "nobody"); e.Field != "" || !strings.Contains(e.Error, "nobody") {
		t.Errorf("unknown user: %+v", e)
	}
	if e := jsonErr("--json", "policy", "set", "--global", "--session-lifetime", "30s"); e.Field != "--session-lifetime" ||
		!strings.Contains(e.Error, "must be from 1m to 400d") {
		t.Errorf("policy duration out of range: %+v", e)
	}
	if e := jsonErr("--json", "frobnicate"); !strings.Contains(e.Error, "frobnicate") {
		t.Errorf("unknown command: %+v", e)
	}
	c.env = append(c.env, "TWOFOLD_SMTP_HOST=smtp.example.com", "TWOFOLD_SMTP_FROM=Example Sign-in")
	if e := jsonErr("user", "list", "--json"); e.Field != "smtp.from" || !strings.Contains(e.Error, `like "Example Sign-in <signin@example.com>"`) {
		t.Errorf("bad smtp.from: %+v", e)
	}
	// Without --json, the same failure is text.
	code, _, errOut := c.run("", "user", "list")
	if code != 1 || !strings.HasPrefix(errOut, "twofold: smtp.from: must be one email address") {
		t.Errorf("text error = %d %q", code, errOut)
	}
}

// TestJSONEverywhere: the commands that printed only text have JSON too.
func TestJSONEverywhere(t *testing.T) {
	t.Parallel()
	c := newEmptyCLI(t)
	var m struct {
		Applied    []int `json:"applied"`
		Migrations []struct {
			Version int    `json:"version"`
			Name    string `json:"name"`
			Applied bool   `json:"applied"`
		} `json:"migrations"`
	}
	if err := json.Unmarshal([]byte(c.ok("", "--json", "migrate")), &m); err != nil || len(m.Applied) == 0 ||
		len(m.Migrations) != len(m.Applied) || !m.Migrations[0].Applied || m.Migrations[0].Version != 1 {
		t.Errorf("migrate --json = %+v (%v)", m, err)
	}
	c.ok("", "policy", "set", "--global", "--idle-timeout", "1h")
	var del map[string]string
	if err := json.Unmarshal([]byte(c.ok("", "--json", "policy", "delete", "--global")), &del); err != nil || del["deleted"] != "policy" || del["scope"] != "global" {
		t.Errorf("policy delete --json = %v (%v)", del, err)
	}
}

// TestDurationsAsPeopleWriteThem: policy values and ranges print "1m",
// "400d" and "off", never "1m0s" or "9600h0m0s".
func TestDurationsAsPeopleWriteThem(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.fails("", []string{"policy", "set", "--global", "--session-lifetime", "30s"}, `--session-lifetime: must be from 1m to 400d (got "30s")`)
	c.fails("", []string{"policy", "set", "--global", "--idle-timeout", "10s"}, `--idle-timeout: must be from 1m to 400d, or off (got "10s")`)
	c.ok("", "policy", "set", "--global", "--idle-timeout", "90m", "--remember-device", "off", "--session-lifetime", "12h")
	show := c.ok("", "policy", "show")
	for _, want := range []string{"idle_timeout         1h30m", "remember_device      off", "session_lifetime     12h"} {
		if !strings.Contains(strings.Join(strings.Fields(show), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("policy show lacks %q:\n%s", want, show)
		}
	}
	if strings.Contains(show, "m0s") || strings.Contains(show, "h0m") {
		t.Errorf("policy show prints a Go duration:\n%s", show)
	}
	if list := c.ok("", "policy", "list"); !strings.Contains(list, "remember_device=off") || !strings.Contains(list, "idle_timeout=1h30m") {
		t.Errorf("policy list:\n%s", list)
	}
	c.ok("", "policy", "set", "--global", "--idle-timeout", "0")
	if show := c.ok("", "policy", "show"); !strings.Contains(strings.Join(strings.Fields(show), " "), "idle_timeout off") {
		t.Errorf("idle_timeout 0 does not show as off:\n%s", show)
	}
}
