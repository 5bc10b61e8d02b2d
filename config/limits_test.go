package config_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/config"
)

func TestLimitsDefaults(t *testing.T) {
	cfg, err := config.Load("", []string{"TWOFOLD_DEV=true"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	l := cfg.Limits
	checks := []struct {
		key       string
		got, want any
	}{
		{"limits.backoff_after", l.BackoffAfter, 5},
		{"limits.backoff_base", l.BackoffBase.D(), 30 * time.Second},
		{"limits.backoff_max", l.BackoffMax.D(), 15 * time.Minute},
		{"limits.lock_after", l.LockAfter, 100},
		{"limits.ip_failures", l.IPFailures, 50},
		{"limits.ip_window", l.IPWindow.D(), 10 * time.Minute},
		{"limits.destination_per_10m", l.DestinationPer10m, 5},
		{"limits.destination_per_day", l.DestinationPerDay, 10},
		{"limits.ip_sends_per_10m", l.IPSendsPer10m, 20},
		{"limits.sms_countries", len(l.SMSCountries), 0},
		{"limits.sms_country_daily", l.SMSCountryDaily, 1000},
		{"limits.sms_global_hourly", l.SMSGlobalHourly, 200},
		{"limits.voice_country_daily", l.VoiceCountryDaily, 100},
		{"limits.voice_global_hourly", l.VoiceGlobalHourly, 50},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.key, c.got, c.want)
		}
	}
}

func TestLimitsFromYAMLAndEnv(t *testing.T) {
	path := writeFile(t, `
dev: true
limits:
  backoff_after: 3
  backoff_base: 1m
  backoff_max: 1h
  lock_after: 20
  ip_failures: 10
  ip_window: 1h
  destination_per_10m: 2
  destination_per_day: 4
  ip_sends_per_10m: 8
  sms_countries: [US, ca]
  sms_country_daily: 7
  sms_global_hourly: 6
  voice_country_daily: 5
  voice_global_hourly: 4
`)
	cfg, err := config.Load(path, []string{"TWOFOLD_LIMITS_SMS_COUNTRIES=GB, IE", "TWOFOLD_LIMITS_LOCK_AFTER=30"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	l := cfg.Limits
	if l.BackoffAfter != 3 || l.BackoffBase.D() != time.Minute || l.BackoffMax.D() != time.Hour || l.LockAfter != 30 ||
		l.IPFailures != 10 || l.IPWindow.D() != time.Hour || l.DestinationPer10m != 2 || l.DestinationPerDay != 4 ||
		l.IPSendsPer10m != 8 || l.SMSCountryDaily != 7 || l.SMSGlobalHourly != 6 || l.VoiceCountryDaily != 5 || l.VoiceGlobalHourly != 4 {
		t.Errorf("limits = %+v", l)
	}
	if !slices.Equal(l.SMSCountries, []string{"GB", "IE"}) {
		t.Errorf("limits.sms_countries = %q, want the environment's [GB IE]", l.SMSCountries)
	}
}

func TestLimitsValidate(t *testing.T) {
	tests := []struct {
		env  []string
		want string
	}{
		{[]string{"TWOFOLD_LIMITS_BACKOFF_AFTER=0"}, "limits.backoff_after: must be at least 1 (got 0)"},
		{[]string{"TWOFOLD_LIMITS_DESTINATION_PER_10M=-1"}, "limits.destination_per_10m: must be at least 1 (got -1)"},
		{[]string{"TWOFOLD_LIMITS_SMS_GLOBAL_HOURLY=0"}, "limits.sms_global_hourly: must be at least 1 (got 0)"},
		{[]string{"TWOFOLD_LIMITS_LOCK_AFTER=3"}, "limits.lock_after: must be at least 1 and at least limits.backoff_after (got 3)"},
		{[]string{"TWOFOLD_LIMITS_BACKOFF_BASE=0s"}, "limits.backoff_base: must be a positive duration (got 0s)"},
		{[]string{"TWOFOLD_LIMITS_BACKOFF_MAX=10s"}, "limits.backoff_max: must be at least limits.backoff_base (got 10s)"},
		{[]string{"TWOFOLD_LIMITS_IP_WINDOW=2d"}, "limits.ip_window: must be positive and at most 24h (got 2d)"},
		{[]string{"TWOFOLD_LIMITS_SMS_COUNTRIES=US,USA"}, `limits.sms_countries: "USA" is not an ISO 3166 region code`},
		{[]string{"TWOFOLD_LIMITS_SMS_COUNTRIES=U1"}, `limits.sms_countries: "U1" is not an ISO 3166 region code`},
		{[]string{"TWOFOLD_TWILIO_ACCOUNT_SID=AC1", "TWOFOLD_TWILIO_AUTH_TOKEN=x", "TWOFOLD_TWILIO_MESSAGING_SERVICE_SID=MG1"},
			"limits.sms_countries: is required when twilio.from is empty"},
	}
	for _, tt := range tests {
		_, err := config.Load("", append([]string{"TWOFOLD_DEV=true"}, tt.env...))
		if !strings.Contains(errText(err), tt.want) {
			t.Errorf("Load(%q) = %v\nwant a message containing %s", tt.env, err, tt.want)
		}
	}
	for _, env := range [][]string{
		{"TWOFOLD_LIMITS_SMS_COUNTRIES=*"},
		{"TWOFOLD_LIMITS_SMS_COUNTRIES=us,gb"},
		{"TWOFOLD_TWILIO_ACCOUNT_SID=AC1", "TWOFOLD_TWILIO_AUTH_TOKEN=x", "TWOFOLD_TWILIO_MESSAGING_SERVICE_SID=MG1", "TWOFOLD_LIMITS_SMS_COUNTRIES=FR"},
	} {
		if _, err := config.Load("", append([]string{"TWOFOLD_DEV=true"}, env...)); err != nil {
			t.Errorf("Load(%q) = %v, want no error", env, err)
		}
	}
}
