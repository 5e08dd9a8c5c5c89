package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/camsd/camsd/sts"
)

// TestSTS_SealedSigningKey: temporary credentials issued while the STS signing key was in
// plaintext still serve after the first start with a master key seals it, after
// rotate-master-key seals it again under a new key, and with the new key alone: its sealing
// changes, the key does not. On SQLite, the data directory then holds no form of the key.
func TestSTS_SealedSigningKey(t *testing.T) {
	const token = "sealed-signing-key-token-000000000"
	k1, _ := testMasterKey(t, 1)
	k2, id2 := testMasterKey(t, 2)
	for _, mode := range storeModes()[:2] {
		t.Run(mode.name, func(t *testing.T) {
			cfg := stsSeeded(mode.config(t))
			cfg.AdminToken = token
			// serves checks that camsd on cfg takes the credentials, with both signatures, and
			// returns its signing key.
			serves := func(t *testing.T, cfg ServeConfig, creds tempCreds, then func(m *Main)) []byte {
				t.Helper()
				m := NewMain(cfg, io.Discard, io.Discard)
				if err := m.Open(context.Background()); err != nil {
					t.Fatalf("open camsd: %v", err)
				}
				defer m.Close()
				if then != nil {
					then(m)
				}
				for _, alg := range []string{"", "v2"} {
					okBody(t, stsClient(t, m, creds, alg), "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": acmeSpace})
				}
				candidate, err := sts.NewSigningKey()
				if err != nil {
					t.Fatal(err)
				}
				key, err := m.DB.STSSigningKey(t.Context(), candidate)
				if err != nil {
					t.Fatal(err)
				}
				return key
			}

			m := start(t, cfg)
			creds := assumeRole(t, newClient(t, m, stsRootKey, stsRootSecret, ""), map[string]string{"RoleArn": operatorARN, "RoleSessionName": "before"})
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			cfg.MasterKey = k1
			key := serves(t, cfg, creds, nil)

			cfg.MasterKey, cfg.MasterKeyPrevious = k2, k1
			serves(t, cfg, creds, func(m *Main) {
				var out, errOut bytes.Buffer
				getenv := func(k string) string {
					if k == "CAMSD_ADMIN_TOKEN" {
						return token
					}
					return ""
				}
				if code := runAdmin(t.Context(), []string{"--server", m.AdminURL, "rotate-master-key"}, getenv, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "every secret is sealed with master key "+id2) {
					t.Fatalf("rotate-master-key: exit %d, %s%s", code, out.String(), errOut.String())
				}
			})

			cfg.MasterKeyPrevious = ""
			if got := serves(t, cfg, creds, nil); !bytes.Equal(got, key) {
				t.Errorf("signing key after the rotation %x; want %x, as before", got, key)
			}
			if cfg.Database == "" {
				raw := readDir(t, cfg.DataDir)
				for _, form := range [][]byte{key, []byte(hex.EncodeToString(key))} {
					if bytes.Contains(raw, form) {
						t.Errorf("the signing key is in the data directory as %q", form)
					}
				}
			}
		})
	}
}
