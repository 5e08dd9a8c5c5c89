package seed

import (
	"strings"
	"testing"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

// The example in testdata is the one operators copy; it must stay valid and mean what its
// comments say.
func TestLoad_example(t *testing.T) {
	got, err := Load("testdata/example.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	const acme, lapsed = "1000000000000001", "1000000000000002"
	if n := len(got.Accounts); n != 2 || len(got.Accounts[0].Users) != 2 || len(got.Accounts[0].Users[0].Policies) != 2 {
		t.Fatalf("Load: unexpected shape: %+v", got)
	}
	// The second policy is a multi-line block; its content is the test of the ram package.
	block := got.Accounts[0].Users[0].Policies[1]
	if !strings.HasPrefix(block, "{\n  \"Version\": \"1\",") || !strings.Contains(block, `"Effect": "Deny"`) {
		t.Errorf("block policy = %q", block)
	}

	want := &camsd.Seed{Accounts: []camsd.SeedAccount{
		{
			Account: camsd.Account{UID: acme, Name: "isv-acme", Subscribed: true, QPS: 10},
			AccessKeys: []camsd.AccessKey{
				{ID: "LTAI5tAcmeRoot00000001", Secret: "acmeRootSecret0000000000000001", UID: acme, Status: camsd.KeyActive},
			},
			Users: []camsd.SeedUser{
				{
					Name: "ops",
					AccessKeys: []camsd.AccessKey{
						{ID: "LTAI5tAcmeOps000000001", Secret: "acmeOpsSecret00000000000001", UID: acme, UserName: "ops", Status: camsd.KeyActive},
						{ID: "LTAI5tAcmeOpsOld000001", Secret: "acmeOpsOldSecret000000000001", UID: acme, UserName: "ops", Status: camsd.KeyInactive},
					},
					Policies: []string{
						`{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:GetMigrationVerifyCode","Resource":"*"}]}`,
						block,
					},
				},
				{
					Name: "auditor",
					AccessKeys: []camsd.AccessKey{
						{ID: "LTAI5tAcmeAudit0000001", Secret: "acmeAuditSecret000000000001", UID: acme, UserName: "auditor", Status: camsd.KeyActive},
					},
				},
			},
			Spaces: []camsd.SeedSpace{
				{
					Space: camsd.Space{CustSpaceID: "293483938849493", UID: acme, Name: "customer-a"},
					PhoneNumbers: []camsd.PhoneNumber{
						{CustSpaceID: "293483938849493", Number: "8613800001234", ID: "82828893332", Status: camsd.StatusMigrating},
						{CustSpaceID: "293483938849493", Number: "8613800005678", ID: phoneNumberID("293483938849493", "8613800005678"), Status: camsd.StatusConnected},
						{CustSpaceID: "293483938849493", Number: "14155550100", ID: phoneNumberID("293483938849493", "14155550100"), Status: camsd.StatusMigrating},
						{CustSpaceID: "293483938849493", Number: "8613800009012", ID: phoneNumberID("293483938849493", "8613800009012"), Status: camsd.StatusUnverified, VerifiedName: "Acme Support"},
					},
				},
				{
					Space: camsd.Space{CustSpaceID: "293483938849494", UID: acme, Name: "customer-b"},
					PhoneNumbers: []camsd.PhoneNumber{
						{CustSpaceID: "293483938849494", Number: "8613800001234", ID: phoneNumberID("293483938849494", "8613800001234"), Status: camsd.StatusMigrated},
					},
				},
			},
			PreValidated: []camsd.PreValidatedNumber{
				{UID: acme, Number: "8613800001111", VerifyCode: "123456", ID: "104996122399161"},
				{UID: acme, Number: "8613800002222", VerifyCode: "654321"},
			},
		},
		{
			Account: camsd.Account{UID: lapsed, Name: "lapsed-isv", Subscribed: false},
			AccessKeys: []camsd.AccessKey{
				{ID: "LTAI5tLapsedRoot000001", Secret: "lapsedRootSecret00000000001", UID: lapsed, Status: camsd.KeyActive},
			},
		},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load(testdata/example.yaml) (-want +got):\n%s", diff)
	}
	checkSeed(t, got)
}
