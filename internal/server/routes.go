package server

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Pages are the HTML answers a browser gets for an address nothing serves
// (404) and for a method an address does not take (405).
type Pages struct{ NotFound, MethodNotAllowed http.Handler }

// withFallback serves mux, where every route is registered with the
// methods it serves, and words what no route takes: a path nothing serves
// (404) or a method its route does not serve (405, the mux's Allow kept)
// gets the HTML error page when a browser asks for a page, JSON otherwise.
// Nothing is registered for every method, or the mux could not tell a
// wrong method from an unknown path.
func withFallback(mux *http.ServeMux, pages Pages) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		held := &fallbackWriter{ResponseWriter: w}
		mux.ServeHTTP(held, r)
		switch {
		case held.code == http.StatusNotFound && wantsPage(r):
			pages.NotFound.ServeHTTP(w, r) // it sets its own Content-Type
		case held.code == http.StatusMethodNotAllowed && wantsPage(r):
			pages.MethodNotAllowed.ServeHTTP(w, r)
		case held.code == http.StatusNotFound:
			writeJSONError(w, http.StatusNotFound, "not_found", "nothing is served at this path")
		case held.code == http.StatusMethodNotAllowed:
			writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not served at this path; see Allow")
		}
	})
}

func writeJSONError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// protocolPaths are where the provider's endpoints live: a browser that
// asks for an unknown path under them gets JSON, as relying parties do.
var protocolPaths = []string{"/.well-known/", "/keys", "/authorize", "/oauth/", "/userinfo", "/revoke",
	"/end_session", "/device_authorization", "/healthz", "/ready"}

func isProtocolPath(path string) bool {
	for _, p := range protocolPaths {
		if path == p || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

// wantsPage reports whether a request is a browser asking for a page: a
// GET or HEAD that accepts HTML, outside the protocol paths (relying
// parties and browsers alike get JSON there).
func wantsPage(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && !isProtocolPath(r.URL.Path) &&
		strings.Contains(r.Header.Get("Accept"), "text/html")
}

// fallbackWriter holds back the mux's own 404 or 405 (headers such as
// Allow stay set), so that the caller can word it; anything else passes.
type fallbackWriter struct {
	http.ResponseWriter
	code  int  // 404 or 405 held back
	wrote bool // the status line is decided
}

func (w *fallbackWriter) WriteHeader(code int) {
	if !w.wrote && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		w.code = code
	}
	if w.wrote = true; w.code == 0 {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *fallbackWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.code != 0 {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *fallbackWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// withLanguageSwitch answers the pages' language switch (a form posted to
// the page's own address, which may take only GET) in front of every page;
// the protocol endpoints and the admin API are left alone (their own
// pages, end_session's, switch inside the provider).
func withLanguageSwitch(sw func(http.Handler) http.Handler, next http.Handler) http.Handler {
	switched := sw(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && !isProtocolPath(r.URL.Path) && !strings.HasPrefix(r.URL.Path, "/admin/api/") {
			switched.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
