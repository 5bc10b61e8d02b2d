package op

// corsPolicy says which cross-origin callers an endpoint answers.
type corsPolicy int

const (
	// corsNone: browser endpoints (navigations, never fetched
	// cross-origin) answer no CORS at all.
	corsNone corsPolicy = iota
	// corsPublic: public documents (discovery, keys) answer any origin,
	// without credentials.
	corsPublic
	// corsClients: the API endpoints answer the origins of registered
	// redirect URIs, without credentials.
	corsClients
)
