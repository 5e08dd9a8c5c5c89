package acs

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/camsd/camsd"
)

// Seed corpora are in testdata/fuzz/<FuzzName>/. Run with, e.g.,
//
//	go test -run '^$' -fuzz FuzzParseRequest -fuzztime 20s ./acs/

func FuzzParseAuthorization(f *testing.F) {
	sig := strings.Repeat("ab", 32)
	f.Add("ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-date,Signature=" + sig)
	f.Add("ACS3-HMAC-SHA256 Credential=ak, SignedHeaders=HOST,Signature=" + sig + ",Signature=" + sig)
	f.Fuzz(func(t *testing.T, h string) {
		a, ok := parseAuthorization(h)
		if !ok {
			return
		}
		if a.credential == "" || len(a.signedHeaders) == 0 || len(a.signature) != sha256.Size {
			t.Fatalf("accepted %q as %+v", h, a)
		}
		for i, n := range a.signedHeaders {
			if n == "" || n != strings.ToLower(n) || slices.Contains(a.signedHeaders[:i], n) {
				t.Fatalf("accepted %q with signed headers %q", h, a.signedHeaders)
			}
		}
		// What was accepted reads back the same from its canonical form.
		canon := algorithmV3 + " Credential=" + a.credential + ",SignedHeaders=" + strings.Join(a.signedHeaders, ";") +
			",Signature=" + hex.EncodeToString(a.signature)
		b, ok := parseAuthorization(canon)
		if !ok || b.credential != a.credential || !slices.Equal(b.signedHeaders, a.signedHeaders) || !slices.Equal(b.signature, a.signature) {
			t.Fatalf("%q parsed as %+v, its canonical form %q as %+v %v", h, a, canon, b, ok)
		}
	})
}

// FuzzParseRequest decodes arbitrary requests, then checks the canonicalization against the
// official darabonba signer: whatever query and form it decodes, a signature the official
// signer makes over those params verifies, V3 and V2.
func FuzzParseRequest(f *testing.F) {
	f.Add("POST", "CustSpaceId=cams-abc&PhoneNumber=8613800001234", "", "")
	f.Add("GET", "a+b=c%20d&x%2Ay=~&Empty=", "application/x-www-form-urlencoded", "Remark=%E4%B8%AD+1&Note=")
	f.Fuzz(func(t *testing.T, method, rawQuery, contentType, body string) {
		if method == "" {
			method = "GET"
		}
		h := http.Header{}
		h.Set("Content-Type", contentType)
		for k, v := range v3Headers("cams.test", testAction, testVersion, testNow, "nonce") {
			if k != "host" {
				h.Set(k, v)
			}
		}
		sum := sha256.Sum256([]byte(body))
		h.Set("x-acs-content-sha256", hex.EncodeToString(sum[:]))
		r := &http.Request{Method: method, URL: &url.URL{Path: "/", RawQuery: rawQuery}, Header: h, Host: "cams.test", RemoteAddr: "192.0.2.1:1"}

		query, qerr := url.ParseQuery(rawQuery)
		signed := map[string]*string{}
		for k, vs := range query {
			signed[k] = dara.String(vs[0])
		}
		dh := map[string]*string{"host": dara.String("cams.test")}
		for k := range h {
			if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-acs-") || lk == "content-type" {
				dh[lk] = dara.String(strings.TrimSpace(h.Get(k)))
			}
		}
		dr := &dara.Request{Method: dara.String(method), Pathname: dara.String("/"), Query: signed, Headers: dh}
		h.Set("Authorization", *utils.GetAuthorization(dr, dara.String(algV3), dara.String(h.Get("x-acs-content-sha256")),
			dara.String(testKeyID), dara.String(testSecret)))

		req, err := ParseRequest(r, []byte(body))
		if err != nil {
			if e, ok := err.(*camsd.Error); !ok || e.Code != camsd.CodeInvalidParameter {
				t.Fatalf("ParseRequest error %v is not InvalidParameter", err)
			}
			return
		}
		if qerr != nil {
			t.Fatalf("query %q does not decode (%v) yet ParseRequest accepted it", rawQuery, qerr)
		}
		if req.Scheme != SchemeV3 {
			t.Fatalf("scheme %v", req.Scheme)
		}
		if err := req.checkV3(); err != nil && !req.formParams {
			t.Fatalf("checkV3: %v", err)
		}
		single := func(v url.Values) bool {
			for _, vs := range v {
				if len(vs) != 1 {
					return false
				}
			}
			return true
		}
		if single(query) {
			if err := req.verifyV3(testSecret); err != nil {
				t.Fatalf("V3 signed by darabonba refused: %v\nquery %q method %q", err, rawQuery, method)
			}
		}

		sts := stringToSignV2(method, req.Params)
		rest, ok := strings.CutPrefix(sts, method+"&%2F&")
		if !ok || strings.ContainsFunc(rest, func(c rune) bool { return c > 0x7f || c != '%' && !unreserved(byte(c)) }) {
			t.Fatalf("V2 string to sign %q", sts)
		}
		if single(req.Params) {
			params := map[string]*string{}
			for k, vs := range req.Params {
				if k != "Signature" {
					params[k] = dara.String(vs[0])
				}
			}
			want := *utils.GetRPCSignature(params, dara.String(method), dara.String(testSecret))
			if got := signV2(testSecret, sts); got != want {
				t.Fatalf("V2 signature %q, darabonba %q\nparams %v", got, want, req.Params)
			}
		}
	})
}
