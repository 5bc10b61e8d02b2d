// Package archtest holds the test that guards twofold's import arrows:
// the floors of the house (see the README's Development section) import
// only downwards, a few rooms never import each other, and nothing of the
// test harness or the load driver reaches the binary; and two calls that
// imports cannot show (the store's raw pool outside storage/, logging
// without the request's context in the request-path packages). It has no
// code of its own; `go test ./internal/archtest/` runs the rules.
package archtest
