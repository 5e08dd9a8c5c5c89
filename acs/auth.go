package acs

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/camsd/camsd"
)

// DefaultMaxSkew is how far a request's timestamp may be from the server's clock, either way,
// and so how long a nonce is remembered: 15 minutes, as on the Alibaba Cloud gateway.
const DefaultMaxSkew = 15 * time.Minute

// maxNonceLen bounds what a client can make the nonce store keep. The clients send 32 hex
// digits (darabonba) or a UUID (the old SDK).
const maxNonceLen = 128

// KeyLookup finds the principal of an AccessKey.
type KeyLookup interface {
	// Principal returns the key with that id, its account and its RAM user.
	// Returns camsd.ErrNotFound when no such key exists.
	Principal(ctx context.Context, accessKeyID string) (*camsd.Principal, error)
}

// SessionLookup finds the principal of STS temporary credentials (package sts).
type SessionLookup interface {
	// Session returns the principal of the temporary AccessKeyId accessKeyID, whose call
	// carried token, at now. Errors that answer the call are *camsd.Error
	// (MissingSecurityToken, InvalidSecurityToken.*).
	Session(ctx context.Context, accessKeyID, token string, now time.Time) (*camsd.Principal, error)
}

// Authenticator runs the gateway's protocol checks on a parsed Request.
type Authenticator struct {
	Versions map[string]bool                   // the API versions served, e.g. {"2020-06-06": true}
	Actions  func(version, action string) bool // whether an action exists in a version
	Keys     KeyLookup
	Sessions SessionLookup // nil: no STS; "STS." ids are then not found
	Nonces   camsd.NonceStore
	// Admission, when set, names the flow-control decision of a call by p (key and limit),
	// which the nonce store may make with the nonce (camsd.Call.Admission).
	Admission func(p *camsd.Principal, action string) (key string, limit int)
	MaxSkew   time.Duration    // zero means DefaultMaxSkew
	Now       func() time.Time // nil means time.Now
}

// Authenticate returns who signed req. It runs the checks in the gateway's order, and the
// first that fails answers with a *camsd.Error:
//
//  1. Version is served: InvalidVersion.
//  2. Action exists: InvalidAction.NotFound.
//  3. Format, if sent, is JSON or XML in any case: InvalidParameter.Format.
//  4. The signature is complete: IncompleteSignature, or InvalidSignatureMethod for a V2
//     SignatureMethod other than HMAC-SHA1. A nonce must be 1 to 128 bytes of UTF-8 without
//     ASCII control characters (validNonce).
//  5. The timestamp is well formed (InvalidTimeStamp.Format) and within MaxSkew of the clock
//     either way (InvalidTimeStamp.Expired).
//  6. The AccessKey exists (InvalidAccessKeyId.NotFound) and is active
//     (InvalidAccessKeyId.Inactive); any other lookup error is returned unchanged. An id that
//     is not UTF-8, holds an ASCII control character or is longer than 128 bytes is not
//     found without asking Keys. A long-term key's call that carries a security token is
//     refused (InvalidSecurityToken.MismatchWithAccessKey: the token is no key's but an STS
//     one's), never served as if it carried none. An id that starts with "STS." is temporary
//     credentials: Sessions checks its token (MissingSecurityToken, InvalidSecurityToken.*)
//     and derives its secret, without asking Keys.
//  7. The signature matches: SignatureDoesNotMatch, whose message ends with the server's
//     string to sign so that a client can tell a wrong secret from a signer bug (its first
//     KiB only, and how much was cut: maxEchoedStringToSign).
//  8. The nonce was not used (SignatureNonceUsed); a full nonce store gives
//     ServiceUnavailable; any other store error is returned unchanged.
//
// The nonce is recorded only once the signature verified, so that nobody can burn another
// key's nonces.
func (a *Authenticator) Authenticate(ctx context.Context, call *camsd.Call, req *Request) (*camsd.Principal, error) {
	if req.Version == "" || !a.Versions[req.Version] {
		return nil, newError(camsd.CodeInvalidVersion)
	}
	if req.Action == "" || a.Actions == nil || !a.Actions(req.Version, req.Action) {
		return nil, newError(camsd.CodeInvalidActionNotFound)
	}
	if f := req.Params["Format"]; len(f) > 0 && !strings.EqualFold(f[0], FormatJSON) && !strings.EqualFold(f[0], FormatXML) {
		return nil, newError(camsd.CodeInvalidParameterFormat)
	}
	if err := req.checkSignature(); err != nil {
		return nil, err
	}
	ts, err := parseTimestamp(req.Timestamp)
	if err != nil {
		return nil, err
	}
	maxSkew := a.maxSkew()
	if d := a.now().Sub(ts); d > maxSkew || d < -maxSkew {
		return nil, newError(camsd.CodeInvalidTimeStampExpired)
	}
	p, err := a.principal(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := req.verify(p.Key.Secret); err != nil {
		return nil, err
	}
	if a.Admission != nil && call != nil {
		key, limit := a.Admission(p, req.Action)
		call.Admission = &camsd.Admission{Key: key, Limit: limit}
	}
	if err := a.useNonce(ctx, call, req, ts.Add(maxSkew)); err != nil {
		return nil, err
	}
	return p, nil
}

func (req *Request) checkSignature() error {
	switch req.Scheme {
	case SchemeV3:
		return req.checkV3()
	case SchemeV2:
		return req.checkV2()
	}
	return incomplete()
}

func (req *Request) verify(secret string) error {
	if req.Scheme == SchemeV3 {
		return req.verifyV3(secret)
	}
	return req.verifyV2(secret)
}

// parseTimestamp reads yyyy-MM-ddTHH:mm:ssZ, as the clients send it, or any RFC 3339 time
// (fractional seconds, offsets).
func parseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, newError(camsd.CodeInvalidTimeStampFormat)
	}
	return t, nil
}

func (a *Authenticator) principal(ctx context.Context, req *Request) (*camsd.Principal, error) {
	accessKeyID := req.AccessKeyID
	if !validAccessKeyID(accessKeyID) {
		// Not UTF-8, a control character or too long: no key has such an id, and some stores
		// cannot even be asked (PostgreSQL refuses NUL and invalid UTF-8 in text).
		return nil, newError(camsd.CodeInvalidAccessKeyIDNotFound)
	}
	if strings.HasPrefix(accessKeyID, camsd.STSKeyPrefix) {
		return a.session(ctx, req)
	}
	p, err := a.Keys.Principal(ctx, accessKeyID)
	switch {
	case errors.Is(err, camsd.ErrNotFound):
		return nil, newError(camsd.CodeInvalidAccessKeyIDNotFound)
	case err != nil:
		return nil, err
	case p == nil:
		return nil, errors.New("acs: key lookup returned no principal and no error")
	case p.Key.Status != camsd.KeyActive:
		// Fail closed: a key whose status is not Active (Inactive, or unset by a store) signs nothing.
		return nil, newError(camsd.CodeInvalidAccessKeyIDInactive)
	case req.SecurityToken != "":
		return nil, newError(camsd.CodeInvalidSecurityTokenMismatch)
	}
	return p, nil
}

func (a *Authenticator) session(ctx context.Context, req *Request) (*camsd.Principal, error) {
	if a.Sessions == nil {
		return nil, newError(camsd.CodeInvalidAccessKeyIDNotFound)
	}
	return a.Sessions.Session(ctx, req.AccessKeyID, req.SecurityToken, a.now())
}

func (a *Authenticator) useNonce(ctx context.Context, call *camsd.Call, req *Request, expires time.Time) error {
	err := a.Nonces.Use(ctx, call, req.AccessKeyID, req.Nonce, expires)
	switch {
	case errors.Is(err, camsd.ErrNonceUsed):
		return newError(camsd.CodeSignatureNonceUsed)
	case errors.Is(err, camsd.ErrNonceStoreFull), errors.Is(err, camsd.ErrUnavailable):
		// Fail closed: a nonce that cannot be recorded is never let through.
		return newError(camsd.CodeServiceUnavailable)
	}
	return err
}

// validNonce reports whether n can be a nonce: 1 to maxNonceLen bytes of UTF-8 without ASCII
// control characters. Any other nonce makes the signature incomplete (IncompleteSignature, 400,
// step 4), which is what a nonce too long already answered: of the catalogue's codes it is the
// one that says the request's signing fields are not well formed, and it is decided before the
// AccessKey lookup, so that no key store and no nonce store ever sees such a nonce
// (PostgreSQL refuses NUL and invalid UTF-8 in text; SQLite would keep them).
func validNonce(n string) bool { return validToken(n, maxNonceLen) }

func (a *Authenticator) maxSkew() time.Duration {
	if a.MaxSkew > 0 {
		return a.MaxSkew
	}
	return DefaultMaxSkew
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}
