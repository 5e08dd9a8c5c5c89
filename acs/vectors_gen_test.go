//go:build vectorgen

package acs

// This file made the signature vectors in vectors_test.go, once, with the official signers:
//
//	go test -tags vectorgen -run TestGenerateVectors ./acs/ -v
//
// It is kept so that the vectors can be reproduced; the tests never run it.

import (
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	aliyun "github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
)

func ptrs(m map[string]string) map[string]*string {
	p := make(map[string]*string, len(m))
	for k, v := range m {
		p[k] = dara.String(v)
	}
	return p
}

func encodeMap(m map[string]string) string {
	v := url.Values{}
	for k, s := range m {
		v.Set(k, s)
	}
	return v.Encode()
}

func printHeaders(h map[string]string) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\t\t\t%q: %q,\n", k, h[k])
	}
	return b.String()
}

func genV3(t *testing.T, name, method, host string, query map[string]string, contentType, body, date, nonce string) {
	h := map[string]string{
		"host":                  host,
		"x-acs-action":          "GetMigrationVerifyCode",
		"x-acs-version":         "2020-06-06",
		"x-acs-date":            date,
		"x-acs-signature-nonce": nonce,
	}
	if contentType != "" {
		h["content-type"] = contentType
	}
	alg := dara.String("ACS3-HMAC-SHA256")
	payload := hex.EncodeToString(utils.Hash([]byte(body), alg))
	h["x-acs-content-sha256"] = payload
	req := &dara.Request{Method: dara.String(method), Pathname: dara.String("/"), Query: ptrs(query), Headers: ptrs(h)}
	auth := utils.GetAuthorization(req, alg, dara.String(payload), dara.String("testid"), dara.String("testsecret"))
	h["authorization"] = *auth
	fmt.Printf("\t{\n\t\tname: %q, method: %q, query: %q, body: %q,\n\t\theader: map[string]string{\n%s\t\t},\n\t},\n",
		name, method, encodeMap(query), body, printHeaders(h))
}

func genV2(t *testing.T, name, method, host string, query, form map[string]string) {
	signed := map[string]string{}
	for k, v := range query {
		signed[k] = v
	}
	for k, v := range form {
		signed[k] = v
	}
	sig := utils.GetRPCSignature(ptrs(signed), dara.String(method), dara.String("testsecret"))
	ct := ""
	if len(form) > 0 {
		ct = "application/x-www-form-urlencoded"
	}
	fmt.Printf("\t{\n\t\tname: %q, method: %q, host: %q, contentType: %q,\n\t\tquery: %q,\n\t\tbody: %q,\n\t\tsignature: %q,\n\t},\n",
		name, method, host, ct, encodeMap(query), encodeMap(form), *sig)
}

func v2Base(ts, nonce string) map[string]string {
	return map[string]string{
		"AccessKeyId": "testid", "Action": "GetMigrationVerifyCode", "Format": "json",
		"SignatureMethod": "HMAC-SHA1", "SignatureNonce": nonce, "SignatureVersion": "1.0",
		"Timestamp": ts, "Version": "2020-06-06",
	}
}

func with(m map[string]string, kv ...string) map[string]string {
	c := map[string]string{}
	for k, v := range m {
		c[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		c[kv[i]] = kv[i+1]
	}
	return c
}

func TestGenerateVectors(t *testing.T) {
	const special = "a b*c~d+e/f=g&h%i中文ü!'()"
	fmt.Println("var vectorsV3 = []vectorV3{")
	genV3(t, "doc 4.4 POST", "POST", "cams.ap-southeast-1.aliyuncs.com",
		map[string]string{"CustSpaceId": "cams-abc", "Locale": "zh_CN", "Method": "sms", "PhoneNumber": "8613800001234"},
		"", "", "2024-01-01T00:00:00Z", "3156853299f313e23d1673dc12e1703d")
	genV3(t, "GET special characters and empty value", "GET", "127.0.0.1:8080",
		map[string]string{"CustSpaceId": "cams-abc", "Note": special, "Empty": "", "Tag.1.Key": "~tilde", "Plus": "1+1"},
		"", "", "2024-02-29T12:34:56Z", "0f1e2d3c4b5a69788796a5b4c3d2e1f0")
	genV3(t, "POST form body", "POST", "localhost:9000",
		map[string]string{"CustSpaceId": "cams-abc", "PhoneNumber": "8613800001234"},
		"application/x-www-form-urlencoded", encodeMap(map[string]string{"Locale": "en_US", "Remark": special, "Blank": ""}),
		"2024-06-30T23:59:59Z", "ffffffffffffffffffffffffffffffff")
	genV3(t, "POST no query", "POST", "cams.ap-southeast-1.aliyuncs.com", nil, "", "", "2025-01-01T00:00:00Z", "00000000000000000000000000000000")
	genV3(t, "key outside the unreserved set", "GET", "127.0.0.1:8080",
		map[string]string{"a b": "c d", "x*y": "z", "k~": "v"}, "", "", "2024-01-01T00:00:00Z", "abcdefabcdefabcdefabcdefabcdef01")
	fmt.Println("}")

	fmt.Println("var vectorsV2 = []vectorV2{")
	doc := v2Base("2024-01-01T00:00:00Z", "nonce-1")
	genV2(t, "doc 4.4 POST", "POST", "cams.ap-southeast-1.aliyuncs.com",
		with(doc, "CustSpaceId", "cams-abc", "Locale", "zh_CN", "Method", "sms", "PhoneNumber", "8613800001234"), nil)
	genV2(t, "GET special characters and empty value", "GET", "127.0.0.1:8080",
		with(v2Base("2024-02-29T12:34:56Z", "b6a4f1c2-3d4e-4f50-8a6b-7c8d9e0f1a2b"), "Note", special, "Empty", "", "Tag.1.Key", "~tilde", "Plus", "1+1"), nil)
	genV2(t, "POST query and form body", "POST", "localhost:9000",
		with(v2Base("2024-06-30T23:59:59Z", "9a8b7c6d5e4f"), "CustSpaceId", "cams-abc"),
		map[string]string{"PhoneNumber": "8613800001234", "Remark": special, "Blank": ""})
	genV2(t, "GET XML format", "GET", "127.0.0.1:8080",
		with(v2Base("2025-01-01T00:00:00Z", "n-xml"), "Format", "XML", "CustSpaceId", "cams-abc"), nil)
	genOldSDK(t)
	fmt.Println("}")
}

// genOldSDK captures what the old SDK's client sends (its Timestamp and nonce are its own).
func genOldSDK(t *testing.T) {
	type capture struct {
		method, host, rawQuery, contentType, body string
	}
	got := make(chan capture, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- capture{r.Method, r.Host, r.URL.RawQuery, r.Header.Get("Content-Type"), string(b)}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"RequestId":"X"}`)
	}))
	defer srv.Close()
	c, err := aliyun.NewClientWithAccessKey("ap-southeast-1", "testid", "testsecret")
	if err != nil {
		t.Fatal(err)
	}
	req := requests.NewCommonRequest()
	req.Method = "POST"
	req.Scheme = "http"
	req.Domain = strings.TrimPrefix(srv.URL, "http://")
	req.Version = "2020-06-06"
	req.ApiName = "GetMigrationVerifyCode"
	req.QueryParams["CustSpaceId"] = "cams-abc"
	req.QueryParams["Note"] = "x y*z~"
	req.FormParams["PhoneNumber"] = "8613800001234"
	req.FormParams["Remark"] = "中文 +1"
	if _, err := c.ProcessCommonRequest(req); err != nil {
		t.Fatal(err)
	}
	cp := <-got
	q, _ := url.ParseQuery(cp.rawQuery)
	sig := q.Get("Signature")
	q.Del("Signature")
	fmt.Printf("\t{\n\t\tname: %q, method: %q, host: %q, contentType: %q,\n\t\tquery: %q,\n\t\tbody: %q,\n\t\tsignature: %q,\n\t},\n",
		"old SDK ProcessCommonRequest, query and form", cp.method, cp.host, cp.contentType, q.Encode(), cp.body, sig)
}
