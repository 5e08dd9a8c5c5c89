package seed

import (
	"testing"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

const allowGet = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:GetMigrationVerifyCode","Resource":"*"}]}`

func TestParse(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       *camsd.Seed
	}{
		{"empty", ``, &camsd.Seed{}},
		{"comments only", "# nothing yet\n", &camsd.Seed{}},
		{"document marker only", "---\n", &camsd.Seed{}},
		{"no accounts", "accounts:\n", &camsd.Seed{}},
		{"empty accounts", "accounts: []\n", &camsd.Seed{}},
		{
			"!!str keeps digits as written",
			"accounts:\n  - {uid: !!str 0123, name: !!str true}\n",
			&camsd.Seed{Accounts: []camsd.SeedAccount{{Account: camsd.Account{UID: "0123", Name: "true", Subscribed: true}}}},
		},
		{
			"defaults",
			`
accounts:
  - uid: 1000000000000001
    access_keys: [{id: LTAI5tRoot, secret: s1}]
    spaces:
      - cust_space_id: "293483938849493"
        phone_numbers: [{phone_number: 8613800001234}]
`,
			&camsd.Seed{Accounts: []camsd.SeedAccount{{
				Account:    camsd.Account{UID: "1000000000000001", Subscribed: true},
				AccessKeys: []camsd.AccessKey{{ID: "LTAI5tRoot", Secret: "s1", UID: "1000000000000001", Status: camsd.KeyActive}},
				Spaces: []camsd.SeedSpace{{
					Space: camsd.Space{CustSpaceID: "293483938849493", UID: "1000000000000001"},
					PhoneNumbers: []camsd.PhoneNumber{{
						CustSpaceID: "293483938849493",
						Number:      "8613800001234",
						ID:          phoneNumberID("293483938849493", "8613800001234"),
						Status:      camsd.StatusMigrating,
					}},
				}},
			}}},
		},
		{
			"everything given",
			`
accounts:
  - uid: "1000000000000001"
    name: isv-acme
    subscribed: false
    qps: 5
    access_keys: [{id: LTAI5tRoot, secret: s1, status: Inactive}]
    ram_users:
      - name: ops
        access_keys: [{id: LTAI5tOps, secret: s2, status: Active}]
        policies: ['` + allowGet + `']
      - name: no.keys_or-policies
    spaces:
      - cust_space_id: cs-1
        name: customer-a
        waba_id: "104996122399160"
        pin: "123456"
        phone_numbers:
          - {phone_number: "8613800001234", id: "82828893332", status: CONNECTED}
`,
			&camsd.Seed{Accounts: []camsd.SeedAccount{{
				Account:    camsd.Account{UID: "1000000000000001", Name: "isv-acme", QPS: 5},
				AccessKeys: []camsd.AccessKey{{ID: "LTAI5tRoot", Secret: "s1", UID: "1000000000000001", Status: camsd.KeyInactive}},
				Users: []camsd.SeedUser{
					{
						Name:       "ops",
						AccessKeys: []camsd.AccessKey{{ID: "LTAI5tOps", Secret: "s2", UID: "1000000000000001", UserName: "ops", Status: camsd.KeyActive}},
						Policies:   []string{allowGet},
					},
					{Name: "no.keys_or-policies"},
				},
				Spaces: []camsd.SeedSpace{{
					Space: camsd.Space{CustSpaceID: "cs-1", UID: "1000000000000001", Name: "customer-a", WabaID: "104996122399160", Pin: "123456"},
					PhoneNumbers: []camsd.PhoneNumber{
						{CustSpaceID: "cs-1", Number: "8613800001234", ID: "82828893332", Status: camsd.StatusConnected},
					},
				}},
			}}},
		},
		{
			"number migrated out of other spaces",
			`
accounts:
  - uid: "1"
    spaces:
      - {cust_space_id: a, phone_numbers: [{phone_number: "14155550100", id: "1", status: MIGRATED}]}
      - {cust_space_id: b, phone_numbers: [{phone_number: "14155550100", id: "2", status: MIGRATING}]}
  - uid: "2"
    spaces:
      - {cust_space_id: c, phone_numbers: [{phone_number: "14155550100", id: "3", status: MIGRATED}]}
`,
			&camsd.Seed{Accounts: []camsd.SeedAccount{
				{
					Account: camsd.Account{UID: "1", Subscribed: true},
					Spaces: []camsd.SeedSpace{
						{Space: camsd.Space{CustSpaceID: "a", UID: "1"}, PhoneNumbers: []camsd.PhoneNumber{{CustSpaceID: "a", Number: "14155550100", ID: "1", Status: camsd.StatusMigrated}}},
						{Space: camsd.Space{CustSpaceID: "b", UID: "1"}, PhoneNumbers: []camsd.PhoneNumber{{CustSpaceID: "b", Number: "14155550100", ID: "2", Status: camsd.StatusMigrating}}},
					},
				},
				{
					Account: camsd.Account{UID: "2", Subscribed: true},
					Spaces: []camsd.SeedSpace{
						{Space: camsd.Space{CustSpaceID: "c", UID: "2"}, PhoneNumbers: []camsd.PhoneNumber{{CustSpaceID: "c", Number: "14155550100", ID: "3", Status: camsd.StatusMigrated}}},
					},
				},
			}},
		},
		{
			"the number lifecycle: statuses, verified names, pre-validated numbers",
			`
accounts:
  - uid: "1"
    spaces:
      - cust_space_id: a
        phone_numbers:
          - {phone_number: "14155550100", status: UNVERIFIED, verified_name: Acme Support}
          - {phone_number: "14155550101", id: "5", status: VERIFIED, verified_name: "Acme Sales"}
          - {phone_number: "14155550102", id: "6", status: DISCONNECTED}
    prevalidated_numbers:
      - {phone_number: "8613800001111", verify_code: "123456", id: "104996122399161"}
      - {phone_number: 8613800002222, verify_code: 654321}
  - uid: "2"
    spaces:
      - cust_space_id: b
        phone_numbers: [{phone_number: "14155550102", id: "7", status: MIGRATED, verified_name: "Ünïcödé 商店"}]
`,
			&camsd.Seed{Accounts: []camsd.SeedAccount{
				{
					Account: camsd.Account{UID: "1", Subscribed: true},
					Spaces: []camsd.SeedSpace{{
						Space: camsd.Space{CustSpaceID: "a", UID: "1"},
						PhoneNumbers: []camsd.PhoneNumber{
							{CustSpaceID: "a", Number: "14155550100", ID: phoneNumberID("a", "14155550100"), Status: camsd.StatusUnverified, VerifiedName: "Acme Support"},
							{CustSpaceID: "a", Number: "14155550101", ID: "5", Status: camsd.StatusVerified, VerifiedName: "Acme Sales"},
							{CustSpaceID: "a", Number: "14155550102", ID: "6", Status: camsd.StatusDisconnected},
						},
					}},
					PreValidated: []camsd.PreValidatedNumber{
						{UID: "1", Number: "8613800001111", VerifyCode: "123456", ID: "104996122399161"},
						{UID: "1", Number: "8613800002222", VerifyCode: "654321"}, // the store makes its id
					},
				},
				{
					Account: camsd.Account{UID: "2", Subscribed: true},
					Spaces: []camsd.SeedSpace{{
						Space:        camsd.Space{CustSpaceID: "b", UID: "2"},
						PhoneNumbers: []camsd.PhoneNumber{{CustSpaceID: "b", Number: "14155550102", ID: "7", Status: camsd.StatusMigrated, VerifiedName: "Ünïcödé 商店"}},
					}},
				},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("seed.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

// A policy written once can be attached to several users through a YAML alias.
func TestParse_aliases(t *testing.T) {
	y := `
accounts:
  - uid: "1"
    ram_users:
      - name: a
        policies:
          - &get |
            ` + allowGet + `
      - {name: b, policies: [*get]}
`
	got, err := Parse("seed.yaml", []byte(y))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []camsd.SeedUser{
		{Name: "a", Policies: []string{allowGet + "\n"}},
		{Name: "b", Policies: []string{allowGet + "\n"}},
	}
	if diff := cmp.Diff(want, got.Accounts[0].Users); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
}

func TestPhoneNumberID(t *testing.T) {
	seen := make(map[string]bool)
	for _, space := range []string{"293483938849493", "293483938849494", "a", ""} {
		for _, number := range []string{"8613800001234", "8613800001235", "14155550100"} {
			id := phoneNumberID(space, number)
			if len(id) != 11 || id[0] == '0' || !digits(id) {
				t.Errorf("phoneNumberID(%q, %q) = %q, want 11 digits without a leading 0", space, number, id)
			}
			if id != phoneNumberID(space, number) {
				t.Errorf("phoneNumberID(%q, %q) is not stable", space, number)
			}
			if seen[id] {
				t.Errorf("phoneNumberID(%q, %q) = %q, already given to another number", space, number, id)
			}
			seen[id] = true
		}
	}
	// The separator keeps the two parts apart.
	if phoneNumberID("12", "345") == phoneNumberID("123", "45") {
		t.Errorf("phoneNumberID confuses the space with the number")
	}
}
