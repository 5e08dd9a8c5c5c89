package seal_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/camsd/camsd/seal"
)

func key(t testing.TB, b byte) *seal.Key {
	t.Helper()
	k, err := seal.NewKey(bytes.Repeat([]byte{b}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyring_Seal(t *testing.T) {
	k1 := key(t, 1)
	r := seal.NewKeyring(k1)
	sealed, err := r.Seal(seal.AccessKeySecret, "LTAI5tAcme", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("form", func(t *testing.T) {
		if !strings.HasPrefix(sealed, "sealed:v1:"+k1.ID()+":") || strings.Contains(sealed, "s3cret") {
			t.Fatalf("sealed value %q", sealed)
		}
		if len(k1.ID()) != 8 {
			t.Fatalf("key id %q", k1.ID())
		}
	})
	t.Run("opens", func(t *testing.T) {
		got, err := r.Open(seal.AccessKeySecret, "LTAI5tAcme", sealed)
		if err != nil || got != "s3cret" {
			t.Fatalf("Open = %q, %v", got, err)
		}
	})
	t.Run("nonce per value", func(t *testing.T) {
		again, _ := r.Seal(seal.AccessKeySecret, "LTAI5tAcme", "s3cret")
		if again == sealed {
			t.Fatal("two seals of one value are equal")
		}
	})
	t.Run("another record does not open", func(t *testing.T) {
		if _, err := r.Open(seal.AccessKeySecret, "LTAI5tOther", sealed); !errors.Is(err, seal.ErrNotOpened) {
			t.Fatalf("Open = %v, want ErrNotOpened", err)
		}
	})
	t.Run("another field does not open", func(t *testing.T) {
		if _, err := r.Open(seal.SpacePIN, "LTAI5tAcme", sealed); !errors.Is(err, seal.ErrNotOpened) {
			t.Fatalf("Open = %v, want ErrNotOpened", err)
		}
	})
	t.Run("altered does not open", func(t *testing.T) {
		s, err := seal.Parse(sealed)
		if err != nil {
			t.Fatal(err)
		}
		s.Ciphertext[0] ^= 1
		if _, err := r.Open(seal.AccessKeySecret, "LTAI5tAcme", s.String()); !errors.Is(err, seal.ErrNotOpened) {
			t.Fatalf("Open = %v, want ErrNotOpened", err)
		}
	})
	t.Run("missing key", func(t *testing.T) {
		var mk *seal.MissingKeyError
		if _, err := seal.NewKeyring(key(t, 2)).Open(seal.AccessKeySecret, "LTAI5tAcme", sealed); !errors.As(err, &mk) || mk.KeyID != k1.ID() {
			t.Fatalf("Open = %v, want MissingKeyError naming %s", err, k1.ID())
		}
		if _, err := (*seal.Keyring)(nil).Open(seal.AccessKeySecret, "LTAI5tAcme", sealed); !errors.As(err, &mk) {
			t.Fatalf("Open without keys = %v, want MissingKeyError", err)
		}
	})
	t.Run("previous key opens, first seals", func(t *testing.T) {
		k2 := key(t, 2)
		both := seal.NewKeyring(k2, k1)
		if got, err := both.Open(seal.AccessKeySecret, "LTAI5tAcme", sealed); err != nil || got != "s3cret" {
			t.Fatalf("Open = %q, %v", got, err)
		}
		resealed, _ := both.Seal(seal.AccessKeySecret, "LTAI5tAcme", "s3cret")
		if !strings.HasPrefix(resealed, seal.Prefix(k2.ID())) || both.Current(sealed) || !both.Current(resealed) {
			t.Fatalf("sealed with the second key: %q", resealed)
		}
	})
}

func TestKeyring_withoutKeys(t *testing.T) {
	var r *seal.Keyring
	for _, plain := range []string{"", "plain"} {
		got, err := r.Seal(seal.SpacePIN, "cs1", plain)
		if err != nil || got != plain {
			t.Fatalf("Seal(%q) = %q, %v", plain, got, err)
		}
		if got, err := r.Open(seal.SpacePIN, "cs1", plain); err != nil || got != plain {
			t.Fatalf("Open(%q) = %q, %v", plain, got, err)
		}
	}
	if _, err := r.Seal(seal.AccessKeySecret, "k", "sealed:v1:whatever"); !errors.Is(err, seal.ErrLooksSealed) {
		t.Fatalf("Seal of a sealed-looking plaintext = %v", err)
	}
	if !r.Current("plain") || r.Current("sealed:v1:01234567:AAAA") {
		t.Fatal("Current without keys")
	}
}

func TestKeyring_emptyStaysEmpty(t *testing.T) {
	got, err := seal.NewKeyring(key(t, 1)).Seal(seal.SpacePIN, "cs1", "")
	if err != nil || got != "" {
		t.Fatalf("Seal(\"\") = %q, %v", got, err)
	}
}

func TestKeyring_SealBytes(t *testing.T) {
	raw := []byte{0x00, 0xa5, 0xff, 0x10}
	for _, r := range []*seal.Keyring{nil, seal.NewKeyring(key(t, 1))} {
		stored, err := r.SealBytes(seal.STSSigningKey, seal.SigningKeyRow, raw)
		if err != nil {
			t.Fatal(err)
		}
		if r == nil && stored != "00a5ff10" {
			t.Errorf("SealBytes without keys = %q; want the hex of the bytes", stored)
		}
		if r != nil && (!seal.IsSealed(stored) || strings.Contains(stored, "00a5ff10")) {
			t.Errorf("SealBytes = %q; want it sealed", stored)
		}
		if got, err := r.OpenBytes(seal.STSSigningKey, seal.SigningKeyRow, stored); err != nil || !bytes.Equal(got, raw) {
			t.Errorf("OpenBytes(%q) = %x, %v; want %x", stored, got, err, raw)
		}
	}
	if _, err := (*seal.Keyring)(nil).OpenBytes(seal.STSSigningKey, seal.SigningKeyRow, "not hex"); err == nil {
		t.Error("OpenBytes of a plaintext that is not hex succeeded")
	}
}

func TestParseKey(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	if _, err := seal.ParseKey(" " + good + "\n"); err != nil {
		t.Fatalf("ParseKey: %v", err)
	}
	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		if _, err := seal.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) succeeded", bad)
		}
	}
	keys, err := seal.ParseKeyring("# new\n" + good + "\n\n" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 32)) + "\n")
	if err != nil || len(keys) != 2 {
		t.Fatalf("ParseKeyring = %d keys, %v", len(keys), err)
	}
	if _, err := seal.ParseKeyring("# nothing\n"); err == nil {
		t.Fatal("ParseKeyring of no key succeeded")
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{
		"plain",
		"sealed:v1:",
		"sealed:v1:0123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",    // short id
		"sealed:v1:0123456G:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   // not hex
		"sealed:v1:01234567:AAAA",                                       // too short
		"sealed:v1:01234567:AAAAAAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAAAAAA", // newline
		"sealed:v1:01234567:!!!!",
	} {
		if _, err := seal.Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

// FuzzParse: the parser of stored values (the database is outside input to a replica that
// reads it) never panics, accepts only what it would write back byte for byte, and Open of
// whatever it accepts fails cleanly.
func FuzzParse(f *testing.F) {
	r := seal.NewKeyring(key(f, 1))
	s, _ := r.Seal(seal.AccessKeySecret, "LTAI5tAcme", "s3cret")
	f.Add(s)
	f.Add("sealed:v1:01234567:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("plain secret")
	f.Fuzz(func(t *testing.T, stored string) {
		p, err := seal.Parse(stored)
		if err == nil && p.String() != stored {
			t.Fatalf("Parse(%q) then String = %q", stored, p.String())
		}
		plain, err := r.Open(seal.AccessKeySecret, "LTAI5tAcme", stored)
		if !seal.IsSealed(stored) && (err != nil || plain != stored) {
			t.Fatalf("Open of a plaintext = %q, %v", plain, err)
		}
	})
}

// ResealColumns asks each column for batches of per until one comes back short or max is
// reached, then counts what is left in every column; an error stops it.
func TestResealColumns(t *testing.T) {
	left := map[seal.Field]int{seal.AccessKeySecret: 5, seal.SpacePIN: 2, seal.STSSigningKey: 1}
	var asked []string
	batch := func(c seal.Column, limit int) (int, error) {
		asked = append(asked, fmt.Sprintf("%s:%d", c.Field, limit))
		n := min(limit, left[c.Field])
		left[c.Field] -= n
		return n, nil
	}
	remaining := func(c seal.Column) (int, error) { return left[c.Field], nil }
	resealed, rest, err := seal.ResealColumns(6, 2, batch, remaining)
	if err != nil || resealed != 6 || rest != 2 {
		t.Errorf("ResealColumns = %d, %d, %v; want 6 sealed, 2 left", resealed, rest, err)
	}
	want := fmt.Sprint([]string{"access_keys.secret:2", "access_keys.secret:2", "access_keys.secret:2", "spaces.pin:1"})
	if fmt.Sprint(asked) != want {
		t.Errorf("batches asked %v; want %s", asked, want)
	}

	boom := errors.New("boom")
	_, _, err = seal.ResealColumns(10, 2, func(seal.Column, int) (int, error) { return 0, boom }, remaining)
	if !errors.Is(err, boom) {
		t.Errorf("a failing batch: %v; want boom", err)
	}
}
