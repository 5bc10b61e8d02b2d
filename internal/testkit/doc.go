// Package testkit holds the test-only parts of the outside world and the
// helpers that start twofold against them: TLS test servers and clusters, a
// relying party, a headless browser, per-test PostgreSQL databases, an SMTP
// sink and the fake Twilio API. Only _test.go files import it, so none of it
// is linked into the binary (a test in internal/archtest enforces that).
//
// The fake Twilio itself lives in internal/loadtest/faketwilio, because the
// load driver behind `twofold bench` runs one in production builds; testkit
// imports that leaf and re-exports it as FakeTwilio, the one arrow from
// testkit into the load driver's tree.
package testkit
