package admin_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/camsd/camsd/admin"
)

const (
	trust  = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::1001:root"]}}]}`
	policy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:*","Resource":"*"}]}`
)

func TestAdmin_Roles(t *testing.T) {
	f := newFixture(t)
	f.do(t, "POST", "accounts", nil, map[string]any{"UID": "1001", "Name": "acme"}, nil)

	var put admin.Role
	f.do(t, "PUT", "roles", nil, admin.Role{UID: "1001", Name: "operator", TrustPolicy: json.RawMessage(trust),
		Policies: []json.RawMessage{json.RawMessage(policy)}}, &put)
	if put.Arn != "acs:ram::1001:role/operator" || put.MaxSessionDuration != 3600 {
		t.Errorf("PUT roles = %+v; want the ARN and the default 3600 s", put)
	}
	// A second put replaces the role whole.
	f.do(t, "PUT", "roles", nil, admin.Role{UID: "1001", Name: "operator", MaxSessionDuration: 7200, TrustPolicy: json.RawMessage(trust)}, nil)
	var list struct{ Roles []admin.Role }
	f.do(t, "GET", "roles", url.Values{"UID": {"1001"}}, nil, &list)
	if len(list.Roles) != 1 || list.Roles[0].MaxSessionDuration != 7200 || len(list.Roles[0].Policies) != 0 ||
		compact(t, list.Roles[0].TrustPolicy) != trust || list.Roles[0].Arn != "acs:ram::1001:role/operator" {
		t.Errorf("GET roles = %+v", list.Roles)
	}

	for _, tt := range []struct {
		name string
		in   admin.Role
		want string
	}{
		{"a bad name", admin.Role{UID: "1001", Name: "a b", TrustPolicy: json.RawMessage(trust)}, "Name"},
		{"no trust policy", admin.Role{UID: "1001", Name: "r"}, "TrustPolicy is missing"},
		{"an identity policy as trust policy", admin.Role{UID: "1001", Name: "r", TrustPolicy: json.RawMessage(policy)}, "trust policy is not valid"},
		{"a trust policy as permission policy", admin.Role{UID: "1001", Name: "r", TrustPolicy: json.RawMessage(trust), Policies: []json.RawMessage{json.RawMessage(trust)}}, "Policies[0]"},
		{"too long a session", admin.Role{UID: "1001", Name: "r", MaxSessionDuration: 43201, TrustPolicy: json.RawMessage(trust)}, "MaxSessionDuration"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := f.fail(t, "PUT", "roles", tt.in)
			if e.Status != 400 || !strings.Contains(e.Message, tt.want) {
				t.Errorf("PUT roles: %v; want 400 saying %q", e, tt.want)
			}
		})
	}
	t.Run("an unknown account", func(t *testing.T) {
		if e := f.fail(t, "PUT", "roles", admin.Role{UID: "9", Name: "r", TrustPolicy: json.RawMessage(trust)}); e.Status != 404 {
			t.Errorf("PUT roles of account 9: %v; want 404", e)
		}
	})
}

func compact(t *testing.T, doc json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, doc); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
