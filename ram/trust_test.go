package ram

import (
	"strings"
	"testing"
)

func TestParseTrust(t *testing.T) {
	for _, tt := range []struct{ name, doc, want string }{
		{"a Resource", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Principal":{"RAM":"1"}}]}`, "Statement[0].Resource: not allowed in a trust policy"},
		{"no Principal", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, "Statement[0].Principal: missing"},
		{"Principal a string", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"*"}]}`, "Statement[0].Principal: want an object"},
		{"an unknown kind", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"1"}}]}`, `Statement[0].Principal.AWS: unknown element`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseTrust([]byte(tt.doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseTrust = %v; want %q", err, tt.want)
			}
		})
	}
}

func TestEvaluateTrust(t *testing.T) {
	trust := func(stmts string) *Policy {
		t.Helper()
		p, err := ParseTrust([]byte(`{"Version":"1","Statement":[` + stmts + `]}`))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	allow := func(who string) string {
		return `{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["` + who + `"]}}`
	}
	root, user, other := Caller{UID: "1"}, Caller{UID: "1", UserName: "ops"}, Caller{UID: "2"}
	c := Context{Action: "sts:AssumeRole", Resource: "acs:ram::1:role/r"}
	for _, tt := range []struct {
		name   string
		policy *Policy
		caller Caller
		want   bool
	}{
		{"root names the account's key", trust(allow("acs:ram::1:root")), root, true},
		{"root names the account's users", trust(allow("acs:ram::1:root")), user, true},
		{"a bare uid is root", trust(allow("1")), user, true},
		{"a user ARN names that user", trust(allow("acs:ram::1:user/ops")), user, true},
		{"a user ARN does not name the account", trust(allow("acs:ram::1:user/ops")), root, false},
		{"another account is not named", trust(allow("acs:ram::1:root")), other, false},
		{"a Deny wins", trust(allow("acs:ram::1:root") + `,{"Effect":"Deny","Action":"sts:*","Principal":{"RAM":"acs:ram::1:user/ops"}}`), user, false},
		{"Service principals never match", trust(`{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"ecs.aliyuncs.com"}}`), root, false},
		{"an identity policy trusts nobody", mustParse(t, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`), root, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := EvaluateTrust(tt.policy, tt.caller, c).Allowed; got != tt.want {
				t.Errorf("EvaluateTrust(%+v) = %v; want %v", tt.caller, got, tt.want)
			}
		})
	}
}
