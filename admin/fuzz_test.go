package admin_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/camsd/camsd/admin"
	"github.com/camsd/camsd/migration"
	"github.com/camsd/camsd/sqlite"
)

// FuzzAdminBodies: whatever body an admin sends to a route that changes something, the
// answer is a success or a refusal with a JSON {"Code","Message"}, never a failure of the
// server (500) and never a panic.
func FuzzAdminBodies(f *testing.F) {
	routes := []string{"accounts", "keys", "users", "policies", "spaces", "numbers", "spaces/cs-1/whatsapp", "accounts/1001/subscribe"}
	for i, body := range []string{
		`{"UID":"1001","Name":"acme"}`,
		`{"UID":"1001"}`,
		`{"UID":"1001","Name":"dev"}`,
		`{"UID":"1001","UserName":"dev","Document":{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:*","Resource":"*"}]}}`,
		`{"UID":"1001","CustSpaceId":"cs-1","WabaId":"1","Pin":"123456"}`,
		`{"CustSpaceId":"cs-1","PhoneNumber":"8613800001234","Status":"connected"}`,
		`{"Pin":"1"}`,
		``,
		`[`, `null`, `{"UID":1}`, `{"Document":"x"}`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	db := sqlite.NewDB(filepath.Join(f.TempDir(), "camsd.db"))
	if err := db.Open(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	h := (&admin.Server{Store: db, Migration: &migration.Service{Store: db}, Token: token}).Handler()
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		req := httptest.NewRequest("POST", admin.Prefix+routes[int(route)%len(routes)], bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("POST %s %q: 500 %s", req.URL.Path, body, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct{ Code, Message string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("POST %s %q: %d without an error envelope: %s", req.URL.Path, body, rec.Code, rec.Body)
			}
		}
	})
}
