package admin

import (
	"crypto/rand"
	"io"
	"math/big"
)

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewAccessKey returns a new AccessKey id (LTAI5t and 18 letters and digits, the shape of
// Alibaba Cloud's) and a 30-character secret, from r (crypto/rand when nil).
func NewAccessKey(r io.Reader) (id, secret string, err error) {
	if r == nil {
		r = rand.Reader
	}
	if id, err = randomString(r, alnum, 18); err != nil {
		return "", "", err
	}
	if secret, err = randomString(r, alnum, 30); err != nil {
		return "", "", err
	}
	return "LTAI5t" + id, secret, nil
}

// randomString returns n characters drawn uniformly from alphabet.
func randomString(r io.Reader, alphabet string, n int) (string, error) {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		k, err := rand.Int(r, max)
		if err != nil {
			return "", err
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}
