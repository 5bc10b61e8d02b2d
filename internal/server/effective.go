package server

import (
	"context"

	"github.com/twofold-id/twofold/login/policy"
)

// EffectivePolicy resolves the policy of a user at a client from the
// database on every call, on top of the configuration's defaults
// (policy.Defaults): a change holds on the next request everywhere. The
// sign-in and the admin service's explanations both resolve through it.
func (a *App) EffectivePolicy(ctx context.Context, clientID, userID string) (policy.Effective, error) {
	global, client, user, err := a.Store.PolicyLevels(ctx, clientID, userID)
	if err != nil {
		return policy.Effective{}, err
	}
	return policy.Resolve(policy.Defaults(a.Cfg), global, client, user), nil
}
