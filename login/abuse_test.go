package login

import (
	"testing"
	"time"

	"github.com/twofold-id/twofold/i18n"
)

// english says a message as an English page would.
func english(m i18n.Message) string { return i18n.Default().Localize(i18n.Source, m) }

func TestHumanWait(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second:                 "1 second",
		500 * time.Millisecond:      "1 second",
		30 * time.Second:            "30 seconds",
		60 * time.Second:            "60 seconds",
		119 * time.Second:           "119 seconds",
		2 * time.Minute:             "2 minutes",
		2*time.Minute + time.Second: "3 minutes",
		15 * time.Minute:            "15 minutes",
	} {
		if got := english(humanWait(d)); got != want {
			t.Errorf("humanWait(%v) = %q, want %q", d, got, want)
		}
	}
}
