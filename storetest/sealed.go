package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/seal"
	"github.com/google/go-cmp/cmp"
)

// SealedStore is an AdminStore that can be closed and opened again.
type SealedStore interface {
	AdminStore
	io.Closer
}

// SealedDB is one database that the sealing contract opens, closes and opens again, each time
// with the keyring it names.
type SealedDB struct {
	// Open opens the database with keys. The contract closes what it opened before it opens
	// again.
	Open func(keys *seal.Keyring) (SealedStore, error)
	// Raw returns what the database holds at rest, as bytes: SQLite's files, PostgreSQL's
	// tenant tables' rows as text. It is called while the database is closed.
	Raw func(t *testing.T) []byte
	// Exec runs one SQL statement (no parameters) on the closed database, as psql or sqlite3
	// would.
	Exec func(t *testing.T, query string)
}

// TestKey returns a master key made of one repeated byte.
func TestKey(t testing.TB, b byte) *seal.Key {
	t.Helper()
	k, err := seal.NewKey(bytes.Repeat([]byte{b}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixtureSecrets are the secrets and PINs of Fixture that must never be at rest in clear.
var fixtureSecrets = []string{"acme-secret", "dev-secret", "beta-secret", "ops-secret", "135790"}

// sealedSigningKey is the STS signing key the contract stores: 32 bytes that look random, so
// that none of their forms turns up at rest by chance.
var sealedSigningKey = func() []byte {
	k := sha256.Sum256([]byte("storetest: the STS signing key"))
	return k[:]
}()

// signingKeyForms are the forms in which a store could keep the signing key's bytes: the bytes
// themselves, hex and base64.
func signingKeyForms() [][]byte {
	k := sealedSigningKey
	forms := [][]byte{k, []byte(hex.EncodeToString(k)), []byte(strings.ToUpper(hex.EncodeToString(k)))}
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		forms = append(forms, []byte(e.EncodeToString(k)))
	}
	return forms
}

// RunSealed runs the contract of secrets sealed at rest against databases made by fresh (new
// and empty, on the store's own storage).
func RunSealed(t *testing.T, fresh func(t *testing.T) SealedDB) {
	k1, k2 := TestKey(t, 1), TestKey(t, 2)
	open := func(t *testing.T, db SealedDB, keys *seal.Keyring) SealedStore {
		t.Helper()
		s, err := db.Open(keys)
		if err != nil {
			t.Fatalf("open with keys %v: %v", keys.IDs(), err)
		}
		return s
	}
	seeded := func(t *testing.T, db SealedDB, keys *seal.Keyring) {
		t.Helper()
		s := open(t, db, keys)
		if err := s.ApplySeed(t.Context(), Fixture()); err != nil {
			t.Fatal(err)
		}
		if k, err := s.STSSigningKey(t.Context(), sealedSigningKey); err != nil || !bytes.Equal(k, sealedSigningKey) {
			t.Fatalf("STSSigningKey of a new database = %x, %v; want the candidate %x", k, err, sealedSigningKey)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// reads checks that every read that opens a sealed value gives the fixture's plaintext.
	reads := func(t *testing.T, s SealedStore) {
		t.Helper()
		ctx := t.Context()
		got, err := s.Tenants(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Fixture(), got); diff != "" {
			t.Errorf("Tenants (-want +got):\n%s", diff)
		}
		p, err := s.Principal(ctx, DevKey)
		if err != nil || p.Key.Secret != "dev-secret" {
			t.Errorf("Principal(%s) = %+v, %v; want secret dev-secret", DevKey, p, err)
		}
		sp, err := s.Space(ctx, AcmeSpace)
		if err != nil || sp.Pin != "135790" {
			t.Errorf("Space(%s) = %+v, %v; want PIN 135790", AcmeSpace, sp, err)
		}
		// The same key, whatever sealed it: tokens it signed before still verify.
		if k, err := s.STSSigningKey(ctx, bytes.Repeat([]byte{9}, 32)); err != nil || !bytes.Equal(k, sealedSigningKey) {
			t.Errorf("STSSigningKey = %x, %v; want the one stored first, %x", k, err, sealedSigningKey)
		}
	}
	noSecretAtRest := func(t *testing.T, db SealedDB) {
		t.Helper()
		raw := db.Raw(t)
		if !bytes.Contains(raw, []byte(AcmeKey)) {
			t.Fatalf("the raw database does not hold the key id %s: Raw reads the wrong thing", AcmeKey)
		}
		for _, s := range fixtureSecrets {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("%q is at rest in clear", s)
			}
		}
		for _, f := range signingKeyForms() {
			if bytes.Contains(raw, f) {
				t.Errorf("the STS signing key is at rest in clear, as %q", f)
			}
		}
	}

	t.Run("with a key, no secret is at rest in clear, and reads open them", func(t *testing.T) {
		db := fresh(t)
		seeded(t, db, seal.NewKeyring(k1))
		noSecretAtRest(t, db)
		if !bytes.Contains(db.Raw(t), []byte(seal.Prefix(k1.ID()))) {
			t.Error("no value sealed with the key at rest")
		}
		s := open(t, db, seal.NewKeyring(k1))
		defer s.Close()
		reads(t, s)
	})
	t.Run("without a key, values are stored as they come", func(t *testing.T) {
		db := fresh(t)
		seeded(t, db, nil)
		raw := db.Raw(t)
		if !bytes.Contains(raw, []byte("acme-secret")) {
			t.Error("the plaintext secret is not at rest: Raw reads the wrong thing")
		}
		if !slices.ContainsFunc(signingKeyForms(), func(f []byte) bool { return bytes.Contains(raw, f) }) {
			t.Error("the STS signing key is not at rest in any form the contract looks for")
		}
		s := open(t, db, nil)
		defer s.Close()
		reads(t, s)
	})
	t.Run("plaintext rows are sealed at the first start with a key", func(t *testing.T) {
		db := fresh(t)
		seeded(t, db, nil)
		s := open(t, db, seal.NewKeyring(k1))
		reads(t, s)
		s.Close()
		noSecretAtRest(t, db)
	})
	t.Run("a start without the key on sealed data fails naming the key", func(t *testing.T) {
		db := fresh(t)
		seeded(t, db, seal.NewKeyring(k1))
		for _, keys := range []*seal.Keyring{nil, seal.NewKeyring(k2)} {
			s, err := db.Open(keys)
			var mk *seal.MissingKeyError
			if !errors.As(err, &mk) || mk.KeyID != k1.ID() {
				if s != nil {
					s.Close()
				}
				t.Errorf("open with keys %v = %v; want a *seal.MissingKeyError naming %s", keys.IDs(), err, k1.ID())
			}
		}
	})
	t.Run("a start without the key on a sealed STS signing key fails naming the key", func(t *testing.T) {
		db := fresh(t)
		s := open(t, db, seal.NewKeyring(k1))
		if _, err := s.STSSigningKey(t.Context(), sealedSigningKey); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s, err := db.Open(nil)
		var mk *seal.MissingKeyError
		if !errors.As(err, &mk) || mk.KeyID != k1.ID() {
			if s != nil {
				s.Close()
			}
			t.Errorf("open without keys = %v; want a *seal.MissingKeyError naming %s", err, k1.ID())
		}
	})
	t.Run("a sealed value copied to another row does not open", func(t *testing.T) {
		db := fresh(t)
		seeded(t, db, seal.NewKeyring(k1))
		db.Exec(t, `UPDATE access_keys SET secret = (SELECT secret FROM access_keys WHERE id = '`+AcmeKey+`') WHERE id = '`+DevKey+`'`)
		db.Exec(t, `UPDATE spaces SET pin = (SELECT secret FROM access_keys WHERE id = '`+AcmeKey+`') WHERE cust_space_id = '`+AcmeSpace+`'`)
		s := open(t, db, seal.NewKeyring(k1))
		defer s.Close()
		if p, err := s.Principal(t.Context(), DevKey); !errors.Is(err, seal.ErrNotOpened) {
			t.Errorf("Principal(%s) with %s's sealed secret = %+v, %v; want seal.ErrNotOpened", DevKey, AcmeKey, p, err)
		}
		if sp, err := s.Space(t.Context(), AcmeSpace); !errors.Is(err, seal.ErrNotOpened) {
			t.Errorf("Space(%s) with a sealed secret as PIN = %+v, %v; want seal.ErrNotOpened", AcmeSpace, sp, err)
		}
		if p, err := s.Principal(t.Context(), AcmeKey); err != nil || p.Key.Secret != "acme-secret" {
			t.Errorf("Principal(%s) = %+v, %v", AcmeKey, p, err)
		}
	})
	t.Run("a sealed value copied to or from the STS signing key does not open", func(t *testing.T) {
		db := fresh(t)
		seeded(t, db, seal.NewKeyring(k1))
		db.Exec(t, `UPDATE access_keys SET secret = (SELECT key FROM sts_signing_key WHERE id = 1) WHERE id = '`+DevKey+`'`)
		db.Exec(t, `UPDATE sts_signing_key SET key = (SELECT secret FROM access_keys WHERE id = '`+AcmeKey+`') WHERE id = 1`)
		s := open(t, db, seal.NewKeyring(k1))
		defer s.Close()
		if p, err := s.Principal(t.Context(), DevKey); !errors.Is(err, seal.ErrNotOpened) {
			t.Errorf("Principal(%s) with the sealed signing key as secret = %+v, %v; want seal.ErrNotOpened", DevKey, p, err)
		}
		if k, err := s.STSSigningKey(t.Context(), sealedSigningKey); !errors.Is(err, seal.ErrNotOpened) {
			t.Errorf("STSSigningKey with %s's sealed secret = %x, %v; want seal.ErrNotOpened", AcmeKey, k, err)
		}
	})
	t.Run("Reseal moves every value to the first key, in as many calls as it takes", func(t *testing.T) {
		db := fresh(t)
		seeded(t, db, seal.NewKeyring(k1))
		s := open(t, db, seal.NewKeyring(k2, k1))
		reads(t, s)      // values sealed with the previous key open
		const values = 6 // four secrets, one PIN and the STS signing key
		res, err := s.Reseal(t.Context(), 2)
		if want := (camsd.Resealed{KeyID: k2.ID(), Resealed: 2, Remaining: values - 2}); err != nil || res != want {
			t.Fatalf("Reseal(2) = %+v, %v; want %+v", res, err, want)
		}
		reads(t, s) // half way, both keys open
		res, err = s.Reseal(t.Context(), 100)
		if want := (camsd.Resealed{KeyID: k2.ID(), Resealed: values - 2}); err != nil || res != want {
			t.Fatalf("Reseal(100) = %+v, %v; want %+v", res, err, want)
		}
		res, err = s.Reseal(t.Context(), 100)
		if want := (camsd.Resealed{KeyID: k2.ID()}); err != nil || res != want {
			t.Fatalf("Reseal again = %+v, %v; want %+v", res, err, want)
		}
		s.Close()
		if strings.Contains(string(db.Raw(t)), seal.Prefix(k1.ID())) {
			t.Error("a value sealed with the previous key is still at rest")
		}
		noSecretAtRest(t, db)
		s = open(t, db, seal.NewKeyring(k2)) // the previous key is no longer needed
		defer s.Close()
		reads(t, s)
	})
	t.Run("Reseal without a key", func(t *testing.T) {
		db := fresh(t)
		s := open(t, db, nil)
		defer s.Close()
		if _, err := s.Reseal(t.Context(), 10); !errors.Is(err, camsd.ErrNoMasterKey) {
			t.Errorf("Reseal = %v; want ErrNoMasterKey", err)
		}
	})
}
