package ram

import (
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that every refusal says something, and that
// whatever parses evaluates consistently: Deny always beats Allow, and the verdict does not
// depend on how many times a policy is attached.
func FuzzParse(f *testing.F) {
	f.Add([]byte(doc(allowAll)))
	f.Add([]byte(doc(allowIf(`{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`))))
	// More seeds are in testdata/fuzz/FuzzParse.

	contexts := []Context{
		request(),
		{},
		{
			Action:      "CAMS:ChatappMigrationRegister",
			Resource:    "acs:cams:*:2000000000000002:*",
			SourceIP:    "2001:db8::7",
			CurrentTime: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
			AccessID:    "LTAI5tDev",
		},
	}
	everything := &Policy{statements: []statement{{actions: []string{"*"}, resources: []string{"*"}}}}

	f.Fuzz(func(t *testing.T, d []byte) {
		p, err := Parse(d)
		if err != nil {
			if p != nil {
				t.Errorf("Parse returned a policy and an error")
			}
			if err.Error() == "" {
				t.Errorf("Parse error says nothing")
			}
			return
		}
		for _, c := range contexts {
			r := Evaluate([]*Policy{p}, c)
			switch {
			case r.Allowed && r.NoPermissionType != "",
				!r.Allowed && r.NoPermissionType != ImplicitDeny && r.NoPermissionType != ExplicitDeny:
				t.Fatalf("Evaluate = %+v: inconsistent result", r)
			}
			if twice := Evaluate([]*Policy{p, p}, c); twice != r {
				t.Errorf("Evaluate of the policy twice = %+v, once = %+v", twice, r)
			}
			withAllow := Evaluate([]*Policy{p, everything}, c)
			if explicit := r.NoPermissionType == ExplicitDeny; explicit != (withAllow.NoPermissionType == ExplicitDeny) || (!explicit && !withAllow.Allowed) {
				t.Errorf("Evaluate = %+v alone but %+v beside Allow *", r, withAllow)
			}
			if (Detail(r, c, "1", "u") == nil) != r.Allowed {
				t.Errorf("Detail of %+v is nil: %v", r, r.Allowed)
			}
		}
	})
}

// FuzzParseTrust checks that ParseTrust never panics, that every refusal says something, and
// that a trust policy that parses gives every caller one consistent verdict.
func FuzzParseTrust(f *testing.F) {
	f.Add([]byte(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::1:root"]}}]}`))
	f.Add([]byte(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::1:user/ops"}},{"Effect":"Deny","Action":"sts:*","Principal":{"RAM":"1"}}]}`))
	// More seeds are in testdata/fuzz/FuzzParseTrust.

	callers := []Caller{{UID: "1"}, {UID: "1", UserName: "ops"}, {UID: "2"}, {}}
	c := Context{Action: "sts:AssumeRole", Resource: "acs:ram::1:role/r"}
	f.Fuzz(func(t *testing.T, d []byte) {
		p, err := ParseTrust(d)
		if err != nil {
			if p != nil {
				t.Errorf("ParseTrust returned a policy and an error")
			}
			if err.Error() == "" {
				t.Errorf("ParseTrust error says nothing")
			}
			return
		}
		for _, who := range callers {
			r := EvaluateTrust(p, who, c)
			if r.Allowed && r.NoPermissionType != "" || !r.Allowed && r.NoPermissionType != ImplicitDeny && r.NoPermissionType != ExplicitDeny {
				t.Fatalf("EvaluateTrust(%+v) = %+v: inconsistent result", who, r)
			}
			if again := EvaluateTrust(p, who, c); again != r {
				t.Errorf("EvaluateTrust(%+v) twice: %+v, then %+v", who, r, again)
			}
		}
	})
}
