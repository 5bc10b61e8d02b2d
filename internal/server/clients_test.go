package server

import (
	"bytes"
	"testing"
	"time"

	"github.com/twofold-id/twofold/keyring"
)

// A generated client id is passed to the CLI as an argument: one starting
// with "-" was read as a flag (found by CI, 1 run in ~30).
func TestGeneratedClientIDsAreSafeArguments(t *testing.T) {
	ring, err := keyring.New(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	for range 2000 {
		c, _, err := NewClient(ClientSpec{Name: "x", RedirectURIs: []string{"https://x.example/cb"}}, ring, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if c.ID[0] == '-' || c.ID[0] == '_' {
			t.Fatalf("client id %q starts with %q", c.ID, c.ID[0])
		}
	}
}
