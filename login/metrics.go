package login

// Metrics counts what operators watch on a dashboard: deliveries, refused
// sends and failures. Implementations must not keep more than the labels
// given here, which never name a user, a destination or an address; nil in
// Config counts nothing.
type Metrics interface {
	// CodeSent counts one delivery attempt on channel: outcome "sent" on
	// the method chosen, "fallback" on another channel instead, "failed"
	// when the provider refused or timed out.
	CodeSent(channel, outcome string)
	// SendBlocked counts a send an abuse limit refused; reason is the
	// guard's limit (country, destination, ip, budget) or "resend" for the
	// per-sign-in cap. Every code_send_refused audit event is one.
	SendBlocked(channel, reason string)
	// LoginFailure counts a failure that counts toward the account's
	// backoff: factor is "password", the code's channel, or "recovery".
	LoginFailure(factor string)
}

// noMetrics counts nothing.
type noMetrics struct{}

func (noMetrics) CodeSent(string, string)    {}
func (noMetrics) SendBlocked(string, string) {}
func (noMetrics) LoginFailure(string)        {}
