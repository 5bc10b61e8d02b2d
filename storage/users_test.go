package storage_test

import (
	"slices"
	"testing"

	"github.com/twofold-id/twofold/storage"
)

// TestUserUpdateFields: the audit log names what an update changed by
// these names, so they must stay the ones it always recorded.
func TestUserUpdateFields(t *testing.T) {
	for _, tc := range []struct {
		u    storage.UserUpdate
		want []string
	}{
		{storage.UserUpdate{}, nil},
		{storage.UserUpdate{Disabled: new(false)}, []string{"disabled"}},
		{storage.UserUpdate{Name: new("A"), Email: new("a@example.com"), EmailVerified: new(false)},
			[]string{"email", "email_verified", "name"}},
		{storage.UserUpdate{Username: new("a"), Phone: new("+14155550100"), PhoneVerified: new(true), PasswordHash: new("h"),
			APIAccount: new(true), Admin: new(false)},
			[]string{"admin", "api_account", "password_hash", "phone", "phone_verified", "username"}},
	} {
		if got := tc.u.Fields(); !slices.Equal(got, tc.want) {
			t.Errorf("Fields() = %v, want %v", got, tc.want)
		}
		if tc.u.IsZero() != (len(tc.want) == 0) {
			t.Errorf("%v: IsZero() = %v", tc.want, tc.u.IsZero())
		}
	}
}
