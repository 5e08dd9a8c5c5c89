package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/admin"
	"github.com/camsd/camsd/migration"
	"github.com/camsd/camsd/sqlite"
)

const token = "s3cret-admin-token"

type fixture struct {
	db     *sqlite.DB
	client *admin.Client
	url    string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "camsd.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	srv := &admin.Server{Store: db, Migration: &migration.Service{Store: db}, Token: token}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &fixture{db: db, url: ts.URL, client: &admin.Client{URL: ts.URL, Token: token}}
}

func (f *fixture) do(t *testing.T, method, path string, q url.Values, in, out any) {
	t.Helper()
	if err := f.client.Do(context.Background(), method, path, q, in, out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

// fail calls and returns the error reply, failing the test on success.
func (f *fixture) fail(t *testing.T, method, path string, in any) *admin.Error {
	t.Helper()
	err := f.client.Do(context.Background(), method, path, nil, in, nil)
	var e *admin.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s %s: %v; want an error reply", method, path, err)
	}
	return e
}

func TestAdmin_Token(t *testing.T) {
	f := newFixture(t)
	for _, tok := range []string{"", "wrong", token + "x"} {
		c := &admin.Client{URL: f.url, Token: tok}
		err := c.Do(context.Background(), "GET", "accounts", nil, nil, nil)
		var e *admin.Error
		if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Code != "Unauthorized" {
			t.Errorf("token %q: %v; want 401 Unauthorized", tok, err)
		}
	}
	// Unknown paths are refused the same way before anything else is said about them.
	resp, err := http.Get(f.url + "/admin/v1/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown path without a token: %d", resp.StatusCode)
	}
	// A server with no token configured refuses everything.
	srv := httptest.NewServer((&admin.Server{Store: f.db, Token: ""}).Handler())
	defer srv.Close()
	err = (&admin.Client{URL: srv.URL, Token: ""}).Do(context.Background(), "GET", "accounts", nil, nil, nil)
	var e *admin.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
		t.Errorf("no token configured: %v; want 401", err)
	}
}

// A tenant made from nothing through the admin API, each change seen by the store at once.
func TestAdmin_Tenant(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.do(t, "POST", "accounts", nil, map[string]any{"UID": "1001", "Name": "acme"}, nil)
	if e := f.fail(t, "POST", "accounts", map[string]any{"UID": "1001", "Name": "again"}); e.Status != http.StatusConflict {
		t.Errorf("account again: %v", e)
	}
	if e := f.fail(t, "POST", "accounts", map[string]any{"UID": "ab", "Name": "x"}); e.Status != http.StatusBadRequest {
		t.Errorf("bad uid: %v", e)
	}
	if e := f.fail(t, "POST", "accounts", map[string]any{"UID": "1", "Name": "x", "Extra": 1}); e.Status != http.StatusBadRequest || !strings.Contains(e.Message, "Extra") {
		t.Errorf("unknown field: %v", e)
	}

	var key admin.Key
	f.do(t, "POST", "keys", nil, map[string]any{"UID": "1001"}, &key)
	if !strings.HasPrefix(key.AccessKeyId, "LTAI5t") || len(key.AccessKeySecret) != 30 {
		t.Fatalf("new key = %+v", key)
	}
	p, err := f.db.Principal(ctx, key.AccessKeyId)
	if err != nil || p.Key.Secret != key.AccessKeySecret || p.Account.Subscribed {
		t.Fatalf("Principal = %+v, %v; want the key of an unsubscribed account", p, err)
	}
	f.do(t, "POST", "accounts/1001/subscribe", nil, nil, nil)
	if p, _ := f.db.Principal(ctx, key.AccessKeyId); !p.Account.Subscribed {
		t.Errorf("subscribe did not take effect")
	}

	f.do(t, "POST", "users", nil, map[string]any{"UID": "1001", "Name": "dev"}, nil)
	e := f.fail(t, "POST", "policies", map[string]any{"UID": "1001", "UserName": "dev",
		"Document": json.RawMessage(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:Get*","Resource":"*","Condition":{"StringEquals":{"acs:Nope":"x"}}}]}`)})
	if e.Status != http.StatusBadRequest || !strings.Contains(e.Message, "Statement[0].Condition") {
		t.Errorf("invalid policy: %v; want 400 naming the place", e)
	}
	read := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:Get*","Resource":"*"}]}`
	f.do(t, "POST", "policies", nil, map[string]any{"UID": "1001", "UserName": "dev", "Document": json.RawMessage(read)}, nil)
	var devKey admin.Key
	f.do(t, "POST", "keys", nil, map[string]any{"UID": "1001", "UserName": "dev"}, &devKey)
	// A second policy keeps the first, and a new key keeps the user's policies.
	send := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:ChatappMigrationVerified","Resource":"*"}]}`
	f.do(t, "POST", "policies", nil, map[string]any{"UID": "1001", "UserName": "dev", "Document": json.RawMessage(send)}, nil)
	p, err = f.db.Principal(ctx, devKey.AccessKeyId)
	if err != nil || p.User == nil || len(p.User.Policies) != 2 {
		t.Fatalf("dev's key: %+v, %v; want user dev with 2 policies", p, err)
	}
	if e := f.fail(t, "POST", "keys", map[string]any{"UID": "1001", "UserName": "nobody"}); e.Status != http.StatusNotFound {
		t.Errorf("key of an unknown user: %v", e)
	}

	f.do(t, "POST", "keys/"+devKey.AccessKeyId+"/disable", nil, nil, nil)
	if p, _ := f.db.Principal(ctx, devKey.AccessKeyId); p.Key.Status != camsd.KeyInactive || len(p.User.Policies) != 2 {
		t.Errorf("after disable: %+v", p)
	}
	f.do(t, "DELETE", "keys/"+devKey.AccessKeyId, nil, nil, nil)
	if _, err := f.db.Principal(ctx, devKey.AccessKeyId); !errors.Is(err, camsd.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if e := f.fail(t, "DELETE", "keys/"+devKey.AccessKeyId, nil); e.Status != http.StatusNotFound {
		t.Errorf("delete again: %v", e)
	}

	f.do(t, "POST", "spaces", nil, map[string]any{"UID": "1001", "CustSpaceId": "cs-1", "Name": "one"}, nil)
	if e := f.fail(t, "POST", "spaces", map[string]any{"UID": "1001", "CustSpaceId": "cs-1", "Name": "x"}); e.Status != http.StatusConflict {
		t.Errorf("space again: %v", e)
	}
	var n admin.Number
	f.do(t, "POST", "numbers", nil, map[string]any{"CustSpaceId": "cs-1", "PhoneNumber": "8613800001111"}, &n)
	if n.Status != "MIGRATING" || n.Id == "" {
		t.Errorf("number = %+v", n)
	}
	if e := f.fail(t, "POST", "numbers", map[string]any{"CustSpaceId": "cs-1", "PhoneNumber": "8613800001111"}); e.Status != http.StatusConflict {
		t.Errorf("number again: %v", e)
	}
	if e := f.fail(t, "POST", "numbers", map[string]any{"CustSpaceId": "cs-1", "PhoneNumber": "0861"}); e.Code != camsd.CodeInvalidParameterPhoneNumber {
		t.Errorf("bad number: %v", e)
	}
	if e := f.fail(t, "POST", "numbers", map[string]any{"CustSpaceId": "cs-404", "PhoneNumber": "8613800001111"}); e.Status != http.StatusNotFound {
		t.Errorf("number in an unknown space: %v", e)
	}

	var lists struct {
		Accounts     []admin.Account
		Keys         []admin.Key
		Users        []admin.User
		Spaces       []admin.Space
		PhoneNumbers []admin.Number
		Records      []camsd.AuditRecord
	}
	for _, path := range []string{"accounts", "keys", "users", "spaces", "numbers", "audit"} {
		f.do(t, "GET", path, url.Values{}, nil, &lists)
	}
	if len(lists.Accounts) != 1 || len(lists.Keys) != 1 || lists.Keys[0].AccessKeySecret != "" || len(lists.Users) != 1 ||
		len(lists.Spaces) != 1 || len(lists.PhoneNumbers) != 1 || len(lists.Records) != 1 || lists.Records[0].Action != "AdminAddNumber" {
		t.Errorf("lists = %+v", lists)
	}
}

func TestAdmin_SpaceWhatsApp(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.do(t, "POST", "accounts", nil, map[string]any{"UID": "1001", "Name": "acme"}, nil)
	var created admin.Space
	f.do(t, "POST", "spaces", nil, map[string]any{"UID": "1001", "CustSpaceId": "cs-1", "WabaId": "104996122399160", "Pin": "123456"}, &created)
	if created.Pin != "" {
		t.Errorf("the reply carries the PIN")
	}
	sp, err := f.db.Space(ctx, "cs-1")
	if err != nil || sp.WabaID != "104996122399160" || sp.Pin != "123456" {
		t.Fatalf("Space = %+v, %v", sp, err)
	}
	if e := f.fail(t, "POST", "spaces/cs-1/whatsapp", map[string]any{"Pin": "12345"}); e.Status != http.StatusBadRequest {
		t.Errorf("5-digit PIN: %v", e)
	}
	f.do(t, "POST", "spaces/cs-1/whatsapp", nil, map[string]any{"Pin": "654321"}, nil)
	if sp, _ := f.db.Space(ctx, "cs-1"); sp.Pin != "654321" || sp.WabaID != "104996122399160" {
		t.Errorf("after setting the PIN only: %+v", sp)
	}
	var list struct{ Spaces []map[string]any }
	f.do(t, "GET", "spaces", nil, nil, &list)
	if len(list.Spaces) != 1 || list.Spaces[0]["WabaId"] != "104996122399160" || list.Spaces[0]["Pin"] != nil {
		t.Errorf("list = %+v; want the WABA id and no PIN", list)
	}
}
