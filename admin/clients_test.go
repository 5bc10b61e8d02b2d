package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/twofold-id/twofold/storage"
)

// accountClientID is the account pages' client, which the composition
// root names as built in.
const accountClientID = "twofold-account"

// TestDeleteBuiltInClient checks the API refuses to delete the account
// pages' client with a stable conflict error, keeps it, and still deletes
// other clients. Authentication is covered end to end in internal/e2e; the
// handlers here run behind the same error adapter without it.
func TestDeleteBuiltInClient(t *testing.T) {
	ctx := context.Background()
	store, err := storage.Open("sqlite:"+filepath.Join(t.TempDir(), "admin.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, id := range []string{accountClientID, "demo"} {
		c := &storage.Client{ID: id, Name: id, AuthMethod: "none", ApplicationType: "web", GrantTypes: storage.StringList{"authorization_code"},
			RedirectURIs: storage.StringList{"http://localhost:8080/" + id}, AccessTokenFormat: "opaque", CreatedAt: now, UpdatedAt: now}
		if err := store.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	a := New(Config{Store: store, BuiltInClients: map[string]string{accountClientID: "the account pages (/account) sign in with it"}})
	mux := http.NewServeMux()
	mux.Handle("DELETE "+Prefix+"/clients/{id}", a.serve(a.deleteClient, false))
	mux.Handle("POST "+Prefix+"/clients/{id}/rotate-secret", a.serve(a.rotateSecret, false))

	tests := []struct {
		name, method, path string
		status             int
		code               string // the error code, "" for success
	}{
		{"delete the account client", "DELETE", "/clients/" + accountClientID, http.StatusConflict, CodeConflict},
		{"rotate the account client", "POST", "/clients/" + accountClientID + "/rotate-secret", http.StatusConflict, CodeConflict}, // public: no secret
		{"delete the demo client", "DELETE", "/clients/demo", http.StatusNoContent, ""},
		{"delete an unknown client", "DELETE", "/clients/nope", http.StatusNotFound, CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest(tt.method, Prefix+tt.path, nil))
			if w.Code != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, w.Code, w.Body, tt.status)
			}
			if tt.code == "" {
				return
			}
			var body struct{ Error Error }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code != tt.code || body.Error.Field != "id" || body.Error.Message == "" {
				t.Errorf("%s %s body = %s (%v), want error code %s on field id", tt.method, tt.path, w.Body, err, tt.code)
			}
		})
	}
	if _, err := store.Client(ctx, accountClientID); err != nil {
		t.Errorf("the account client after the refused delete: %v", err)
	}
	err = a.DeleteClient(ctx, CLI, accountClientID)
	if e, ok := AsError(err); !ok || e.Message != `client "twofold-account" is built in and cannot be deleted: the account pages (/account) sign in with it` {
		t.Errorf("DeleteClient(%s) = %v, want the built-in refusal", accountClientID, err)
	}
}
