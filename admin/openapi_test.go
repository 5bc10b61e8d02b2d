package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// recorder collects the patterns Mount registers.
type recorder struct{ patterns []string }

func (r *recorder) Handle(pattern string, _ http.Handler) { r.patterns = append(r.patterns, pattern) }

// TestOpenAPIMatchesRoutes fails when a route is registered that the
// document lacks, or the document lists one that is not registered.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Servers []struct{ URL string }    `json:"servers"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Servers) != 1 || doc.Servers[0].URL != Prefix {
		t.Fatalf("openapi.json: want OpenAPI 3 with the server %s (got %q, %+v)", Prefix, doc.OpenAPI, doc.Servers)
	}
	var documented []string
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options":
				documented = append(documented, strings.ToUpper(method)+" "+Prefix+path)
			}
		}
	}
	var rec recorder
	New(Config{}).mount(&rec)
	var registered []string
	for _, p := range rec.patterns {
		if method, _, ok := strings.Cut(p, " "); ok && method != "" {
			registered = append(registered, p)
		}
	}
	slices.Sort(documented)
	slices.Sort(registered)
	for _, p := range registered {
		if !slices.Contains(documented, p) {
			t.Errorf("route %s is registered but missing from openapi.json", p)
		}
	}
	for _, p := range documented {
		if !slices.Contains(registered, p) {
			t.Errorf("openapi.json lists %s, which is not registered", p)
		}
	}
}

// TestOpenAPIServedWithoutToken checks the document is public JSON and
// every other route asks for a token.
func TestOpenAPIServedWithoutToken(t *testing.T) {
	mux := http.NewServeMux()
	a := New(Config{})
	a.Mount(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", Prefix+"/openapi.json", nil))
	if w.Code != 200 || !json.Valid(w.Body.Bytes()) || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("openapi.json: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	for _, rt := range a.routes() {
		path := strings.ReplaceAll(rt.path, "{id}", "x")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(rt.method, Prefix+path, nil))
		if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s %s without a token: %d %q", rt.method, path, w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", Prefix+"/nope", nil))
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `"not_found"`) {
		t.Errorf("unknown path: %d %s", w.Code, w.Body)
	}
}
