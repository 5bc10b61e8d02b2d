package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/twofold-id/twofold/storage"
)

// The handlers only translate HTTP to the service's operations, which the
// command line calls too.

func (a *Admin) listClients(w http.ResponseWriter, r *http.Request, _ Actor) error {
	list, err := a.Clients(r.Context())
	if err != nil {
		return err
	}
	out := make([]ClientView, len(list))
	for i := range list {
		out[i] = ViewClient(&list[i], "")
	}
	return ok(w, map[string]any{"clients": out})
}

func (a *Admin) createClient(w http.ResponseWriter, r *http.Request, actor Actor) error {
	var s ClientSpec
	if err := decode(r, &s, false); err != nil {
		return err
	}
	c, secret, err := a.CreateClient(r.Context(), actor, s)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, ViewClient(c, secret))
}

func (a *Admin) getClient(w http.ResponseWriter, r *http.Request, _ Actor) error {
	c, err := a.FindClient(r.Context(), "id", r.PathValue("id"))
	if err != nil {
		return err
	}
	return ok(w, ViewClient(c, ""))
}

func (a *Admin) patchClient(w http.ResponseWriter, r *http.Request, actor Actor) error {
	var p ClientPatch
	if err := decode(r, &p, false); err != nil {
		return err
	}
	c, err := a.UpdateClient(r.Context(), actor, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	return ok(w, ViewClient(c, ""))
}

func (a *Admin) deleteClient(w http.ResponseWriter, r *http.Request, actor Actor) error {
	if err := a.DeleteClient(r.Context(), actor, r.PathValue("id")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *Admin) rotateSecret(w http.ResponseWriter, r *http.Request, actor Actor) error {
	if err := decode(r, &struct{}{}, true); err != nil {
		return err
	}
	id := r.PathValue("id")
	secret, err := a.RotateSecret(r.Context(), actor, id)
	if err != nil {
		return err
	}
	return ok(w, map[string]string{"client_id": id, "client_secret": secret})
}

func (a *Admin) listUsers(w http.ResponseWriter, r *http.Request, _ Actor) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	page, err := a.Users(r.Context(), limit, r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	return ok(w, page)
}

func (a *Admin) createUser(w http.ResponseWriter, r *http.Request, actor Actor) error {
	var s UserSpec
	if err := decode(r, &s, false); err != nil {
		return err
	}
	u, err := a.CreateUser(r.Context(), actor, s)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, ViewUser(u, nil))
}

func (a *Admin) getUser(w http.ResponseWriter, r *http.Request, _ Actor) error {
	u, factors, err := a.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return ok(w, ViewUser(u, factors))
}

func (a *Admin) patchUser(w http.ResponseWriter, r *http.Request, actor Actor) error {
	var p UserPatch
	if err := decode(r, &p, false); err != nil {
		return err
	}
	u, err := a.UpdateUser(r.Context(), actor, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	return ok(w, ViewUser(u, nil))
}

func (a *Admin) deleteUser(w http.ResponseWriter, r *http.Request, actor Actor) error {
	if _, err := a.DeleteUser(r.Context(), actor, r.PathValue("id")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *Admin) setPassword(w http.ResponseWriter, r *http.Request, actor Actor) error {
	var body struct {
		Password string `json:"password"`
	}
	if err := decode(r, &body, false); err != nil {
		return err
	}
	if _, err := a.SetPassword(r.Context(), actor, r.PathValue("id"), body.Password); err != nil {
		return err
	}
	return noContent(w)
}

// resetSecondFactor removes every method and recovery code of a user.
func (a *Admin) resetSecondFactor(w http.ResponseWriter, r *http.Request, actor Actor) error {
	if err := decode(r, &struct{}{}, true); err != nil {
		return err
	}
	u, err := a.ResetSecondFactors(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return ok(w, ViewUser(u, nil))
}

// unlock lifts an account's lock and backoff.
func (a *Admin) unlock(w http.ResponseWriter, r *http.Request, actor Actor) error {
	if err := decode(r, &struct{}{}, true); err != nil {
		return err
	}
	u, err := a.Unlock(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return ok(w, ViewUser(u, nil))
}

func (a *Admin) setSecondFactors(w http.ResponseWriter, r *http.Request, actor Actor) error {
	var body struct {
		Methods   []storage.Method `json:"methods"`
		Preferred storage.Method   `json:"preferred"`
	}
	if err := decode(r, &body, false); err != nil {
		return err
	}
	if body.Methods == nil {
		return invalid("methods", "required: a list of sms, voice, email (empty for none)")
	}
	factors, err := a.SetSecondFactors(r.Context(), actor, r.PathValue("id"), body.Methods, body.Preferred)
	if err != nil {
		return err
	}
	out := []FactorView{}
	for _, f := range factors {
		out = append(out, FactorView{Method: f.Method, Destination: f.Destination, Preferred: f.Preferred})
	}
	return ok(w, map[string]any{"second_factors": out})
}

func (a *Admin) enableUser(w http.ResponseWriter, r *http.Request, actor Actor) error {
	return a.setDisabled(w, r, actor, false)
}

func (a *Admin) disableUser(w http.ResponseWriter, r *http.Request, actor Actor) error {
	return a.setDisabled(w, r, actor, true)
}

func (a *Admin) setDisabled(w http.ResponseWriter, r *http.Request, actor Actor, disabled bool) error {
	if err := decode(r, &struct{}{}, true); err != nil {
		return err
	}
	u, err := a.SetDisabled(r.Context(), actor, r.PathValue("id"), disabled)
	if err != nil {
		return err
	}
	return ok(w, ViewUser(u, nil))
}

func (a *Admin) listPolicies(w http.ResponseWriter, r *http.Request, _ Actor) error {
	list, err := a.Policies(r.Context())
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"policies": list})
}

func (a *Admin) effectivePolicy(w http.ResponseWriter, r *http.Request, _ Actor) error {
	q := r.URL.Query()
	x, err := a.Effective(r.Context(), q.Get("user"), q.Get("client"))
	if err != nil {
		return err
	}
	return ok(w, x)
}

func (a *Admin) getPolicy(scope string) handler {
	return func(w http.ResponseWriter, r *http.Request, _ Actor) error {
		l, err := a.ResolveLevel(r.Context(), scope, r.PathValue("id"))
		if err != nil {
			return err
		}
		p, err := a.Policy(r.Context(), l)
		if err != nil {
			return err
		}
		return ok(w, p)
	}
}

func (a *Admin) putPolicy(scope string) handler {
	return func(w http.ResponseWriter, r *http.Request, actor Actor) error {
		var d PolicyDoc
		if err := decode(r, &d, false); err != nil {
			return err
		}
		l, err := a.ResolveLevel(r.Context(), scope, r.PathValue("id"))
		if err != nil {
			return err
		}
		p, err := a.PutPolicy(r.Context(), actor, l, d)
		if err != nil {
			return err
		}
		return ok(w, p)
	}
}

// patchPolicy changes the settings the body names (null: inherit again)
// and keeps the others.
func (a *Admin) patchPolicy(scope string) handler {
	return func(w http.ResponseWriter, r *http.Request, actor Actor) error {
		patch, err := decodePolicyPatch(r)
		if err != nil {
			return err
		}
		l, err := a.ResolveLevel(r.Context(), scope, r.PathValue("id"))
		if err != nil {
			return err
		}
		p, err := a.PatchPolicy(r.Context(), actor, l, patch)
		if err != nil {
			return err
		}
		return ok(w, p)
	}
}

// decodePolicyPatch reads a JSON merge patch (RFC 7396) of one level's
// policy: a setting with a value is set, a setting given as null inherits
// again, a setting left out is kept.
func decodePolicyPatch(r *http.Request) (PolicyPatch, error) {
	var raw map[string]json.RawMessage
	if err := decode(r, &raw, false); err != nil {
		return PolicyPatch{}, err
	}
	if raw == nil {
		return PolicyPatch{}, invalid("", "send a JSON object of the settings to change")
	}
	var p PolicyPatch
	values := map[string]json.RawMessage{}
	for k, v := range raw {
		if string(bytes.TrimSpace(v)) == "null" {
			p.Inherit = append(p.Inherit, k)
		} else {
			values[k] = v
		}
	}
	slices.Sort(p.Inherit)
	body, err := json.Marshal(values)
	if err != nil {
		return PolicyPatch{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return p, bodyError(dec.Decode(&p.Set))
}

func (a *Admin) deletePolicy(scope string) handler {
	return func(w http.ResponseWriter, r *http.Request, actor Actor) error {
		l, err := a.ResolveLevel(r.Context(), scope, r.PathValue("id"))
		if err != nil {
			return err
		}
		if err := a.DeletePolicy(r.Context(), actor, l); err != nil {
			return err
		}
		return noContent(w)
	}
}

func (a *Admin) listSessions(w http.ResponseWriter, r *http.Request, _ Actor) error {
	list, err := a.Sessions(r.Context(), r.URL.Query().Get("user"))
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"sessions": list})
}

func (a *Admin) revokeSession(w http.ResponseWriter, r *http.Request, actor Actor) error {
	if err := a.RevokeSession(r.Context(), actor, r.PathValue("id")); err != nil {
		return err
	}
	return noContent(w)
}

// revokeSessions ends one user's sessions or everyone's; exactly one of
// user and all must be given.
func (a *Admin) revokeSessions(w http.ResponseWriter, r *http.Request, actor Actor) error {
	var body struct {
		User string `json:"user"`
		All  bool   `json:"all"`
	}
	if err := decode(r, &body, false); err != nil {
		return err
	}
	switch {
	case body.User != "" && body.All:
		return invalid("all", "give either user or all, not both")
	case body.All:
		if err := a.RevokeAll(r.Context(), actor); err != nil {
			return err
		}
		return ok(w, map[string]any{"revoked": "all"})
	case body.User != "":
		u, err := a.RevokeUser(r.Context(), actor, body.User)
		if err != nil {
			return err
		}
		return ok(w, map[string]any{"revoked": "user", "user_id": u.ID})
	}
	return invalid("user", `give {"user": "<username or id>"} or {"all": true}`)
}

func (a *Admin) listAudit(w http.ResponseWriter, r *http.Request, _ Actor) error {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	since, err := ParseSince(q.Get("since"))
	if err != nil {
		return err
	}
	page, err := a.Audit(r.Context(), AuditQuery{User: q.Get("user"), Client: q.Get("client"), Type: q.Get("type"),
		Since: since, Limit: limit, Cursor: q.Get("cursor")})
	if err != nil {
		return err
	}
	return ok(w, page)
}

func (a *Admin) listKeys(w http.ResponseWriter, r *http.Request, _ Actor) error {
	keys, err := a.SigningKeys(r.Context())
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"keys": keys})
}

func (a *Admin) rotateKeys(w http.ResponseWriter, r *http.Request, actor Actor) error {
	if err := decode(r, &struct{}{}, true); err != nil {
		return err
	}
	keys, err := a.RotateKeys(r.Context(), actor)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"keys": keys})
}
