package acs

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The differential tests sign random parameter sets with the official darabonba signer: every
// one must be accepted, and changing one byte of any param must give SignatureDoesNotMatch.

var (
	keyPool     = []string{"CustSpaceId", "PhoneNumber", "Locale", "Method", "OwnerId", "ResourceOwnerAccount", "ResourceOwnerId", "Tag.1.Key"}
	oddKeys     = []string{"a b", "x*y", "ü", "k~", "a+b", "%7E", "q=r", "s&t", "Ω"}
	valueRunes  = []rune("abcXYZ019 *~+/=&%?#:@!'()-_.,;$[]\"<>\\中ü😀\t")
	keyAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
)

// randomParams returns up to max params whose keys are not in avoid.
func randomParams(rng *rand.Rand, max int, avoid map[string]string) map[string]string {
	m := map[string]string{}
	for range rng.IntN(max + 1) {
		var k string
		switch r := rng.IntN(10); {
		case r < 5:
			k = keyPool[rng.IntN(len(keyPool))]
		case r < 9:
			b := []byte{'K'}
			for range 1 + rng.IntN(10) {
				b = append(b, keyAlphabet[rng.IntN(len(keyAlphabet))])
			}
			k = string(b)
		default:
			k = oddKeys[rng.IntN(len(oddKeys))]
		}
		if _, ok := avoid[k]; ok {
			continue
		}
		v := make([]rune, rng.IntN(21))
		for i := range v {
			v[i] = valueRunes[rng.IntN(len(valueRunes))]
		}
		m[k] = string(v)
	}
	return m
}

// flipByte changes one byte of s (or appends one to an empty s).
func flipByte(rng *rand.Rand, s string) string {
	if s == "" {
		return "x"
	}
	b := []byte(s)
	b[rng.IntN(len(b))] ^= 1
	return string(b)
}

// mutation is one change to a signed request.
type mutation struct {
	name  string
	apply func(r *http.Request, body *string)
}

// paramMutations change one byte of the key, then of the value, of every param in raw
// (a query string or a form body), through set, except the keys and values in skip.
func paramMutations(rng *rand.Rand, where, raw string, set func(r *http.Request, body *string, s string), skip map[string]string) []mutation {
	vals, _ := url.ParseQuery(raw)
	var ms []mutation
	for k, vs := range vals {
		nk, nv := flipByte(rng, k), flipByte(rng, vs[0])
		if skip[k] == "" {
			ms = append(ms, mutation{where + " key " + k, func(r *http.Request, body *string) {
				c := cloneValues(vals)
				delete(c, k)
				c[nk] = append(c[nk], vs...)
				set(r, body, c.Encode())
			}})
		}
		if skip[k] != "both" {
			ms = append(ms, mutation{where + " value of " + k, func(r *http.Request, body *string) {
				c := cloneValues(vals)
				c.Set(k, nv)
				set(r, body, c.Encode())
			}})
		}
	}
	return ms
}

func setQuery(r *http.Request, _ *string, s string)   { r.URL.RawQuery = s }
func setBody(_ *http.Request, body *string, s string) { *body = s }

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// check authenticates the signed request, then each mutation of a fresh copy of it.
func check(t *testing.T, build func() (*http.Request, string), ms []mutation) {
	t.Helper()
	a, _ := newAuthenticator(mustTime(t, testNow))
	r, body := build()
	if req, _, err := authenticate(t, a, r, body); err != nil {
		t.Fatalf("signed request refused: %v\nquery %q body %q scheme %v", err, r.URL.RawQuery, body, req.Scheme)
	}
	for _, m := range ms {
		a, _ := newAuthenticator(mustTime(t, testNow))
		r, body := build()
		m.apply(r, &body)
		r.Body = io.NopCloser(strings.NewReader(body))
		if _, _, err := authenticate(t, a, r, body); code(err) != "SignatureDoesNotMatch" {
			t.Errorf("%s: got %v, want SignatureDoesNotMatch\nquery %q body %q", m.name, err, r.URL.RawQuery, body)
		}
	}
}

func TestAuthenticate_differentialV3(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 2020_06_06))
	for i := range 300 {
		query := randomParams(rng, 8, nil)
		var form map[string]string
		method := []string{"GET", "POST"}[rng.IntN(2)]
		if method == "POST" && rng.IntN(3) == 0 {
			form = randomParams(rng, 4, query)
		}
		h := v3Headers(testHost, testAction, testVersion, testNow, NewRequestID())
		body := ""
		if len(form) > 0 {
			h["content-type"] = "application/x-www-form-urlencoded"
			body = encodeParams(form)
		}
		build := func() (*http.Request, string) {
			return officialV3(method, query, h, body, body, testKeyID, testSecret), body
		}
		r, _ := build()
		ms := paramMutations(rng, "query", r.URL.RawQuery, setQuery, nil)
		ms = append(ms, paramMutations(rng, "body", body, setBody, nil)...)
		ms = append(ms,
			mutation{"header x-acs-signature-nonce", func(r *http.Request, _ *string) {
				r.Header.Set("x-acs-signature-nonce", flipByte(rng, r.Header.Get("x-acs-signature-nonce")))
			}},
			mutation{"header x-acs-date", func(r *http.Request, _ *string) {
				r.Header.Set("x-acs-date", strings.Replace(r.Header.Get("x-acs-date"), ":00Z", ":01Z", 1))
			}},
			mutation{"host", func(r *http.Request, _ *string) { r.Host = flipByte(rng, r.Host) }},
			mutation{"method", func(r *http.Request, _ *string) {
				r.Method = map[string]string{"GET": "POST", "POST": "GET"}[r.Method]
			}})
		if i%50 == 0 {
			t.Logf("case %d: %s %q body %q, %d mutations", i, method, r.URL.RawQuery, body, len(ms))
		}
		check(t, build, ms)
	}
}

func TestAuthenticate_differentialV2(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2020_06_06))
	// Changing these gives an earlier error than SignatureDoesNotMatch.
	skip := map[string]string{"SignatureNonce": "key"}
	for _, k := range []string{"Signature", "AccessKeyId", "Action", "Version", "SignatureMethod", "SignatureVersion", "Timestamp", "Format"} {
		skip[k] = "both"
	}
	for i := range 300 {
		query := v2Params(testAction, testVersion, testNow, NewRequestID())
		for k, v := range randomParams(rng, 8, query) {
			query[k] = v
		}
		method := []string{"GET", "POST"}[rng.IntN(2)]
		var form map[string]string
		if method == "POST" && rng.IntN(3) == 0 {
			form = randomParams(rng, 4, query)
		}
		build := func() (*http.Request, string) { return officialV2(method, testHost, query, form, testSecret) }
		r, body := build()
		ms := paramMutations(rng, "query", r.URL.RawQuery, setQuery, skip)
		ms = append(ms, paramMutations(rng, "body", body, setBody, skip)...)
		ms = append(ms,
			mutation{"Timestamp", func(r *http.Request, _ *string) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "00Z", "01Z", 1)
			}},
			mutation{"Format", func(r *http.Request, _ *string) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "Format=json", "Format=jsoN", 1)
			}},
			mutation{"method", func(r *http.Request, _ *string) {
				r.Method = map[string]string{"GET": "POST", "POST": "GET"}[r.Method]
			}})
		if i%50 == 0 {
			t.Logf("case %d: %s %q body %q, %d mutations", i, method, r.URL.RawQuery, body, len(ms))
		}
		check(t, build, ms)
	}
}
