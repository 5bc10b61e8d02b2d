package sender

import (
	"strings"
	"testing"

	"golang.org/x/text/language"
)

// A call speaks the message's language with the voice of its region where
// Twilio has one, the language's first voice otherwise, and English where
// Twilio's voices do not speak it.
func TestVoiceLanguage(t *testing.T) {
	for tag, want := range map[string]string{
		"de": "de-DE", "de-AT": "de-DE", "fr": "fr-FR", "fr-CA": "fr-CA", "es": "es-ES", "es-MX": "es-MX",
		"en": "en-US", "en-GB": "en-GB", "pt": "pt-BR", "pt-PT": "pt-PT", "tlh": "en-US", "und": "en-US",
	} {
		if got, _ := voiceLanguage(language.Make(tag)); got != want {
			t.Errorf("voiceLanguage(%s) = %s, want %s", tag, got, want)
		}
	}
	m := Message{To: "+14155550100", Code: "123456", Issuer: "https://id.example", TTL: 300e9, Lang: language.Make("tlh")}
	if twiml := voiceTwiML(m); !strings.Contains(twiml, `<Say language="en-US">Your twofold code is: 1, 2, 3, 4, 5, 6.</Say>`) {
		t.Errorf("a language Twilio cannot speak is read in English: %s", twiml)
	}
	m.Lang = language.Spanish
	if twiml := voiceTwiML(m); !strings.Contains(twiml, `<Say language="es-ES">Su código de twofold es: 1, 2, 3, 4, 5, 6.</Say>`) ||
		!strings.Contains(twiml, "Caduca en 5 minutos. Adiós.") {
		t.Errorf("Spanish: %s", twiml)
	}
}
