package guard_test

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/login/guard"
)

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":                    "192.0.2.1",
		" 192.0.2.1 ":                  "192.0.2.1",
		"::ffff:192.0.2.1":             "192.0.2.1",
		"192.0.2.1:8080":               "192.0.2.1",
		"[2001:db8::1]:443":            "2001:db8::/64",
		"2001:db8:1:2:3:4:5:6":         "2001:db8:1:2::/64",
		"2001:DB8:1:2::9%eth0":         "2001:db8:1:2::/64",
		"fe80::1%en0":                  "fe80::/64",
		"::1":                          "::/64",
		"":                             "",
		"   ":                          "",
		"not-an-ip":                    "?not-an-ip",
		"@":                            "?@",
		"2001:db8:1:2:3:4:5:6:7":       "?2001:db8:1:2:3:4:5:6:7",
		"192.0.2.1, 198.51.100.2":      "?192.0.2.1, 198.51.100.2",
		"2001:0db8:0001:0002:0000::1a": "2001:db8:1:2::/64",
	} {
		if got := guard.ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzClientKey: the key of an address never panics, is "" only for
// blank input, keeps IPv4 addresses apart, and gives every address of an
// IPv6 /64 the same key and no address outside it that key.
func FuzzClientKey(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "::ffff:10.0.0.1", "2001:db8::1", "2001:db8:1:2::9%eth0", "[::1]:80",
		"fe80::1%", "1.2.3.4:99999", "::", "0.0.0.0", "::ffff:0:0", "01.02.03.04", "1.2.3", "\x00", "", " \t"} {
		f.Add(s, uint64(0x1234))
	}
	f.Fuzz(func(t *testing.T, ip string, low uint64) {
		key := guard.ClientKey(ip)
		if key != guard.ClientKey(ip) {
			t.Fatalf("ClientKey(%q) is not deterministic", ip)
		}
		trimmed := strings.TrimSpace(ip)
		if (key == "") != (trimmed == "") {
			t.Fatalf("ClientKey(%q) = %q: empty only for blank input", ip, key)
		}
		a, err := netip.ParseAddr(trimmed)
		if err != nil {
			return
		}
		a = a.WithZone("").Unmap()
		if a.Is4() {
			if key != a.String() {
				t.Fatalf("ClientKey(%q) = %q, want the address %s", ip, key, a)
			}
			return
		}
		p, err := netip.ParsePrefix(key)
		if err != nil || p.Bits() != 64 || p.Masked() != p || !p.Contains(a) {
			t.Fatalf("ClientKey(%q) = %q, want the /64 holding %s", ip, key, a)
		}
		// Another address of the same /64 shares the key; flipping a bit
		// of the prefix leaves it.
		b := a.As16()
		binary.BigEndian.PutUint64(b[8:], low)
		if same := netip.AddrFrom16(b); guard.ClientKey(same.String()) != key && !same.Is4In6() {
			t.Fatalf("%s and %s are in one /64 but have keys %q and %q", a, same, key, guard.ClientKey(same.String()))
		}
		b[7] ^= 1
		if other := netip.AddrFrom16(b); guard.ClientKey(other.String()) == key {
			t.Fatalf("%s is outside %s but has its key", other, key)
		}
	})
}
