package sts

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/camsd/camsd"
)

// tokenPrefix starts every token; its version changes if the claims' meaning ever does.
const tokenPrefix = "CAMSD1."

// Labels keep the two uses of the key apart: no token's MAC is ever some key id's secret.
const (
	labelToken  = "camsd sts token v1\x00"
	labelSecret = "camsd sts secret v1\x00"
)

// MinKeyLen is the shortest signing key accepted: HMAC-SHA256's own output size.
const MinKeyLen = 32

// maxTokenLen bounds what Parse reads: the claims' fields are bounded (a session policy of
// 2048 bytes at most, as STS's, names of 64) and a token is well under 4 KiB.
const maxTokenLen = 8 << 10

// Claims are what a security token says. The token holds them as JSON with short names.
type Claims struct {
	AccessKeyID string `json:"k"`
	UID         string `json:"u"` // the role's account
	Role        string `json:"r"` // the role's name
	Session     string `json:"s"` // RoleSessionName
	Policy      string `json:"p,omitempty"`
	Expires     int64  `json:"e"` // unix seconds
}

// Expiration is when the credentials stop working.
func (c *Claims) Expiration() time.Time { return time.Unix(c.Expires, 0).UTC() }

var errMalformed = errors.New("sts: malformed security token")

// ParseToken splits a token into its claims and MAC, checking its form only (Key.Verify checks
// the MAC). It returns an error for anything that is not a token this package could have made.
func ParseToken(token string) (claims Claims, payload, mac []byte, err error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok || len(token) > maxTokenLen {
		return claims, nil, nil, errMalformed
	}
	p64, m64, ok := strings.Cut(rest, ".")
	if !ok {
		return claims, nil, nil, errMalformed
	}
	payload, err = base64.RawURLEncoding.Strict().DecodeString(p64)
	if err != nil {
		return claims, nil, nil, errMalformed
	}
	mac, err = base64.RawURLEncoding.Strict().DecodeString(m64)
	if err != nil || len(mac) != sha256.Size {
		return claims, nil, nil, errMalformed
	}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&claims); err != nil || dec.More() {
		return Claims{}, nil, nil, errMalformed
	}
	if !strings.HasPrefix(claims.AccessKeyID, camsd.STSKeyPrefix) || claims.UID == "" ||
		claims.Role == "" || claims.Session == "" || claims.Expires <= 0 {
		return Claims{}, nil, nil, errMalformed
	}
	return claims, payload, mac, nil
}

// Key signs and verifies tokens and derives temporary secrets.
type Key struct{ key []byte }

// NewKey returns a Key on k, which must hold at least MinKeyLen bytes.
func NewKey(k []byte) (*Key, error) {
	if len(k) < MinKeyLen {
		return nil, errors.New("sts: signing key shorter than 32 bytes")
	}
	return &Key{key: append([]byte(nil), k...)}, nil
}

// NewSigningKey returns MinKeyLen random bytes: a candidate for camsd.Store.STSSigningKey.
func NewSigningKey() ([]byte, error) {
	k := make([]byte, MinKeyLen)
	_, err := rand.Read(k)
	return k, err
}

func (k *Key) mac(label string, data []byte) []byte {
	h := hmac.New(sha256.New, k.key)
	h.Write([]byte(label))
	h.Write(data)
	return h.Sum(nil)
}

// Sign returns the token of c.
func (k *Key) Sign(c Claims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(payload) + "." +
		base64.RawURLEncoding.EncodeToString(k.mac(labelToken, payload)), nil
}

// Verify returns the claims of token if this key signed it.
func (k *Key) Verify(token string) (Claims, error) {
	c, payload, mac, err := ParseToken(token)
	if err != nil {
		return Claims{}, err
	}
	if !hmac.Equal(mac, k.mac(labelToken, payload)) {
		return Claims{}, errMalformed
	}
	return c, nil
}

// Secret is the AccessKeySecret of the temporary AccessKeyId id.
func (k *Key) Secret(id string) string {
	return base64.RawURLEncoding.EncodeToString(k.mac(labelSecret, []byte(id)))
}

// newAccessKeyID returns "STS." and 28 random letters and digits (166 bits).
func newAccessKeyID() (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 28)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)] // 256 = 4*62 + 8: a bias too small to matter for an id
	}
	return camsd.STSKeyPrefix + string(b), nil
}
