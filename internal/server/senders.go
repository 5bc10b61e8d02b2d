package server

import (
	"fmt"

	"github.com/twofold-id/twofold/keyring"
	"github.com/twofold-id/twofold/login"
	"github.com/twofold-id/twofold/login/otp"
	"github.com/twofold-id/twofold/login/sender"
)

// senders builds the delivery channels the configuration enables. In
// development mode a channel without a provider prints codes to the log,
// so the first run shows the whole sign-in.
func (a *App) senders() (map[sender.Channel]sender.Sender, error) {
	out := map[sender.Channel]sender.Sender{}
	if t := a.Cfg.Twilio; t.Enabled() {
		opts := sender.TwilioOptions{AccountSID: t.AccountSID, AuthToken: t.AuthToken, APIKey: t.APIKey,
			APISecret: t.APISecret, From: t.From, MessagingServiceSID: t.MessagingServiceSID,
			BaseURL: t.BaseURL, Timeout: t.Timeout.D()}
		sms, err := sender.NewTwilioSMS(opts)
		if err != nil {
			return nil, fmt.Errorf("twilio: %w", err)
		}
		out[sender.SMS] = sms
		if t.From != "" {
			voice, err := sender.NewTwilioVoice(opts)
			if err != nil {
				return nil, fmt.Errorf("twilio: %w", err)
			}
			out[sender.Voice] = voice
		}
	}
	if m := a.Cfg.SMTP; m.Host != "" {
		mail, err := sender.NewSMTP(sender.SMTPOptions{Host: m.Host, Port: m.Port, TLS: m.TLS,
			Username: m.Username, Password: m.Password, From: m.From, Timeout: m.Timeout.D(),
			InsecureSkipVerify: a.smtpInsecure})
		if err != nil {
			return nil, fmt.Errorf("smtp: %w", err)
		}
		out[sender.Email] = mail
	}
	if a.Cfg.Dev {
		logSender, err := sender.NewLog(a.Log, true)
		if err != nil {
			return nil, err
		}
		for _, ch := range []sender.Channel{sender.SMS, sender.Voice, sender.Email} {
			if out[ch] == nil {
				out[ch] = logSender
			}
		}
	}
	return out, nil
}

// otpSettings turns the otp keys into the login package's settings.
func (a *App) otpSettings() login.OTPSettings {
	o := a.Cfg.OTP
	toChannels := func(list []string) []sender.Channel {
		out := make([]sender.Channel, len(list))
		for i, c := range list {
			out[i] = sender.Channel(c)
		}
		return out
	}
	return login.OTPSettings{
		Digits: o.Digits, TTL: o.TTL.D(), MaxAttempts: o.MaxAttempts,
		ResendCooldown: o.ResendCooldown.D(), MaxResends: o.MaxResends,
		Fallback: map[sender.Channel][]sender.Channel{
			sender.SMS: toChannels(o.SMSFallback), sender.Voice: toChannels(o.VoiceFallback),
		},
	}
}

func (a *App) codeHasher() (*otp.Hasher, error) {
	return otp.NewHasher(a.Ring.Derive(keyring.PurposeCode))
}
