package guard

import (
	"net/netip"
	"strings"
)

// ClientKey returns the form of a client address that limits count: an
// IPv4 address as is (also when written IPv4-mapped), an IPv6 address as
// its /64 prefix, since one subscriber usually holds a whole /64. Zones
// and ports are dropped. An empty address gives "" (nothing to count); any
// other unparsable value counts as itself, so that it cannot share a
// bucket with real addresses.
func ClientKey(ip string) string {
	ip = strings.TrimSpace(ip)
	if ip == "" {
		return ""
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		ap, perr := netip.ParseAddrPort(ip)
		if perr != nil {
			return "?" + ip
		}
		a = ap.Addr()
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64) // never fails for an IPv6 address
	return p.String()
}
