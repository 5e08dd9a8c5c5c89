package storetest

import (
	"time"

	"github.com/camsd/camsd"
)

// The tenants of Fixture, named so that tests read as what they check.
const (
	AcmeUID   = "1001"
	AcmeKey   = "LTAI5tAcmeRootKey0001" // the account's own key
	DevKey    = "LTAI5tAcmeDevKey00001" // RAM user "dev" of acme, two policies
	AcmeSpace = "cs-acme"
	Number1   = "8613800000001" // MIGRATING in AcmeSpace, also in BetaSpace
	Number2   = "8613800000002" // CONNECTED in AcmeSpace only

	BetaUID   = "1002"
	BetaKey   = "LTAI5tBetaRootKey0001" // Inactive; beta is not subscribed
	OpsKey    = "LTAI5tBetaOpsKey00001" // RAM user "ops" of beta, no policies
	BetaSpace = "cs-beta"
)

// Policy documents of user "dev", in order.
const (
	PolicyRead = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:Get*","Resource":"*"}]}`
	PolicySend = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:SendChatappMessage","Resource":"*"}]}`
)

// T0 is the suite's reference time. It has nanoseconds on purpose: a Store returns the times it
// is given, and callers look codes up by the SentAt they saved.
var T0 = time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.UTC)

// Fixture returns two accounts: acme (subscribed, an account key, a RAM user with policies, a
// space with two numbers) and beta (unsubscribed, an inactive key, a RAM user without
// policies, a space that holds Number1 too). Each call returns a new value to modify.
func Fixture() *camsd.Seed {
	return &camsd.Seed{Accounts: []camsd.SeedAccount{
		{
			Account: camsd.Account{UID: AcmeUID, Name: "acme", Subscribed: true, QPS: 20},
			AccessKeys: []camsd.AccessKey{
				{ID: AcmeKey, Secret: "acme-secret", UID: AcmeUID, Status: camsd.KeyActive},
			},
			Users: []camsd.SeedUser{{
				Name: "dev",
				AccessKeys: []camsd.AccessKey{
					{ID: DevKey, Secret: "dev-secret", UID: AcmeUID, UserName: "dev", Status: camsd.KeyActive},
				},
				Policies: []string{PolicyRead, PolicySend},
			}},
			Spaces: []camsd.SeedSpace{{
				Space: camsd.Space{CustSpaceID: AcmeSpace, UID: AcmeUID, Name: "Acme", WabaID: "104996122399160", Pin: "135790"},
				PhoneNumbers: []camsd.PhoneNumber{
					{CustSpaceID: AcmeSpace, Number: Number1, ID: "pn-acme-1", Status: camsd.StatusMigrating},
					{CustSpaceID: AcmeSpace, Number: Number2, ID: "pn-acme-2", Status: camsd.StatusConnected},
				},
			}},
		},
		{
			Account: camsd.Account{UID: BetaUID, Name: "beta", Subscribed: false},
			AccessKeys: []camsd.AccessKey{
				{ID: BetaKey, Secret: "beta-secret", UID: BetaUID, Status: camsd.KeyInactive},
			},
			Users: []camsd.SeedUser{{
				Name: "ops",
				AccessKeys: []camsd.AccessKey{
					{ID: OpsKey, Secret: "ops-secret", UID: BetaUID, UserName: "ops", Status: camsd.KeyActive},
				},
			}},
			Spaces: []camsd.SeedSpace{{
				Space: camsd.Space{CustSpaceID: BetaSpace, UID: BetaUID, Name: "Beta"},
				PhoneNumbers: []camsd.PhoneNumber{
					{CustSpaceID: BetaSpace, Number: Number1, ID: "pn-beta-1", Status: camsd.StatusMigrating},
				},
			}},
		},
	}}
}

// Code returns a pending code of number in space, sent at sentAt, valid for five minutes.
func Code(space, number, code string, sentAt time.Time) camsd.VerifyCode {
	return camsd.VerifyCode{
		CustSpaceID: space,
		PhoneNumber: number,
		Code:        code,
		Method:      "sms",
		Locale:      "en_US",
		SentAt:      sentAt,
		ExpiresAt:   sentAt.Add(5 * time.Minute),
		RequestID:   "req-" + code,
		AccessKeyID: AcmeKey,
		Status:      camsd.DeliveryPending,
	}
}
