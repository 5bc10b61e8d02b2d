package testkit

import (
	"testing"

	"github.com/twofold-id/twofold/internal/loadtest/faketwilio"
)

// FakeTwilio is a fake Twilio REST API (see package faketwilio) that the
// real twilio-go client talks to. Point sender.TwilioOptions.BaseURL at URL.
type FakeTwilio = faketwilio.Server

// TwilioMessage is one SMS the fake accepted.
type TwilioMessage = faketwilio.Message

// TwilioCall is one voice call the fake accepted.
type TwilioCall = faketwilio.Call

// NewTwilio starts a fake Twilio API with random credentials on loopback;
// it is closed in t.Cleanup.
func NewTwilio(t testing.TB) *FakeTwilio {
	t.Helper()
	f, err := faketwilio.New("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}
