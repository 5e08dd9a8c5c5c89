package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camsd/camsd/graph/graphtest"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
)

// A pre-validated number of acme's (testdata/e2e-seed.yaml) and the code it was bought with.
const (
	preValidated     = "6591239000"
	preValidatedCode = "246801"
)

// storeModes are the stores a test runs on: SQLite always, PostgreSQL (alone and with
// Redis) where the services are (always in CI).
func storeModes() []struct {
	name   string
	config func(t *testing.T) ServeConfig
} {
	return []struct {
		name   string
		config func(t *testing.T) ServeConfig
	}{
		{"sqlite", testConfig},
		{"postgres", func(t *testing.T) ServeConfig {
			needServices(t)
			cfg := testConfig(t)
			cfg.Database = freshDatabase(t)
			return cfg
		}},
		{"postgres+redis", func(t *testing.T) ServeConfig {
			needServices(t)
			return replicaConfig(t, freshDatabase(t), randomName("camsd-test:")+":")
		}},
	}
}

// numberItem returns number as QueryChatappPhoneNumbers lists it in space (nil: not listed).
func numberItem(t *testing.T, c *openapi.Client, space, number string) map[string]any {
	t.Helper()
	body := okBody(t, c, "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": space})
	if body["Success"] != true {
		t.Errorf("QueryChatappPhoneNumbers: Success = %v", body["Success"])
	}
	nums, ok := body["PhoneNumbers"].([]any)
	if !ok {
		t.Fatalf("QueryChatappPhoneNumbers: no PhoneNumbers array in %v", body)
	}
	for _, n := range nums {
		if it := n.(map[string]any); it["PhoneNumber"] == number {
			return it
		}
	}
	return nil
}

// wantFields fails unless item has each field at the value given.
func wantFields(t *testing.T, step string, item map[string]any, kv ...string) {
	t.Helper()
	if item == nil {
		t.Fatalf("%s: number not listed", step)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if got := item[kv[i]]; got != kv[i+1] {
			t.Errorf("%s: %s = %v, want %s (item %v)", step, kv[i], got, kv[i+1], item)
		}
	}
}

// wantSuccess fails unless the reply says Success: true, as the SDK's models read it.
func wantSuccess(t *testing.T, c *openapi.Client, action string, query map[string]string) {
	t.Helper()
	if body := okBody(t, c, action, query); body["Success"] != true || body["Data"] != nil {
		t.Errorf("%s: body = %v, want Success true and no Data", action, body)
	}
}

// wantRefused fails unless action answers code with status.
func wantRefused(t *testing.T, c *openapi.Client, step, action string, query map[string]string, code string, status int) {
	t.Helper()
	got, st := errCode(t, c, action, query)
	if got != code || st != status {
		t.Errorf("%s: %s answered %d %s, want %d %s", step, action, st, got, status, code)
	}
}

// TestNumberLifecycle_OfficialClient drives a new number through add → code (read from the
// simulator's outbox) → verify and register → query → deregister → register again with
// the official client, on every store.
func TestNumberLifecycle_OfficialClient(t *testing.T) {
	for _, mode := range storeModes() {
		t.Run(mode.name, func(t *testing.T) {
			m := start(t, mode.config(t))
			c := newClient(t, m, acmeKey, acmeSecret, "")
			const cc, national = "65", "91230001"
			number := cc + national
			at := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": number}

			wantSuccess(t, c, "AddChatappPhoneNumber", map[string]string{
				"CustSpaceId": acmeSpace, "Cc": cc, "PhoneNumber": national, "VerifiedName": "Acme Support",
			})
			wantFields(t, "added", numberItem(t, c, acmeSpace, number),
				"Status", "UNVERIFIED", "VerifiedName", "Acme Support", "CodeVerificationStatus", "NOT_VERIFIED", "QualityRating", "UNKNOWN")
			wantRefused(t, c, "register unverified", "ChatappPhoneNumberRegister", at, "PhoneNumber.NotVerified", 400)

			wantSuccess(t, c, "GetChatappVerifyCode", with(at, "Locale", "en_US", "Method", "SMS"))
			msgs := simMessages(t, m, number)
			if len(msgs) != 1 || !sixDigits.MatchString(msgs[0].Code) || msgs[0].Method != "sms" {
				t.Fatalf("outbox for %s = %+v, want one SMS with a 6-digit code", number, msgs)
			}
			wantRefused(t, c, "wrong code", "ChatappVerifyAndRegister", with(at, "VerifyCode", wrong(msgs[0].Code)), "VerifyCode.Invalid", 400)
			wantSuccess(t, c, "ChatappVerifyAndRegister", with(at, "VerifyCode", msgs[0].Code))
			wantFields(t, "registered", numberItem(t, c, acmeSpace, number),
				"Status", "CONNECTED", "CodeVerificationStatus", "VERIFIED", "NameStatus", "APPROVED", "QualityRating", "GREEN", "MessagingLimitTier", "TIER_250")
			wantRefused(t, c, "code spent", "ChatappVerifyAndRegister", with(at, "VerifyCode", msgs[0].Code), "PhoneNumber.AlreadyVerified", 400)
			wantRefused(t, c, "no code once verified", "GetChatappVerifyCode", with(at, "Locale", "en_US", "Method", "sms"), "PhoneNumber.AlreadyVerified", 400)

			// Deregister's reply is the envelope alone, as the SDK's model has it.
			body := okBody(t, c, "ChatappPhoneNumberDeregister", at)
			if _, has := body["Success"]; has {
				t.Errorf("deregister reply = %v, want no Success", body)
			}
			wantFields(t, "deregistered", numberItem(t, c, acmeSpace, number), "Status", "DISCONNECTED")
			wantRefused(t, c, "deregister twice", "ChatappPhoneNumberDeregister", at, "PhoneNumber.NotRegistered", 400)
			wantSuccess(t, c, "ChatappPhoneNumberRegister", at)
			wantFields(t, "registered again", numberItem(t, c, acmeSpace, number), "Status", "CONNECTED")

			// The filter, and the numbers of the migration flow beside the new one.
			body = okBody(t, c, "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": acmeSpace, "Status": "MIGRATING"})
			nums, _ := body["PhoneNumbers"].([]any)
			if len(nums) == 0 {
				t.Errorf("Status=MIGRATING listed none: %v", body)
			}
			for _, n := range nums {
				if n.(map[string]any)["Status"] != "MIGRATING" {
					t.Errorf("Status=MIGRATING listed %v", n)
				}
			}
			body = okBody(t, c, "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": acmeSpace, "Status": "DISCONNECTED"})
			if nums, ok := body["PhoneNumbers"].([]any); !ok || len(nums) != 0 {
				t.Errorf("Status=DISCONNECTED: PhoneNumbers = %v, want []", body["PhoneNumbers"])
			}
		})
	}
}

func wrong(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// TestNumberLifecycle_Refusals: each refusal answers the documented status and Code with the
// official client, on every store.
func TestNumberLifecycle_Refusals(t *testing.T) {
	for _, mode := range storeModes() {
		t.Run(mode.name, func(t *testing.T) {
			cfg := mode.config(t)
			cfg.QPS = 1000
			testLifecycleRefusals(t, cfg)
		})
	}
}

func testLifecycleRefusals(t *testing.T, cfg ServeConfig) {
	clk := &clock{now: time.Now()}
	m := startAt(t, cfg, clk.Now)
	c := newClient(t, m, acmeKey, acmeSecret, "")
	add := func(national string) map[string]string {
		return map[string]string{"CustSpaceId": acmeSpace, "Cc": "65", "PhoneNumber": national, "VerifiedName": "Acme"}
	}
	at := func(national string) map[string]string {
		return map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": "65" + national}
	}
	code := func(national string) string {
		t.Helper()
		wantSuccess(t, c, "GetChatappVerifyCode", with(at(national), "Locale", "zh_CN", "Method", "voice"))
		msgs := simMessages(t, m, "65"+national)
		if len(msgs) == 0 {
			t.Fatalf("no code captured for 65%s", national)
		}
		return msgs[0].Code
	}

	t.Run("parameters and state", func(t *testing.T) {
		wantRefused(t, c, "missing Cc", "AddChatappPhoneNumber", with(add("91230010"), "Cc", ""), "MissingCc", 400)
		wantRefused(t, c, "missing name", "AddChatappPhoneNumber", with(add("91230010"), "VerifiedName", ""), "MissingVerifiedName", 400)
		wantRefused(t, c, "bad number", "AddChatappPhoneNumber", with(add("91230010"), "PhoneNumber", "12ab"), "InvalidParameter.PhoneNumberError", 400)
		wantRefused(t, c, "migrating number", "AddChatappPhoneNumber", with(add(""), "Cc", "86", "PhoneNumber", "13800001234"), "PhoneNumber.AlreadyExists", 400)
		wantRefused(t, c, "not in the space", "GetChatappVerifyCode", with(at("91230099"), "Locale", "en_US", "Method", "sms"), "PhoneNumber.NotFound", 400)
		wantRefused(t, c, "migrating, not new", "GetChatappVerifyCode", map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": migrating, "Locale": "en_US", "Method": "sms"}, "PhoneNumber.AlreadyExists", 400)
		wantRefused(t, c, "deregister unregistered", "ChatappPhoneNumberDeregister", map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": migrating}, "PhoneNumber.NotRegistered", 400)
		wantRefused(t, c, "bad status filter", "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": acmeSpace, "Status": "ONLINE"}, "InvalidParameter", 400)
		wantRefused(t, c, "code not 6 digits", "ChatappVerifyAndRegister", with(at("91230010"), "VerifyCode", "12345"), "InvalidParameter", 400)
	})

	t.Run("codes: resend, expiry, attempts", func(t *testing.T) {
		wantSuccess(t, c, "AddChatappPhoneNumber", add("91230011"))
		wantRefused(t, c, "verify before any code", "ChatappVerifyAndRegister", with(at("91230011"), "VerifyCode", "123456"), "VerifyCode.NotFound", 400)
		first := code("91230011")
		wantRefused(t, c, "resend at once", "GetChatappVerifyCode", with(at("91230011"), "Locale", "en_US", "Method", "sms"), "VerifyCode.SendTooFrequent", 400)
		clk.Add(11 * time.Minute) // past the 10-minute expiry, inside the 15-minute signature skew
		wantRefused(t, c, "expired", "ChatappVerifyAndRegister", with(at("91230011"), "VerifyCode", first), "VerifyCode.Expired", 400)
		second := code("91230011")
		for i := 0; i < 5; i++ {
			wantRefused(t, c, "wrong", "ChatappVerifyAndRegister", with(at("91230011"), "VerifyCode", wrong(second)), "VerifyCode.Invalid", 400)
		}
		wantRefused(t, c, "attempts spent", "ChatappVerifyAndRegister", with(at("91230011"), "VerifyCode", second), "VerifyCode.AttemptsExceeded", 400)
		clk.Add(-11 * time.Minute)
	})

	t.Run("registration limit", func(t *testing.T) {
		wantSuccess(t, c, "AddChatappPhoneNumber", add("91230012"))
		wantSuccess(t, c, "ChatappVerifyAndRegister", with(at("91230012"), "VerifyCode", code("91230012")))
		// Registrations and deregistrations count together: 10 per number in 72 hours.
		for i := 1; i < 10; i++ {
			action := map[bool]string{true: "ChatappPhoneNumberDeregister", false: "ChatappPhoneNumberRegister"}[i%2 == 1]
			okBody(t, c, action, at("91230012"))
		}
		wantRefused(t, c, "eleventh", "ChatappPhoneNumberRegister", at("91230012"), "PhoneNumber.RegisterTooFrequent", 400)
	})

	t.Run("RAM, ownership, subscription", func(t *testing.T) {
		getter := newClient(t, m, getKey, getSecret, "") // cams:Get* only
		wantRefused(t, getter, "RAM", "AddChatappPhoneNumber", add("91230013"), "Ram.PermissionDeny", 400)
		wantRefused(t, getter, "RAM", "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": acmeSpace}, "Ram.PermissionDeny", 400)
		other := newClient(t, m, otherKey, otherSecret, "")
		wantRefused(t, other, "another tenant's space", "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": acmeSpace}, "Unknown.ResourceOwnerId", 400)
		wantRefused(t, other, "another tenant's space", "AddChatappPhoneNumber", add("91230013"), "Unknown.ResourceOwnerId", 400)
		unsub := newClient(t, m, unsubKey, unsubSecret, "")
		wantRefused(t, unsub, "unsubscribed", "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": acmeSpace}, "Product.Unsubscript", 400)
	})
}

// TestNumberLifecycle_FlowControl: the lifecycle's actions are under the account's flow
// control, per action.
func TestNumberLifecycle_FlowControl(t *testing.T) {
	clk := &clock{now: time.Now()}
	cfg := testConfig(t)
	cfg.QPS = 2
	m := startAt(t, cfg, clk.Now)
	c := newClient(t, m, acmeKey, acmeSecret, "")
	q := map[string]string{"CustSpaceId": acmeSpace}
	okBody(t, c, "QueryChatappPhoneNumbers", q)
	okBody(t, c, "QueryChatappPhoneNumbers", q)
	wantRefused(t, c, "third in the second", "QueryChatappPhoneNumbers", q, "System.LimitControl", 400)
	// Another action has its own limit.
	wantRefused(t, c, "another action", "ChatappPhoneNumberDeregister", map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": migrating}, "PhoneNumber.NotRegistered", 400)
	clk.Add(time.Second)
	okBody(t, c, "QueryChatappPhoneNumbers", q)
}

// TestNumberLifecycle_OldSDK: the other official client, V2 signatures, GET and XML.
func TestNumberLifecycle_OldSDK(t *testing.T) {
	m := start(t, testConfig(t))
	cl, err := sdk.NewClientWithOptions("ap-southeast-1", sdk.NewConfig(), credentials.NewAccessKeyCredential(acmeKey, acmeSecret))
	if err != nil {
		t.Fatal(err)
	}
	req := requests.NewCommonRequest()
	req.Method = "GET"
	req.Scheme = "http"
	req.Domain = hostOf(m)
	req.Version = apiVersion
	req.ApiName = "QueryChatappPhoneNumbers"
	req.AcceptFormat = "XML"
	req.QueryParams["CustSpaceId"] = acmeSpace
	resp, err := cl.ProcessCommonRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	body := resp.GetHttpContentString()
	if resp.GetHttpStatus() != http.StatusOK {
		t.Fatalf("reply %d %s", resp.GetHttpStatus(), body)
	}
	for _, want := range []string{"<QueryChatappPhoneNumbersResponse>", "<Success>true</Success>", "<PhoneNumbers><PhoneNumber>" + migrating + "</PhoneNumber>", "<Status>CONNECTED</Status>"} {
		if !strings.Contains(body, want) {
			t.Errorf("XML reply lacks %s:\n%s", want, body)
		}
	}
}

// TestNumberLifecycle_WhatsApp: the lifecycle against the fake Graph API, which holds the
// number, makes, sends and checks its code, and registers and deregisters it.
func TestNumberLifecycle_WhatsApp(t *testing.T) {
	m, g := startWhatsApp(t)
	c := newClient(t, m, acmeKey, acmeSecret, "")
	const cc, national = "65", "91230020"
	number := cc + national
	at := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": number}

	wantSuccess(t, c, "AddChatappPhoneNumber", map[string]string{"CustSpaceId": acmeSpace, "Cc": cc, "PhoneNumber": national, "VerifiedName": "Acme Support"})
	if g.VerifiedName(number) != "Acme Support" || g.ID(number) == "" {
		t.Fatalf("Graph holds %q under id %q", g.VerifiedName(number), g.ID(number))
	}
	n, err := m.DB.PhoneNumber(context.Background(), acmeSpace, number)
	if err != nil || n.ID != g.ID(number) {
		t.Fatalf("camsd's record %+v (%v): want Graph's id %s", n, err, g.ID(number))
	}
	wantSuccess(t, c, "GetChatappVerifyCode", with(at, "Locale", "en_US", "Method", "sms"))
	code := g.LastCode(number)
	if !sixDigits.MatchString(code) {
		t.Fatalf("Graph sent no code (%q)", code)
	}
	wantRefused(t, c, "wrong code", "ChatappVerifyAndRegister", with(at, "VerifyCode", wrong(code)), "VerifyCode.Invalid", 400)
	wantSuccess(t, c, "ChatappVerifyAndRegister", with(at, "VerifyCode", code))
	if !g.Registered(number) || g.Registrations(number) != 1 {
		t.Fatalf("Graph: registered %v, %d registrations", g.Registered(number), g.Registrations(number))
	}
	wantFields(t, "registered", numberItem(t, c, acmeSpace, number), "Status", "CONNECTED", "VerifiedName", "Acme Support")
	okBody(t, c, "ChatappPhoneNumberDeregister", at)
	if g.Registered(number) || g.Deregistrations(number) != 1 {
		t.Fatalf("Graph after deregister: registered %v, %d deregistrations", g.Registered(number), g.Deregistrations(number))
	}
	wantFields(t, "deregistered", numberItem(t, c, acmeSpace, number), "Status", "DISCONNECTED")
	wantSuccess(t, c, "ChatappPhoneNumberRegister", at)
	if !g.Registered(number) || g.Registrations(number) != 2 {
		t.Fatalf("Graph after register again: registered %v, %d registrations", g.Registered(number), g.Registrations(number))
	}

	// Graph refusing the registration after accepting the code: the number stays VERIFIED,
	// and ChatappPhoneNumberRegister finishes once Graph answers.
	const national2 = "91230021"
	number2 := cc + national2
	at2 := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": number2}
	wantSuccess(t, c, "AddChatappPhoneNumber", map[string]string{"CustSpaceId": acmeSpace, "Cc": cc, "PhoneNumber": national2, "VerifiedName": "Acme Sales"})
	wantSuccess(t, c, "GetChatappVerifyCode", with(at2, "Locale", "en_US", "Method", "voice"))
	g.Fail(graphtest.Register, graphtest.Fault{Status: 400, Code: 100, Message: "Invalid parameter"})
	if got, _ := errCode(t, c, "ChatappVerifyAndRegister", with(at2, "VerifyCode", g.LastCode(number2))); got == "OK" {
		t.Fatal("registration refused by Graph answered OK")
	}
	wantFields(t, "verified, not registered", numberItem(t, c, acmeSpace, number2), "Status", "VERIFIED", "CodeVerificationStatus", "VERIFIED")
	wantSuccess(t, c, "ChatappPhoneNumberRegister", at2)
	wantFields(t, "registered at last", numberItem(t, c, acmeSpace, number2), "Status", "CONNECTED")

	// Pre-validated numbers are the simulator's.
	wantRefused(t, c, "pre-validated", "AddChatappPhoneNumber", map[string]string{"CustSpaceId": acmeSpace, "Cc": "65", "PhoneNumber": "91230022", "VerifiedName": "x", "PreValidateId": "123"}, "InvalidParameter", 400)
}

// TestNumberLifecycle_PreValidated: a number the account bought pre-validated is traded
// with its code for an id, added VERIFIED under it and registered without a code.
func TestNumberLifecycle_PreValidated(t *testing.T) {
	for _, mode := range storeModes() {
		t.Run(mode.name, func(t *testing.T) {
			m := start(t, mode.config(t))
			c := newClient(t, m, acmeKey, acmeSecret, "")
			const number = preValidated
			body := okBody(t, c, "GetPreValidatePhoneId", map[string]string{"PhoneNumber": number, "VerifyCode": preValidatedCode})
			d := dataOf(t, body)
			id, _ := d["PhoneNumberId"].(string)
			if d["PhoneNumber"] != number || id == "" {
				t.Fatalf("Data = %v", d)
			}
			wantRefused(t, c, "wrong code", "GetPreValidatePhoneId", map[string]string{"PhoneNumber": number, "VerifyCode": wrong(preValidatedCode)}, "VerifyCode.Invalid", 400)
			wantRefused(t, c, "not pre-validated", "GetPreValidatePhoneId", map[string]string{"PhoneNumber": notInSpace, "VerifyCode": "123456"}, "PhoneNumber.NotFound", 400)
			other := newClient(t, m, otherKey, otherSecret, "")
			wantRefused(t, other, "another account's", "GetPreValidatePhoneId", map[string]string{"PhoneNumber": number, "VerifyCode": preValidatedCode}, "PhoneNumber.NotFound", 400)

			add := map[string]string{"CustSpaceId": acmeSpace, "Cc": number[:2], "PhoneNumber": number[2:], "VerifiedName": "Acme Pre"}
			wantRefused(t, c, "id of another number", "AddChatappPhoneNumber", with(add, "PhoneNumber", "91239999", "PreValidateId", id), "InvalidParameter", 400)
			wantSuccess(t, c, "AddChatappPhoneNumber", with(add, "PreValidateId", id))
			wantFields(t, "added pre-validated", numberItem(t, c, acmeSpace, number), "Status", "VERIFIED", "CodeVerificationStatus", "VERIFIED")
			at := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": number}
			wantRefused(t, c, "no code needed", "GetChatappVerifyCode", with(at, "Locale", "en_US", "Method", "sms"), "PhoneNumber.AlreadyVerified", 400)
			wantSuccess(t, c, "ChatappPhoneNumberRegister", at)
			wantFields(t, "registered", numberItem(t, c, acmeSpace, number), "Status", "CONNECTED")
			n, err := m.DB.PhoneNumber(context.Background(), acmeSpace, number)
			if err != nil || n.ID != id {
				t.Errorf("number %+v (%v): want the pre-validated id %s", n, err, id)
			}
		})
	}
}
