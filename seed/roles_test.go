package seed

import (
	"strings"
	"testing"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

const (
	trustRoot = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::1000000000000001:root"]}}]}`
	allCams   = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:*","Resource":"*"}]}`
)

func TestParse_roles(t *testing.T) {
	s, err := Parse("seed.yaml", []byte(lines(
		`accounts:`,
		`  - uid: "1000000000000001"`,
		`    ram_roles:`,
		`      - name: cams-operator`,
		`        max_session_duration: 7200`,
		`        trust_policy: '`+trustRoot+`'`,
		`        policies:`,
		`          - '`+allCams+`'`,
		`      - name: reader`,
		`        trust_policy: '`+trustRoot+`'`,
	)))
	if err != nil {
		t.Fatal(err)
	}
	want := []camsd.Role{
		{UID: "1000000000000001", Name: "cams-operator", MaxSessionDuration: 7200, TrustPolicy: trustRoot, Policies: []string{allCams}},
		{UID: "1000000000000001", Name: "reader", MaxSessionDuration: 3600, TrustPolicy: trustRoot},
	}
	if diff := cmp.Diff(want, s.Accounts[0].Roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
}

func TestParse_roleErrors(t *testing.T) {
	role := func(fields ...string) string {
		return lines(append([]string{`accounts:`, `  - uid: "1"`, `    ram_roles:`}, fields...)...)
	}
	tests := []struct{ name, yaml, want string }{
		{"no name", role(`      - trust_policy: '` + trustRoot + `'`), `accounts[0].ram_roles[0].name: missing`},
		{"bad name", role(`      - name: a_b`, `        trust_policy: '`+trustRoot+`'`), `accounts[0].ram_roles[0].name: "a_b": a RAM role name is 1 to 64 letters, digits, '.' and '-'`},
		{"twice", role(`      - {name: r, trust_policy: '`+trustRoot+`'}`, `      - {name: r, trust_policy: '`+trustRoot+`'}`), `accounts[0].ram_roles[1].name: duplicate RAM role "r" in this account (first at accounts[0].ram_roles[0].name, line 4)`},
		{"too short", role(`      - {name: r, max_session_duration: 899, trust_policy: '` + trustRoot + `'}`), `accounts[0].ram_roles[0].max_session_duration: 899: want 900 to 43200 seconds`},
		{"too long", role(`      - {name: r, max_session_duration: 43201, trust_policy: '` + trustRoot + `'}`), `accounts[0].ram_roles[0].max_session_duration: 43201: want 900 to 43200 seconds`},
		{"no trust policy", role(`      - name: r`), `accounts[0].ram_roles[0].trust_policy: missing`},
		{"trust policy without Principal", role(`      - {name: r, trust_policy: '` + allCams + `'}`), `accounts[0].ram_roles[0].trust_policy: Statement[0].Resource: not allowed in a trust policy`},
		{"identity policy with Principal", role(`      - name: r`, `        trust_policy: '`+trustRoot+`'`, `        policies: ['`+trustRoot+`']`), `accounts[0].ram_roles[0].policies[0]: Statement[0].Principal: not allowed in an identity policy`},
		{"unknown field", role(`      - {name: r, trust: x}`), `accounts[0].ram_roles[0].trust: unknown field`},
		{"an STS key id", lines(`accounts:`, `  - uid: "1"`, `    access_keys: [{id: STS.abc, secret: s}]`), `accounts[0].access_keys[0].id: "STS.abc": ids that start with "STS." are STS temporary credentials`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("seed.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v; want one with %q", err, tt.want)
			}
		})
	}
}
