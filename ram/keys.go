package ram

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// conditionKey is a condition key that camsd knows how to fill from a request.
type conditionKey int

const (
	keySourceIP conditionKey = iota + 1
	keyCurrentTime
	keySecureTransport
	keyAccessID
	keyMFAPresent
)

// conditionKeys holds the keys a policy may name, by lower-cased name: RAM compares key names
// case-insensitively.
//
// Any other key is a Parse error rather than a key that never matches: a misspelt key in a
// Deny would otherwise quietly switch the Deny off.
var conditionKeys = map[string]conditionKey{
	"acs:sourceip":        keySourceIP,
	"acs:currenttime":     keyCurrentTime,
	"acs:securetransport": keySecureTransport,
	"acs:accessid":        keyAccessID,
	// Alibaba Cloud sets acs:MFAPresent only for console sessions, never for AccessKey calls,
	// so a request to camsd never carries it. It is known so that real-world policies with
	// the common "Deny unless MFAPresent" statement still load, and behave as they do there.
	"acs:mfapresent": keyMFAPresent,
}

func lookupKey(name string) (conditionKey, bool) {
	k, ok := conditionKeys[strings.ToLower(name)]
	return k, ok
}

// The request's value of a key, as each operator family reads it. The second result is false
// when the request does not carry the key or the key is not of that type, and then no
// operator matches, negated ones included.

// text is the key's value as a string, for the String operators.
func (c *Context) text(k conditionKey) (string, bool) {
	switch k {
	case keySourceIP:
		return c.SourceIP, c.SourceIP != ""
	case keyCurrentTime:
		if c.CurrentTime.IsZero() {
			return "", false
		}
		return c.CurrentTime.UTC().Format(time.RFC3339), true
	case keySecureTransport:
		return strconv.FormatBool(c.SecureTransport), true
	case keyAccessID:
		return c.AccessID, c.AccessID != ""
	}
	return "", false
}

// number is the key's numeric value. No key that cams requests carry is numeric.
func (c *Context) number(conditionKey) (float64, bool) { return 0, false }

func (c *Context) time(k conditionKey) (time.Time, bool) {
	if k != keyCurrentTime || c.CurrentTime.IsZero() {
		return time.Time{}, false
	}
	return c.CurrentTime, true
}

func (c *Context) bool(k conditionKey) (bool, bool) {
	if k != keySecureTransport {
		return false, false
	}
	return c.SecureTransport, true
}

// addr is the source address, with an IPv4 address that arrived mapped into IPv6 (a dual-stack
// listener reports ::ffff:a.b.c.d) turned back into IPv4 so that IPv4 blocks match it.
func (c *Context) addr(k conditionKey) (netip.Addr, bool) {
	if k != keySourceIP {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(c.SourceIP)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}
