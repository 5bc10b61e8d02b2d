package keyring

import (
	"bytes"
	"testing"
)

func TestSealOpenBindsAAD(t *testing.T) {
	k, err := New(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed := k.Seal([]byte("private key"), "signing_keys.private_key:a")
	got, err := k.Open(sealed, "signing_keys.private_key:a")
	if err != nil || string(got) != "private key" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := k.Open(sealed, "signing_keys.private_key:b"); err == nil {
		t.Fatal("Open with another row's AAD succeeded")
	}
	other, _ := New(bytes.Repeat([]byte("x"), 32))
	if _, err := other.Open(sealed, "signing_keys.private_key:a"); err == nil {
		t.Fatal("Open with another master secret succeeded")
	}
	if _, err := k.Open([]byte("short"), "x"); err == nil {
		t.Fatal("Open of a short value succeeded")
	}
}

func TestHasherPurposeAndFraming(t *testing.T) {
	k, _ := New(bytes.Repeat([]byte("k"), 32))
	a, b := k.Hasher(PurposeClientSecret), k.Hasher(PurposeToken)
	if a.Sum("s") == b.Sum("s") {
		t.Fatal("two purposes give the same digest")
	}
	if a.Sum("ab", "c") == a.Sum("a", "bc") {
		t.Fatal("framing is ambiguous")
	}
	if !a.Equal(a.Sum("x", "y"), "x", "y") || a.Equal(a.Sum("x"), "y") {
		t.Fatal("Equal is wrong")
	}
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("short master secret accepted")
	}
}
