package ram

import (
	"testing"
)

func TestEvaluate_actions(t *testing.T) {
	allow := func(action string) string {
		return doc(`{"Effect":"Allow","Action":` + action + `,"Resource":"*"}`)
	}
	notAction := func(action string) string {
		return doc(`{"Effect":"Allow","NotAction":` + action + `,"Resource":"*"}`)
	}
	tests := []struct {
		name, doc string
		want      bool
	}{
		{"exact", allow(`"cams:GetMigrationVerifyCode"`), true},
		{"case-insensitive", allow(`"CAMS:getmigrationverifycode"`), true},
		{"star", allow(`"*"`), true},
		{"service star", allow(`"cams:*"`), true},
		{"prefix", allow(`"cams:Get*"`), true},
		{"prefix case-insensitive", allow(`"Cams:get*"`), true},
		{"question mark", allow(`"cams:GetMigration?erifyCode"`), true},
		{"question mark needs a character", allow(`"cams:GetMigrationVerifyCode?"`), false},
		{"other action", allow(`"cams:ChatappMigrationRegister"`), false},
		{"other prefix", allow(`"cams:Create*"`), false},
		{"other service", allow(`"ecs:*"`), false},
		{"prefix only", allow(`"cams:GetMigration"`), false},
		{"list", allow(`["cams:Create*","cams:GetMigrationVerifyCode"]`), true},
		{"list without it", allow(`["cams:Create*","cams:ChatappMigration*"]`), false},
		{"not action other", notAction(`"cams:Create*"`), true},
		{"not action it", notAction(`"cams:Get*"`), false},
		{"not action case-insensitive", notAction(`"CAMS:GET*"`), false},
		{"not action list", notAction(`["ecs:*","cams:getmigrationverifycode"]`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate([]*Policy{mustParse(t, tt.doc)}, request()).Allowed; got != tt.want {
				t.Errorf("allowed = %v, want %v, for %s", got, tt.want, tt.doc)
			}
		})
	}
}

func TestEvaluate_resources(t *testing.T) {
	allow := func(resource string) string {
		return doc(`{"Effect":"Allow","Action":"cams:*","Resource":` + resource + `}`)
	}
	tests := []struct {
		name, doc string
		want      bool
	}{
		{"star", allow(`"*"`), true},
		{"account", allow(`"acs:cams:*:1000000000000001:*"`), true},
		{"any account", allow(`"acs:cams:*:*:*"`), true},
		{"any service", allow(`"acs:*:*:*:*"`), true},
		{"account pattern", allow(`"acs:cams:*:100000000000000?:*"`), true},
		{"other account", allow(`"acs:cams:*:2000000000000002:*"`), false},
		{"other service", allow(`"acs:ecs:*:*:*"`), false},
		{"case-sensitive", allow(`"acs:CAMS:*:*:*"`), false},
		{"region", allow(`"acs:cams:cn-hangzhou:*:*"`), false}, // the request names no region
		{"list", allow(`["acs:ecs:*:*:*","acs:cams:*:1000000000000001:*"]`), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate([]*Policy{mustParse(t, tt.doc)}, request()).Allowed; got != tt.want {
				t.Errorf("allowed = %v, want %v, for %s", got, tt.want, tt.doc)
			}
		})
	}
}

func TestEvaluate_deny(t *testing.T) {
	const (
		denyIt      = `{"Effect":"Deny","Action":"cams:GetMigrationVerifyCode","Resource":"*"}`
		denyOther   = `{"Effect":"Deny","Action":"cams:ChatappMigrationRegister","Resource":"*"}`
		denyOutside = `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":"203.0.113.0/24"}}}`
		denyHTTP    = `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"acs:SecureTransport":"false"}}}`
		denyNotGet  = `{"Effect":"Deny","NotAction":"cams:Get*","Resource":"*"}`
		allowGet    = `{"Effect":"Allow","Action":"cams:Get*","Resource":"*"}`
	)
	allowed := Result{Allowed: true}
	implicit := Result{NoPermissionType: ImplicitDeny}
	explicit := Result{NoPermissionType: ExplicitDeny}
	tests := []struct {
		name     string
		policies []string
		want     Result
	}{
		{"no policies", nil, implicit},
		{"allow", []string{doc(allowAll)}, allowed},
		{"deny beats allow", []string{doc(allowAll), doc(denyIt)}, explicit},
		{"deny first", []string{doc(denyIt), doc(allowAll)}, explicit},
		{"deny in the same policy", []string{doc(allowAll, denyIt)}, explicit},
		{"deny alone", []string{doc(denyIt)}, explicit},
		{"deny of another action", []string{doc(allowAll, denyOther)}, allowed},
		{"deny of another action alone", []string{doc(denyOther)}, implicit},
		{"deny whose condition fails", []string{doc(allowGet, denyOutside, denyHTTP)}, allowed},
		{"deny with not action", []string{doc(allowAll, denyNotGet)}, allowed},
		{"allow of another action", []string{doc(`{"Effect":"Allow","Action":"cams:Create*","Resource":"*"}`)}, implicit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps []*Policy
			for _, d := range tt.policies {
				ps = append(ps, mustParse(t, d))
			}
			if got := Evaluate(ps, request()); got != tt.want {
				t.Errorf("Evaluate = %+v, want %+v", got, tt.want)
			}
		})
	}

	t.Run("deny when outside the network", func(t *testing.T) {
		c := request()
		c.SourceIP = "198.51.100.1"
		ps := []*Policy{mustParse(t, doc(allowGet, denyOutside))}
		if got := Evaluate(ps, c); got != explicit {
			t.Errorf("Evaluate = %+v, want %+v", got, explicit)
		}
	})
	t.Run("nil and zero policies", func(t *testing.T) {
		ps := []*Policy{nil, {}, mustParse(t, doc(allowAll))}
		if got := Evaluate(ps, request()); got != allowed {
			t.Errorf("Evaluate = %+v, want %+v", got, allowed)
		}
	})
}
