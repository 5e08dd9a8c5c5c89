package acs

import (
	"net/url"
	"testing"
)

func TestAuthenticate_vectorsV3(t *testing.T) {
	for _, v := range vectorsV3 {
		t.Run(v.name, func(t *testing.T) {
			a, ns := newAuthenticator(mustTime(t, v.header["x-acs-date"]))
			r := httpRequest(v.method, "", v.query, v.header, v.body)
			req, p, err := authenticate(t, a, r, v.body)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if p.Key.ID != testKeyID || req.Scheme != SchemeV3 || req.Action != testAction || ns.len() != 1 {
				t.Errorf("got key %q scheme %v action %q nonces %d", p.Key.ID, req.Scheme, req.Action, ns.len())
			}

			// The same request signed with another secret is refused.
			a, _ = newAuthenticator(mustTime(t, v.header["x-acs-date"]))
			h := clone(v.header)
			h["authorization"] = h["authorization"][:len(h["authorization"])-1] + flipHex(h["authorization"][len(h["authorization"])-1:])
			_, _, err = authenticate(t, a, httpRequest(v.method, "", v.query, h, v.body), v.body)
			if got := code(err); got != "SignatureDoesNotMatch" {
				t.Errorf("tampered signature: got %q, want SignatureDoesNotMatch", got)
			}
		})
	}
}

func TestAuthenticate_vectorsV2(t *testing.T) {
	for _, v := range vectorsV2 {
		t.Run(v.name, func(t *testing.T) {
			q, err := url.ParseQuery(v.query)
			if err != nil {
				t.Fatal(err)
			}
			a, ns := newAuthenticator(mustTime(t, q.Get("Timestamp")))
			header := map[string]string{}
			if v.contentType != "" {
				header["Content-Type"] = v.contentType
			}
			raw := v.query + "&Signature=" + url.QueryEscape(v.signature)
			req, p, err := authenticate(t, a, httpRequest(v.method, v.host, raw, header, v.body), v.body)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if p.Key.ID != testKeyID || req.Scheme != SchemeV2 || req.Action != testAction || ns.len() != 1 {
				t.Errorf("got key %q scheme %v action %q nonces %d", p.Key.ID, req.Scheme, req.Action, ns.len())
			}

			a, _ = newAuthenticator(mustTime(t, q.Get("Timestamp")))
			raw = v.query + "&Signature=" + url.QueryEscape(flipBase64(v.signature))
			_, _, err = authenticate(t, a, httpRequest(v.method, v.host, raw, header, v.body), v.body)
			if got := code(err); got != "SignatureDoesNotMatch" {
				t.Errorf("tampered signature: got %q, want SignatureDoesNotMatch", got)
			}
		})
	}
}

func clone(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// flipBase64 changes the first character of a base64 string.
func flipBase64(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func flipHex(s string) string {
	if s == "0" {
		return "1"
	}
	return "0"
}
