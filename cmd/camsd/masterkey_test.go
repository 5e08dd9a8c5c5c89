package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camsd/camsd/seal"
	"github.com/jackc/pgx/v5"
)

// testMasterKey returns a master key of one repeated byte, as CAMSD_MASTER_KEY takes it, and
// its id.
func testMasterKey(t *testing.T, b byte) (string, string) {
	t.Helper()
	raw := bytes.Repeat([]byte{b}, seal.KeySize)
	k, err := seal.NewKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(raw), k.ID()
}

func TestServeConfig_masterKey(t *testing.T) {
	k1, id1 := testMasterKey(t, 1)
	k2, id2 := testMasterKey(t, 2)
	file := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(file, []byte("# new key first\n"+k2+"\n"+k1+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    []string // key ids, the sealing one first
		wantErr string
	}{
		{name: "none", want: nil},
		{name: "env", env: map[string]string{"CAMSD_MASTER_KEY": k1}, want: []string{id1}},
		{name: "env and previous", env: map[string]string{"CAMSD_MASTER_KEY": k2, "CAMSD_MASTER_KEY_PREVIOUS": k1}, want: []string{id2, id1}},
		{name: "file", args: []string{"--master-key-file", file}, want: []string{id2, id1}},
		{name: "file from env", env: map[string]string{"CAMSD_MASTER_KEY_FILE": file}, want: []string{id2, id1}},
		{name: "both", args: []string{"--master-key-file", file}, env: map[string]string{"CAMSD_MASTER_KEY": k1}, wantErr: "not both"},
		{name: "previous alone", env: map[string]string{"CAMSD_MASTER_KEY_PREVIOUS": k1}, wantErr: "CAMSD_MASTER_KEY_PREVIOUS only opens"},
		{name: "not base64", env: map[string]string{"CAMSD_MASTER_KEY": "x"}, wantErr: "CAMSD_MASTER_KEY: seal: a master key is 32 random bytes"},
		{name: "short", env: map[string]string{"CAMSD_MASTER_KEY": base64.StdEncoding.EncodeToString([]byte("short"))}, wantErr: "32 bytes, not 5"},
		{name: "missing file", args: []string{"--master-key-file", file + ".nope"}, wantErr: "--master-key-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadServeConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadServeConfig = %v; want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			keys, err := c.keyring()
			if err != nil {
				t.Fatal(err)
			}
			if got := keys.IDs(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("key ids %v; want %v", got, tc.want)
			}
		})
	}
}

// TestMasterKey_SQLite: the official client calls camsd with keys whose secrets are sealed;
// the database's files hold no secret; a start without the key, or with another, fails
// naming what to set.
func TestMasterKey_SQLite(t *testing.T) {
	k1, id1 := testMasterKey(t, 1)
	k2, _ := testMasterKey(t, 2)
	cfg := testConfig(t)
	cfg.MasterKey = k1
	m := start(t, cfg)
	for _, alg := range []string{"", "v2"} {
		c := newClient(t, m, acmeKey, acmeSecret, alg)
		if _, err := call(c, "GetPhoneNumberVerificationStatus", map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": migrating}); err != nil {
			t.Fatalf("signed call (%q) with a sealed secret: %v", alg, err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	raw := readDir(t, cfg.DataDir)
	for _, secret := range []string{acmeSecret, opsSecret, otherSecret} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("%s is in the data directory in clear", secret)
		}
	}
	for _, tc := range []struct{ name, key string }{{"no key", ""}, {"another key", k2}} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.MasterKey = tc.key
			m := NewMain(c, io.Discard, io.Discard)
			err := m.Open(context.Background())
			_ = m.Close()
			if err == nil {
				t.Fatal("camsd started on sealed data without its key")
			}
			for _, want := range []string{id1, "CAMSD_MASTER_KEY", "--master-key-file"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
		})
	}
}

func readDir(t *testing.T, dir string) []byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	return raw
}

// TestMasterKey_rotationUnderReplicas: two PostgreSQL replicas that hold the new key and the
// previous one serve signed calls without a failure while `camsd admin rotate-master-key` has
// one of them seal everything again (1,200 keys beside the e2e seed's, several batches); then
// no value sealed with the previous key is left, and a replica with the new key alone serves.
func TestMasterKey_rotationUnderReplicas(t *testing.T) {
	needServices(t)
	oldKey, oldID := testMasterKey(t, 1)
	newKey, newID := testMasterKey(t, 2)
	database, prefix := freshDatabase(t), randomName("camsd-test:")+":"
	ctx := context.Background()

	// The tenants, sealed with the old key: the e2e seed, then 1,200 more accounts.
	var extra strings.Builder
	extra.WriteString("accounts:\n")
	for i := range 1200 {
		fmt.Fprintf(&extra, "  - uid: \"%d\"\n    name: r%d\n    access_keys: [{id: LTAI5tRot%013d, secret: rotSecret%021d}]\n", 4000000000000000+i, i, i, i)
	}
	extraSeed := filepath.Join(t.TempDir(), "extra.yaml")
	if err := os.WriteFile(extraSeed, []byte(extra.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"testdata/e2e-seed.yaml", extraSeed} {
		cfg := replicaConfig(t, database, prefix)
		cfg.Seed, cfg.MasterKey = s, oldKey
		m := NewMain(cfg, io.Discard, io.Discard)
		if err := m.Open(ctx); err != nil {
			t.Fatalf("seed with the old key: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// Two replicas with the new key and the previous one, and no seed (a seed would seal its
	// keys again at the start, leaving the rotation little to do).
	const token = "rotation-token-0000000000000000000"
	var ms []*Main
	for i := range 2 {
		cfg := replicaConfig(t, database, prefix)
		cfg.Seed, cfg.MasterKey, cfg.MasterKeyPrevious = "", newKey, oldKey
		cfg.QPS = 1_000_000 // every call served, none refused by flow control
		if i == 0 {
			cfg.AdminToken = token
		}
		ms = append(ms, start(t, cfg))
	}

	var calls, failed atomic.Int64
	var firstErr sync.Once
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, m := range ms {
		for _, key := range [][4]string{{acmeKey, acmeSecret, acmeSpace, migrating}, {otherKey, otherSecret, otherSpace, otherNumber}} {
			c := newClient(t, m, key[0], key[1], "")
			query := map[string]string{"CustSpaceId": key[2], "PhoneNumber": key[3]}
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, err := call(c, "GetPhoneNumberVerificationStatus", query)
					calls.Add(1)
					if err != nil {
						failed.Add(1)
						firstErr.Do(func() { t.Errorf("signed call during the rotation: %v", err) })
					}
				}
			})
		}
	}
	time.Sleep(200 * time.Millisecond)
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == "CAMSD_ADMIN_TOKEN" {
			return token
		}
		return ""
	}
	code := runAdmin(ctx, []string{"--server", ms[0].AdminURL, "rotate-master-key"}, getenv, nil, &out, &errOut)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("rotate-master-key exit %d: %s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "every secret is sealed with master key "+newID) {
		t.Errorf("rotate-master-key said %q", out.String())
	}
	t.Logf("%d signed calls during the rotation, %d failed; %s", calls.Load(), failed.Load(), strings.TrimSpace(out.String()))

	// At rest: nothing sealed with the old key, no secret in clear.
	conn, err := pgx.Connect(ctx, strings.Replace(database, "&pool_max_conns=16", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows string
	if err := conn.QueryRow(ctx, `SELECT string_agg(t::text, E'\n') FROM access_keys t`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	var pins string
	if err := conn.QueryRow(ctx, `SELECT coalesce(string_agg(t::text, E'\n'), '') FROM spaces t`).Scan(&pins); err != nil {
		t.Fatal(err)
	}
	raw := rows + pins
	if strings.Contains(raw, seal.Prefix(oldID)) {
		t.Error("a value sealed with the previous key is still in the database")
	}
	for _, secret := range []string{acmeSecret, otherSecret, "rotSecret"} {
		if strings.Contains(raw, secret) {
			t.Errorf("%s is in the database in clear", secret)
		}
	}

	// The previous key is no longer needed.
	cfg := replicaConfig(t, database, prefix)
	cfg.Seed, cfg.MasterKey, cfg.QPS = "", newKey, 1_000_000
	m := start(t, cfg)
	if _, err := call(newClient(t, m, acmeKey, acmeSecret, ""), "GetPhoneNumberVerificationStatus", map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": migrating}); err != nil {
		t.Fatalf("with the new key alone: %v", err)
	}
	// A key of the extra accounts: its signature verifies (its account owns no space, so the
	// call is refused after that).
	_, err = call(newClient(t, m, "LTAI5tRot0000000000042", fmt.Sprintf("rotSecret%021d", 42), "v2"), "GetPhoneNumberVerificationStatus", map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": migrating})
	if err != nil {
		switch code := asSDKError(t, err).Code; code {
		case "SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound", "InternalError":
			t.Fatalf("a key sealed again by the rotation, with the new key alone: %v", err)
		}
	}
}

// TestAdmin_rotateMasterKeyWithoutKey: a camsd without a master key says so, and the command
// fails.
func TestAdmin_rotateMasterKeyWithoutKey(t *testing.T) {
	const token = "rotation-token-0000000000000000000"
	cfg := testConfig(t)
	cfg.AdminToken = token
	m := start(t, cfg)
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == "CAMSD_ADMIN_TOKEN" {
			return token
		}
		return ""
	}
	code := runAdmin(context.Background(), []string{"--server", m.AdminURL, "master-key", "rotate"}, getenv, nil, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "MasterKey.NotSet") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 1 and MasterKey.NotSet", code, out.String(), errOut.String())
	}
}
