package acs

import (
	"encoding/hex"
	"net/http"
	"net/url"

	"github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
)

// Requests signed by the official darabonba signer (utils.GetAuthorization for V3,
// utils.GetRPCSignature for V2), encoded as darabonba encodes them (url.Values.Encode), so
// that no test checks this package's signatures against its own code.

const algV3 = "ACS3-HMAC-SHA256"

// v3Headers are the headers darabonba signs on an RPC call, less x-acs-content-sha256.
func v3Headers(host, action, version, date, nonce string) map[string]string {
	return map[string]string{
		"host":                  host,
		"x-acs-action":          action,
		"x-acs-version":         version,
		"x-acs-date":            date,
		"x-acs-signature-nonce": nonce,
	}
}

// officialV3 signs a V3 request with darabonba. The payload hash, signed and sent as
// x-acs-content-sha256, is that of signedBody; the request carries body. headers with an
// empty value are dropped; header names are kept as given.
func officialV3(method string, query, headers map[string]string, signedBody, body, keyID, secret string) *http.Request {
	h := map[string]string{}
	for k, v := range headers {
		if v != "" {
			h[k] = v
		}
	}
	if _, ok := h["x-acs-content-sha256"]; !ok {
		h["x-acs-content-sha256"] = hex.EncodeToString(utils.Hash([]byte(signedBody), dara.String(algV3)))
	}
	dr := &dara.Request{
		Method:   dara.String(method),
		Pathname: dara.String("/"),
		Query:    ptrMap(query),
		Headers:  ptrMap(h),
	}
	h["authorization"] = *utils.GetAuthorization(dr, dara.String(algV3),
		dara.String(h["x-acs-content-sha256"]), dara.String(keyID), dara.String(secret))
	return httpRequest(method, "", encodeParams(query), h, body)
}

// v2Params are the protocol params darabonba adds on a V2 call.
func v2Params(action, version, timestamp, nonce string) map[string]string {
	return map[string]string{
		"AccessKeyId": testKeyID, "Action": action, "Format": "json", "SignatureMethod": "HMAC-SHA1",
		"SignatureNonce": nonce, "SignatureVersion": "1.0", "Timestamp": timestamp, "Version": version,
	}
}

// officialV2 signs query ∪ form with darabonba and puts Signature in the query, form in a
// form body.
func officialV2(method, host string, query, form map[string]string, secret string) (*http.Request, string) {
	signed := map[string]string{}
	for k, v := range query {
		signed[k] = v
	}
	for k, v := range form {
		signed[k] = v
	}
	sig := *utils.GetRPCSignature(ptrMap(signed), dara.String(method), dara.String(secret))
	raw := encodeParams(query)
	if raw != "" {
		raw += "&"
	}
	raw += "Signature=" + url.QueryEscape(sig)
	header := map[string]string{}
	body := ""
	if form != nil {
		header["Content-Type"] = "application/x-www-form-urlencoded"
		body = encodeParams(form)
	}
	return httpRequest(method, host, raw, header, body), body
}

func ptrMap(m map[string]string) map[string]*string {
	p := make(map[string]*string, len(m))
	for k, v := range m {
		p[k] = dara.String(v)
	}
	return p
}

func encodeParams(m map[string]string) string {
	v := url.Values{}
	for k, s := range m {
		v.Set(k, s)
	}
	return v.Encode()
}
