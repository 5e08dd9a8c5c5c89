package acs

import (
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/camsd/camsd"
)

// Scheme is the way a request is signed.
type Scheme int

const (
	// SchemeNone: neither an ACS3-HMAC-SHA256 Authorization header nor a Signature param.
	SchemeNone Scheme = iota
	// SchemeV2: RPC HMAC-SHA1, SignatureVersion 1.0, everything in the params.
	SchemeV2
	// SchemeV3: ACS3-HMAC-SHA256 in the Authorization header, protocol fields in x-acs-* headers.
	SchemeV3
)

func (s Scheme) String() string {
	switch s {
	case SchemeV2:
		return "V2"
	case SchemeV3:
		return "V3"
	}
	return "None"
}

// Formats of a response.
const (
	FormatJSON = "JSON"
	FormatXML  = "XML"
)

// Request is one API call as the protocol sees it.
type Request struct {
	Action, Version string

	// Params is the query string merged with a form body (application/x-www-form-urlencoded),
	// query values first. For V2 it includes the protocol params (Action, Signature, ...).
	// It must not be modified before Authenticate.
	Params url.Values

	Format      string // FormatJSON or FormatXML (XML only when a request not signed V3 says Format=XML)
	Scheme      Scheme
	AccessKeyID string
	// SecurityToken is the STS token the call carries (V3: the x-acs-security-token header,
	// which must be signed; V2: the SecurityToken param), "" when none.
	SecurityToken string
	Nonce         string
	Timestamp     string // as signed (V3: the trimmed x-acs-date; V2: Timestamp)
	Host          string // r.Host, the HostId of error bodies
	SourceIP      string // from r.RemoteAddr; no proxy header is trusted
	Secure        bool   // r.TLS != nil

	method     string
	path       string      // escaped path
	query      url.Values  // the query string alone: V3 signs it apart from the body
	header     http.Header // not copied: the caller owns r
	formParams bool        // the body contributed params
	bodyHash   string      // hex SHA-256 of the body; V3 only
	auth       authorization
	authOK     bool // the Authorization header parsed; V3 only
}

const formMediaType = "application/x-www-form-urlencoded"

// ParseRequest reads r, whose body the caller has already read (within its size limit) and
// passes in. It does not fail on protocol problems; Authenticator.Authenticate reports those
// in the gateway's order. It returns an InvalidParameter *camsd.Error only when the query
// string or a form body cannot be decoded.
func ParseRequest(r *http.Request, body []byte) (*Request, error) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &camsd.Error{Code: camsd.CodeInvalidParameter, Message: "The query string is not well formed."}
	}
	req := &Request{
		Params:   query,
		Format:   FormatJSON,
		Host:     strings.TrimSpace(r.Host),
		SourceIP: sourceIP(r.RemoteAddr),
		Secure:   r.TLS != nil,
		method:   r.Method,
		path:     r.URL.EscapedPath(),
		query:    query,
		header:   r.Header,
	}
	if len(body) > 0 && isForm(r.Header.Get("Content-Type")) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, &camsd.Error{Code: camsd.CodeInvalidParameter, Message: "The request body is not well formed."}
		}
		req.Params = mergeValues(query, form)
		req.formParams = len(form) > 0
	}

	switch {
	case strings.HasPrefix(r.Header.Get("Authorization"), algorithmV3):
		req.parseV3(body)
	case req.Params.Has("Signature"):
		req.Scheme = SchemeV2
		req.parseV2()
	default:
		req.parseNone()
	}
	if req.Scheme != SchemeV3 && strings.EqualFold(req.Params.Get("Format"), FormatXML) {
		req.Format = FormatXML
	}
	return req, nil
}

func (req *Request) parseV3(body []byte) {
	req.Scheme = SchemeV3
	// The values signed are trimmed, so the values used must be: a nonce read with a space
	// the signature does not cover would let a request be replayed.
	req.Action = req.signedHeader("x-acs-action")
	req.Version = req.signedHeader("x-acs-version")
	req.Timestamp = req.signedHeader("x-acs-date")
	req.Nonce = req.signedHeader("x-acs-signature-nonce")
	req.SecurityToken = req.signedHeader("x-acs-security-token")
	req.auth, req.authOK = parseAuthorization(req.header.Get("Authorization"))
	if req.authOK {
		req.AccessKeyID = req.auth.credential
	}
	sum := sha256.Sum256(body)
	req.bodyHash = hex.EncodeToString(sum[:])
}

func (req *Request) parseV2() {
	p := req.Params
	req.Action = p.Get("Action")
	req.Version = p.Get("Version")
	req.Timestamp = p.Get("Timestamp")
	req.Nonce = p.Get("SignatureNonce")
	req.AccessKeyID = p.Get("AccessKeyId")
	req.SecurityToken = p.Get("SecurityToken")
}

// parseNone fills what the first checks need to answer an unsigned request the way its
// sender would expect: from the params as V2 sends them, else from the V3 headers.
func (req *Request) parseNone() {
	req.parseV2()
	if req.Action == "" {
		req.Action = req.header.Get("x-acs-action")
	}
	if req.Version == "" {
		req.Version = req.header.Get("x-acs-version")
	}
}

func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == formMediaType
}

// mergeValues returns a new url.Values with the values of a, then those of b, for each key.
func mergeValues(a, b url.Values) url.Values {
	m := make(url.Values, len(a)+len(b))
	for k, vs := range a {
		m[k] = append([]string(nil), vs...)
	}
	for k, vs := range b {
		m[k] = append(m[k], vs...)
	}
	return m
}

func sourceIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}
