package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/twofold-id/twofold/config"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestRequestIDInEveryLine: what a request logs from inside (here the
// readiness check and a login page, with the database gone) carries the
// request's id, the one of its access log line and X-Request-Id header.
func TestRequestIDInEveryLine(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.SecretKey = "test-secret-key-0123456789abcdef-0123456789"
	cfg.Database.URL = "sqlite:" + filepath.Join(dir, "twofold.db")
	cfg.Derive()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	a, err := Open(context.Background(), cfg, slog.New(slog.NewJSONHandler(&logs, nil)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	a.Store.Close() // every request that reaches the database now logs why it failed
	for _, tc := range []struct{ path, line string }{
		{"/readyz", "readiness check failed"},
		{"/login/code?authRequestID=abc", "database unavailable"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			logs.mu.Lock()
			logs.b.Reset()
			logs.mu.Unlock()
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			h.ServeHTTP(rec, req)
			id := rec.Header().Get("X-Request-Id")
			if id == "" {
				t.Fatalf("GET %s: no X-Request-Id", tc.path)
			}
			seen := map[string]bool{}
			for _, l := range logs.lines(t) {
				msg, _ := l["msg"].(string)
				seen[msg] = true
				if l["request_id"] != id {
					t.Errorf("GET %s logged %q with request_id %v, want %q", tc.path, msg, l["request_id"], id)
				}
			}
			if !seen[tc.line] || !seen["request"] {
				t.Errorf("GET %s logged %v; want %q and the access line", tc.path, seen, tc.line)
			}
		})
	}
}

// TestRequestIDHandlerKeepsItself: a logger derived with With or
// WithGroup still adds the id, and a record without one is left alone.
func TestRequestIDHandlerKeepsItself(t *testing.T) {
	var buf syncBuffer
	log := slog.New(withRequestIDs(slog.NewJSONHandler(&buf, nil))).With("component", "x")
	if _, ok := withRequestIDs(log.Handler()).(requestIDHandler); !ok {
		t.Fatal("withRequestIDs unwrapped the handler")
	}
	log.InfoContext(withRequestID(context.Background(), "r1"), "inside")
	log.Info("outside")
	lines := buf.lines(t)
	if len(lines) != 2 || lines[0]["request_id"] != "r1" || lines[1]["request_id"] != nil {
		t.Fatalf("lines = %v; want request_id r1 on the first only", lines)
	}
}
