// Package seal keeps secrets sealed at rest: AccessKey secrets, spaces' PINs and the key that
// signs STS tokens are stored encrypted under a master key, and opened only in the stores'
// memory.
//
// A sealed value is text, so that it fits the columns that held the plaintext and both can sit
// side by side while a store seals its old rows:
//
//	sealed:v1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>
//
// The key id is the first 8 hex digits of the SHA-256 of the key, so that a value names the
// key that sealed it and a keyring of several keys (during a rotation) opens each value with
// the right one. The cipher is AES-256-GCM from the standard library (crypto/aes,
// crypto/cipher: constant-time, hardware-accelerated, maintained with Go), with a random
// 12-byte nonce per value; a key seals far fewer than the 2^32 values that random nonces
// allow. The associated data is the field and the record's id (the AccessKey id for a secret,
// the space id for a PIN, SigningKeyRow for the STS signing key), so a sealed value copied to
// another row, or to another column, does not open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Field is the column a value is sealed for; it is part of the associated data.
type Field string

const (
	AccessKeySecret Field = "access_keys.secret"
	SpacePIN        Field = "spaces.pin"
	// STSSigningKey is the key that signs STS security tokens, sealed as text: the lowercase
	// hex of its bytes.
	STSSigningKey Field = "sts_signing_key.key"
)

// SigningKeyRow is the id of sts_signing_key's one row, the record id of STSSigningKey.
const SigningKeyRow = "1"

// Column is where a store keeps the values of a field: table.column, with the record's id
// (the associated data) in table.id.
type Column struct {
	Field                 Field
	Table, Column, IDName string
}

// Columns are the columns that hold sealed values, in the order the stores seal them.
func Columns() []Column {
	return []Column{
		{AccessKeySecret, "access_keys", "secret", "id"},
		{SpacePIN, "spaces", "pin", "cust_space_id"},
		{STSSigningKey, "sts_signing_key", "key", "id"},
	}
}

// ResealColumns drives a store's Reseal: for each of Columns in turn, it has batch seal again
// up to per values of the column at a time (in one transaction of the store; batch returns how
// many it sealed, fewer than asked when the column has no more), until max values are sealed;
// then it asks remaining how many values of each column are still not sealed with the sealing
// key. It returns the values sealed and those left.
func ResealColumns(max, per int, batch func(c Column, limit int) (int, error), remaining func(c Column) (int, error)) (resealed, left int, err error) {
	for _, c := range Columns() {
		for resealed < max {
			want := min(per, max-resealed)
			n, err := batch(c, want)
			if err != nil {
				return resealed, 0, err
			}
			resealed += n
			if n < want {
				break
			}
		}
	}
	for _, c := range Columns() {
		n, err := remaining(c)
		if err != nil {
			return resealed, 0, err
		}
		left += n
	}
	return resealed, left, nil
}

// KeySize is the size of a master key: AES-256.
const KeySize = 32

// Marker starts every sealed value.
const Marker = "sealed:v1:"

// idLen is the length of a key id: 8 hex digits.
const idLen = 8

// nonceSize is GCM's standard nonce.
const nonceSize = 12

var b64 = base64.StdEncoding.Strict()

var (
	// ErrNotOpened is a sealed value that its key does not open: changed, or sealed for
	// another record or field.
	ErrNotOpened = errors.New("seal: sealed value does not open (altered, or sealed for another record)")
	// ErrLooksSealed is a plaintext that would read as a sealed value if stored unsealed.
	ErrLooksSealed = errors.New(`seal: a secret must not begin with "` + Marker + `"`)
)

// MissingKeyError is a value sealed with a key the keyring does not hold.
type MissingKeyError struct {
	KeyID string // the key that sealed it
}

func (e *MissingKeyError) Error() string {
	return "seal: value sealed with master key " + e.KeyID + ", which was not given"
}

// Key is one master key.
type Key struct {
	id   string
	aead cipher.AEAD
}

// NewKey returns the key of 32 raw bytes.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("seal: a master key is %d bytes, not %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	return &Key{id: hex.EncodeToString(sum[:])[:idLen], aead: aead}, nil
}

// ParseKey reads a key written as standard base64 of 32 bytes (surrounding space ignored).
func ParseKey(text string) (*Key, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, errors.New("seal: a master key is 32 random bytes in standard base64 (head -c 32 /dev/urandom | base64)")
	}
	return NewKey(raw)
}

// ID is the key's id: the first 8 hex digits of its SHA-256.
func (k *Key) ID() string { return k.id }

// Keyring is the keys a store opens values with; the first seals. A nil or empty Keyring
// seals nothing: values are stored as they come, and only plaintext opens.
type Keyring struct {
	keys []*Key
}

// NewKeyring returns the keyring of keys, the first of which seals. Repeated keys count once.
func NewKeyring(keys ...*Key) *Keyring {
	r := &Keyring{}
	for _, k := range keys {
		if r.key(k.id) == nil {
			r.keys = append(r.keys, k)
		}
	}
	return r
}

// SealingKeyID is the id of the key that seals, "" when there is none.
func (r *Keyring) SealingKeyID() string {
	if r == nil || len(r.keys) == 0 {
		return ""
	}
	return r.keys[0].id
}

// IDs are the ids of the keyring's keys, the sealing key first.
func (r *Keyring) IDs() []string {
	if r == nil {
		return nil
	}
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

func (r *Keyring) key(id string) *Key {
	if r == nil {
		return nil
	}
	for _, k := range r.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

// Seal returns what to store for plaintext in field of record id: sealed under the first key,
// or plaintext itself when the keyring is empty. An empty plaintext stays empty: it is the
// stores' "not set" (a space without a PIN), and there is nothing to hide in it.
func (r *Keyring) Seal(f Field, id, plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	if r.SealingKeyID() == "" {
		if IsSealed(plaintext) {
			return "", ErrLooksSealed
		}
		return plaintext, nil
	}
	k := r.keys[0]
	buf := make([]byte, nonceSize, nonceSize+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	buf = k.aead.Seal(buf, buf, []byte(plaintext), ad(f, id))
	return Prefix(k.id) + b64.EncodeToString(buf), nil
}

// Open returns the plaintext of a stored value of field in record id: a sealed value opened
// with the key it names, a plaintext (not yet sealed) as it is. Returns *MissingKeyError when
// the keyring lacks the key, ErrNotOpened when the key does not open it, and a parse error
// when it is malformed.
func (r *Keyring) Open(f Field, id, stored string) (string, error) {
	if !IsSealed(stored) {
		return stored, nil
	}
	s, err := Parse(stored)
	if err != nil {
		return "", err
	}
	k := r.key(s.KeyID)
	if k == nil {
		return "", &MissingKeyError{KeyID: s.KeyID}
	}
	plain, err := k.aead.Open(nil, s.Nonce, s.Ciphertext, ad(f, id))
	if err != nil {
		return "", ErrNotOpened
	}
	return string(plain), nil
}

// SealBytes is Seal of a binary value, whose plaintext is the lowercase hex of its bytes: the
// form in which a store keeps it while it is not sealed, and which a sealed value opens to.
func (r *Keyring) SealBytes(f Field, id string, b []byte) (string, error) {
	return r.Seal(f, id, hex.EncodeToString(b))
}

// OpenBytes returns the bytes of a value SealBytes stored, sealed or not. Errors are Open's,
// and one for a plaintext that is not hex.
func (r *Keyring) OpenBytes(f Field, id, stored string) ([]byte, error) {
	plain, err := r.Open(f, id, stored)
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(plain)
	if err != nil {
		return nil, fmt.Errorf("seal: %s of %s is not hex", f, id)
	}
	return b, nil
}

// Check reports whether the keyring can open a stored value: nil for plaintext and for a value
// sealed with one of its keys, *MissingKeyError when it lacks the key, a parse error when the
// value is malformed. It does not decrypt.
func (r *Keyring) Check(stored string) error {
	if !IsSealed(stored) {
		return nil
	}
	s, err := Parse(stored)
	if err != nil {
		return err
	}
	if r.key(s.KeyID) == nil {
		return &MissingKeyError{KeyID: s.KeyID}
	}
	return nil
}

// Reseal returns a stored value sealed again with the sealing key: plaintext sealed, a value
// sealed with another key of the keyring opened and sealed. Errors are Open's and Seal's.
func (r *Keyring) Reseal(f Field, id, stored string) (string, error) {
	plain, err := r.Open(f, id, stored)
	if err != nil {
		return "", err
	}
	return r.Seal(f, id, plain)
}

// Current reports whether a stored value needs nothing done under this keyring: empty, or
// sealed with the sealing key (or plaintext when there is no key).
func (r *Keyring) Current(stored string) bool {
	if stored == "" {
		return true
	}
	id := r.SealingKeyID()
	if id == "" {
		return !IsSealed(stored)
	}
	return strings.HasPrefix(stored, Prefix(id))
}

// ad is the associated data: the field and the record's id. The field names carry no NUL.
func ad(f Field, id string) []byte {
	return []byte(string(f) + "\x00" + id)
}

// Prefix is how every value that key id sealed begins (for a store's LIKE filter).
func Prefix(keyID string) string { return Marker + keyID + ":" }

// IsSealed reports whether a stored value is meant as sealed (it may still be malformed).
func IsSealed(stored string) bool { return strings.HasPrefix(stored, Marker) }

// Sealed is a sealed value taken apart.
type Sealed struct {
	KeyID      string
	Nonce      []byte
	Ciphertext []byte // with GCM's tag at its end
}

// String is the stored form of s.
func (s *Sealed) String() string {
	return Prefix(s.KeyID) + b64.EncodeToString(append(append([]byte(nil), s.Nonce...), s.Ciphertext...))
}

// Parse takes a stored sealed value apart. It checks the form only (marker and version, a key id
// of 8 lowercase hex digits, canonical base64 of at least a nonce and a tag); whether it opens
// is Open's business.
func Parse(stored string) (*Sealed, error) {
	rest, ok := strings.CutPrefix(stored, Marker)
	if !ok {
		return nil, errors.New("seal: not a sealed value")
	}
	id, body, ok := strings.Cut(rest, ":")
	if !ok || !validID(id) {
		return nil, errors.New("seal: sealed value without a key id")
	}
	if strings.ContainsAny(body, "\r\n") { // which the base64 decoder would skip
		return nil, errors.New("seal: sealed value is not base64")
	}
	raw, err := b64.DecodeString(body)
	if err != nil {
		return nil, errors.New("seal: sealed value is not base64")
	}
	if len(raw) < nonceSize+16 {
		return nil, errors.New("seal: sealed value too short")
	}
	return &Sealed{KeyID: id, Nonce: raw[:nonceSize], Ciphertext: raw[nonceSize:]}, nil
}

func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for _, c := range []byte(id) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ParseKeyring reads a keyring file: one key per line in standard base64, the sealing key
// first; blank lines and lines starting with # are skipped.
func ParseKeyring(text string) ([]*Key, error) {
	var keys []*Key
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := ParseKey(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("seal: no master key in the file")
	}
	return keys, nil
}
