package sts

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testKey(t testing.TB, b byte) *Key {
	t.Helper()
	k, err := NewKey(bytes.Repeat([]byte{b}, MinKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var sample = Claims{
	AccessKeyID: "STS.abcdefghijklmnopqrstuvwxyz12", UID: "1001", Role: "operator", Session: "alice",
	Policy:  `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:Get*","Resource":"*"}]}`,
	Expires: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC).Unix(),
}

func TestKey_SignVerify(t *testing.T) {
	k := testKey(t, 1)
	token, err := k.Sign(sample)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sample, got); diff != "" {
		t.Errorf("Verify (-want +got):\n%s", diff)
	}
	t.Run("another key's token is refused", func(t *testing.T) {
		if _, err := testKey(t, 2).Verify(token); err == nil {
			t.Error("Verify with another key succeeded")
		}
	})
	t.Run("a changed claim is refused", func(t *testing.T) {
		other := sample
		other.Role = "admin"
		forged, _ := testKey(t, 2).Sign(other)
		_, _, mac, _ := ParseToken(token)
		payload := strings.Split(strings.TrimPrefix(forged, tokenPrefix), ".")[0]
		spliced := tokenPrefix + payload + "." + strings.Split(token, ".")[2]
		if _, err := k.Verify(spliced); err == nil {
			t.Errorf("Verify of claims with another token's MAC (%x) succeeded", mac)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		for _, bad := range []string{"", "CAMSD1.", "CAMSD1.e30.", token + "x", token[:len(token)-1], strings.Replace(token, "CAMSD1", "CAMSD2", 1), token + "." + "AA"} {
			if _, err := k.Verify(bad); err == nil {
				t.Errorf("Verify(%q) succeeded", bad)
			}
		}
	})
}

func TestKey_Secret(t *testing.T) {
	a, b := testKey(t, 1), testKey(t, 2)
	id := sample.AccessKeyID
	first, again := a.Secret(id), a.Secret(id)
	if first != again || first == b.Secret(id) || first == a.Secret(id+"x") {
		t.Error("Secret is not a function of the key and the id alone")
	}
	if len(a.Secret(id)) != 43 {
		t.Errorf("len(Secret) = %d; want 43", len(a.Secret(id)))
	}
}

func TestNewKey_short(t *testing.T) {
	if _, err := NewKey(make([]byte, MinKeyLen-1)); err == nil {
		t.Error("NewKey accepted a 31-byte key")
	}
}

func TestNewAccessKeyID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, err := newAccessKeyID()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(id, "STS.") || len(id) != 32 || seen[id] {
			t.Fatalf("newAccessKeyID = %q", id)
		}
		seen[id] = true
	}
}

// FuzzParseToken: whatever the bytes, ParseToken does not panic, and what it accepts signs
// back to a token that verifies to the same claims.
func FuzzParseToken(f *testing.F) {
	k := testKey(f, 1)
	token, err := k.Sign(sample)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(token)
	f.Add("CAMSD1.e30.AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		c, _, _, err := ParseToken(s)
		if err != nil {
			return
		}
		again, err := k.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := k.Verify(again)
		if err != nil || got != c {
			t.Fatalf("claims %+v signed again verify to %+v, %v", c, got, err)
		}
	})
}
