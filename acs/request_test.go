package acs

import (
	"crypto/tls"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

func TestParseRequest(t *testing.T) {
	type got struct {
		Action, Version, Format, AccessKeyID, Nonce, Timestamp, Host, SourceIP string
		Scheme                                                                 Scheme
		Secure                                                                 bool
		Params                                                                 url.Values
	}
	v3auth := "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-action,Signature=" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name        string
		method      string
		target      string
		header      map[string]string
		body        string
		remote      string
		tls         bool
		want        got
		wantErrCode string
	}{
		{
			name:   "V3 from headers",
			method: "POST", target: "/?CustSpaceId=c1&Format=xml",
			header: map[string]string{"Authorization": v3auth, "x-acs-action": "A", "x-acs-version": "V", "x-acs-date": "D", "x-acs-signature-nonce": "N"},
			remote: "192.0.2.1:5555", tls: true,
			want: got{Action: "A", Version: "V", Format: "JSON", AccessKeyID: "ak", Nonce: "N", Timestamp: "D", Host: "cams.test", SourceIP: "192.0.2.1",
				Scheme: SchemeV3, Secure: true, Params: url.Values{"CustSpaceId": {"c1"}, "Format": {"xml"}}},
		},
		{
			name:   "V2 ignores V3 headers",
			method: "GET", target: "/?Action=A&Version=V&Format=xMl&AccessKeyId=ak&SignatureNonce=N&Timestamp=T&Signature=S",
			header: map[string]string{"x-acs-action": "Other", "x-acs-version": "Other"},
			remote: "[2001:db8::1]:443",
			want: got{Action: "A", Version: "V", Format: "XML", AccessKeyID: "ak", Nonce: "N", Timestamp: "T", Host: "cams.test", SourceIP: "2001:db8::1",
				Scheme: SchemeV2, Params: url.Values{"Action": {"A"}, "Version": {"V"}, "Format": {"xMl"}, "AccessKeyId": {"ak"}, "SignatureNonce": {"N"}, "Timestamp": {"T"}, "Signature": {"S"}}},
		},
		{
			name:   "V2 from a form body, query values first",
			method: "POST", target: "/?Action=A&Note=q",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
			body:   "Version=V&Note=b+1&Signature=S%2B%3D",
			remote: "192.0.2.1:1",
			want: got{Action: "A", Version: "V", Format: "JSON", Host: "cams.test", SourceIP: "192.0.2.1", Scheme: SchemeV2,
				Params: url.Values{"Action": {"A"}, "Note": {"q", "b 1"}, "Version": {"V"}, "Signature": {"S+="}}},
		},
		{
			name:   "a body that is not a form is not read",
			method: "POST", target: "/?Action=A",
			header: map[string]string{"Content-Type": "application/json"},
			body:   `{"Version":"V"}`,
			remote: "192.0.2.1:1",
			want:   got{Action: "A", Format: "JSON", Host: "cams.test", SourceIP: "192.0.2.1", Params: url.Values{"Action": {"A"}}},
		},
		{
			name:   "unsigned: params first, then V3 headers",
			method: "POST", target: "/?Format=XML",
			header: map[string]string{"x-acs-action": "A", "x-acs-version": "V", "Authorization": "ACS3-HMAC-SM3 Credential=ak"},
			remote: "not-an-address",
			want:   got{Action: "A", Version: "V", Format: "XML", Host: "cams.test", SourceIP: "not-an-address", Params: url.Values{"Format": {"XML"}}},
		},
		{name: "query not decodable", method: "GET", target: "/?a=%zz", wantErrCode: "InvalidParameter"},
		{name: "query with semicolon", method: "GET", target: "/?a=1;b=2", wantErrCode: "InvalidParameter"},
		{
			name: "form body not decodable", method: "POST", target: "/",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: "a=%zz",
			wantErrCode: "InvalidParameter",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			r.Host = "cams.test"
			r.RemoteAddr = tc.remote
			if !tc.tls {
				r.TLS = nil
			} else {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			req, err := ParseRequest(r, []byte(tc.body))
			if tc.wantErrCode != "" {
				if code(err) != tc.wantErrCode || Message(code(err)) == "" {
					t.Fatalf("got %v, want %s", err, tc.wantErrCode)
				}
				if _, ok := err.(*camsd.Error); !ok {
					t.Errorf("error %T is not a *camsd.Error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := got{req.Action, req.Version, req.Format, req.AccessKeyID, req.Nonce, req.Timestamp, req.Host, req.SourceIP, req.Scheme, req.Secure, req.Params}
			if diff := cmp.Diff(tc.want, g); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestScheme_String(t *testing.T) {
	got := []string{SchemeNone.String(), SchemeV2.String(), SchemeV3.String()}
	if diff := cmp.Diff([]string{"None", "V2", "V3"}, got); diff != "" {
		t.Error(diff)
	}
}

func TestParseAuthorization(t *testing.T) {
	sig := strings.Repeat("0f", 32)
	for _, tc := range []struct {
		in      string
		ok      bool
		cred    string
		headers []string
	}{
		{"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-date,Signature=" + sig, true, "ak", []string{"host", "x-acs-date"}},
		{"ACS3-HMAC-SHA256  Credential=ak, SignedHeaders=Host , Signature=" + strings.ToUpper(sig), true, "ak", []string{"host"}},
		{"ACS3-HMAC-SHA256 Signature=" + sig + ",Credential=ak,SignedHeaders=host", true, "ak", []string{"host"}},
		{"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host,Signature=" + sig + ",Credential=ak", false, "", nil},
		{"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;host,Signature=" + sig, false, "", nil},
		{"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;;date,Signature=" + sig, false, "", nil},
		{"ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=" + sig, false, "", nil},
		{"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host,Signature=" + sig[:62], false, "", nil},
		{"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host,Signature=zz" + sig[2:], false, "", nil},
		{"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host", false, "", nil},
		{"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host,Signature=" + sig + ",Scope=x", false, "", nil},
		{"ACS3-HMAC-SHA256Credential=ak,SignedHeaders=host,Signature=" + sig, false, "", nil},
		{"ACS3-HMAC-SHA256 Credential=ak/20240101/cn/cams/aliyun_v4_request,SignedHeaders=host,Signature=" + sig, true, "ak/20240101/cn/cams/aliyun_v4_request", []string{"host"}},
		{"", false, "", nil},
	} {
		a, ok := parseAuthorization(tc.in)
		if ok != tc.ok || ok && (a.credential != tc.cred || !cmp.Equal(a.signedHeaders, tc.headers)) {
			t.Errorf("parseAuthorization(%q) = %+v, %v; want %q %q %v", tc.in, a, ok, tc.cred, tc.headers, tc.ok)
		}
	}
}
