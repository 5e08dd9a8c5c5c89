package acs

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strings"

	"github.com/camsd/camsd"
)

const signatureMethodV2 = "HMAC-SHA1"

// protocolParamsV2 are read as single values; a request that sends one twice is refused
// rather than have the server and the signer read different copies.
var protocolParamsV2 = []string{
	"AccessKeyId", "Action", "Format", "SecurityToken", "Signature", "SignatureMethod", "SignatureNonce",
	"SignatureVersion", "Timestamp", "Version",
}

// checkV2 is step 4 for a V2 request.
func (req *Request) checkV2() error {
	p := req.Params
	if m := p.Get("SignatureMethod"); m != "" && m != signatureMethodV2 {
		return newError(camsd.CodeInvalidSignatureMethod)
	}
	for _, k := range protocolParamsV2 {
		if len(p[k]) > 1 {
			return incomplete()
		}
	}
	if p.Get("Signature") == "" || p.Get("SignatureMethod") == "" || p.Get("SignatureVersion") != "1.0" ||
		req.AccessKeyID == "" || !validNonce(req.Nonce) || req.Timestamp == "" {
		return incomplete()
	}
	return nil
}

// verifyV2 is step 7 for a V2 request.
func (req *Request) verifyV2(secret string) error {
	sts := stringToSignV2(req.method, req.Params)
	if !hmac.Equal([]byte(signV2(secret, sts)), []byte(req.Params.Get("Signature"))) {
		return signatureMismatch(sts)
	}
	return nil
}

// stringToSignV2 is METHOD&%2F&percentEncode(canonicalized params), where the canonicalized
// params are every param but Signature, sorted by key, key and value RFC 3986 encoded, joined
// as k=v&k=v (url.Values.Encode with the clients' substitutions).
func stringToSignV2(method string, params map[string][]string) string {
	var canon strings.Builder
	for _, k := range sortedKeys(params) {
		if k == "Signature" {
			continue
		}
		for _, v := range params[k] {
			if canon.Len() > 0 {
				canon.WriteByte('&')
			}
			writeEscaped(&canon, k)
			canon.WriteByte('=')
			writeEscaped(&canon, v)
		}
	}
	var b strings.Builder
	b.Grow(len(method) + 4 + canon.Len()*5/4)
	b.WriteString(method)
	b.WriteString("&%2F&")
	writeEscaped(&b, canon.String())
	return b.String()
}

func signV2(secret, stringToSign string) string {
	h := hmac.New(sha1.New, []byte(secret+"&"))
	h.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
