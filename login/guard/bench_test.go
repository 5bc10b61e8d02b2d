package guard_test

import (
	"fmt"
	"testing"
)

// BenchmarkAllowSend measures a send that passes every limit: five counter
// UPSERTs (destination 10m and day, IP, SMS budgets) on SQLite.
func BenchmarkAllowSend(b *testing.B) {
	l := testLimits()
	l.SMSCountryDaily, l.SMSGlobalHourly = 1<<30, 1<<30
	l.DestinationPer10m, l.DestinationPerDay, l.IPSendsPer10m = 1<<30, 1<<30, 1<<30
	g, _, _ := newGuard(b, l)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		i++
		if err := g.AllowSend(ctx, "sms", fmt.Sprintf("+1415555%04d", i%10_000), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFailure measures counting a failure for an account and an IP.
func BenchmarkFailure(b *testing.B) {
	l := testLimits()
	l.LockAfter = 1 << 30
	g, _, _ := newGuard(b, l)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		i++
		if _, err := g.Failure(ctx, fmt.Sprintf("u%d", i%1000), fmt.Sprintf("2001:db8:%x::1", i%65536)); err != nil {
			b.Fatal(err)
		}
	}
}
