package main

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"
)

// okBody calls action and returns the reply's body, failing the test unless it is OK.
func okBody(t *testing.T, c *openapi.Client, action string, query map[string]string) map[string]any {
	t.Helper()
	res, err := call(c, action, query)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	body := res["body"].(map[string]any)
	if body["Code"] != "OK" || body["Message"] != "SUCCESS" || body["RequestId"] == "" {
		t.Fatalf("%s: body = %v", action, body)
	}
	return body
}

func dataOf(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	d, ok := body["Data"].(map[string]any)
	if !ok {
		t.Fatalf("reply has no Data: %v", body)
	}
	return d
}

// errCode calls action and returns the wire Code and HTTP status of the error reply.
func errCode(t *testing.T, c *openapi.Client, action string, query map[string]string) (string, int) {
	t.Helper()
	_, err := call(c, action, query)
	if err == nil {
		t.Fatalf("%s %v: OK, want an error", action, query)
	}
	e := asSDKError(t, err)
	return e.Code, e.Status
}

// TestMigrationFlow_OfficialClient walks one number through all five calls with the official
// client, reading the code the simulator captured, and the status at each step.
func TestMigrationFlow_OfficialClient(t *testing.T) {
	m := start(t, testConfig(t))
	for _, alg := range []string{"", "v2"} {
		t.Run("signature "+map[string]string{"": "v3", "v2": "v2"}[alg], func(t *testing.T) {
			c := newClient(t, m, acmeKey, acmeSecret, alg)
			mobile := map[string]string{"": "13900001111", "v2": "13900002222"}[alg]
			number := "86" + mobile
			space := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": number}

			d := dataOf(t, okBody(t, c, "CreateChatappMigrationInitiate",
				map[string]string{"CustSpaceId": acmeSpace, "CountryCode": "86", "MobileNumber": mobile}))
			id, _ := d["Id"].(string)
			if d["PhoneNumber"] != number || d["Status"] != "MIGRATING" || !regexp.MustCompile(`^\d+$`).MatchString(id) {
				t.Fatalf("initiate Data = %v", d)
			}
			status := func() string {
				d := dataOf(t, okBody(t, c, "GetPhoneNumberVerificationStatus", space))
				if d["Id"] != id || d["PhoneNumber"] != number {
					t.Errorf("status Data = %v; want id %s", d, id)
				}
				return fmt.Sprint(d["CodeVerificationStatus"])
			}
			if s := status(); s != "NOT_VERIFIED" {
				t.Errorf("status after initiate = %s", s)
			}

			d = dataOf(t, okBody(t, c, actionGetVC, verifyCodeQuery(acmeSpace, number, "en_US", "sms")))
			if d["Id"] != id {
				t.Errorf("code Data = %v; want id %s", d, id)
			}
			msgs := simMessages(t, m, number)
			if len(msgs) != 1 {
				t.Fatalf("outbox has %d messages for %s", len(msgs), number)
			}
			code := msgs[0].Code

			wrong := map[bool]string{true: "000001", false: "000000"}[code == "000000"]
			if got, st := errCode(t, c, "ChatappMigrationVerified", with(space, "VerifyCode", wrong)); got != "VerifyCode.Invalid" || st != http.StatusBadRequest {
				t.Errorf("wrong code: %s %d", got, st)
			}
			d = dataOf(t, okBody(t, c, "ChatappMigrationVerified", with(space, "VerifyCode", code)))
			if d["Id"] != id || d["PhoneNumber"] != number {
				t.Errorf("verified Data = %v", d)
			}
			if s := status(); s != "VERIFIED" {
				t.Errorf("status after verify = %s", s)
			}

			body := okBody(t, c, "ChatappMigrationRegister", space)
			if _, has := body["Data"]; has {
				t.Errorf("register reply has Data: %v", body)
			}
			if got, _ := errCode(t, c, actionGetVC, verifyCodeQuery(acmeSpace, number, "en_US", "sms")); got != "PhoneNumber.NotMigrating" {
				t.Errorf("code for a registered number: %s", got)
			}
		})
	}
}

func with(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestMigrationFlow_Errors: every refusal of the flow comes back with its Code and HTTP 400,
// on short --code-ttl and --verification-validity so that nothing sleeps long.
func TestMigrationFlow_Errors(t *testing.T) {
	clk := &clock{now: time.Now()}
	cfg := testConfig(t)
	cfg.CodeTTL = 2 * time.Minute
	cfg.Validity = time.Hour
	cfg.ResendInterval = time.Second
	cfg.MaxSkew = 4 * time.Hour // the server's clock moves ahead of the client's
	m := startAt(t, cfg, clk.Now)
	c := newClient(t, m, acmeKey, acmeSecret, "")
	other := newClient(t, m, otherKey, otherSecret, "")
	at := func(number string, kv ...string) map[string]string {
		return with(map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": number}, kv...)
	}
	newCode := func(number string) string {
		t.Helper()
		clk.Add(time.Second)
		okBody(t, c, actionGetVC, verifyCodeQuery(acmeSpace, number, "en_US", "sms"))
		return simMessages(t, m, number)[0].Code
	}
	wrongOf := func(code string) string { return map[bool]string{true: "000001", false: "000000"}[code == "000000"] }
	expect := func(what string, cl *openapi.Client, action string, q map[string]string, want string) {
		t.Helper()
		got, st := errCode(t, cl, action, q)
		if got != want || st != http.StatusBadRequest {
			t.Errorf("%s: %s %d; want %s 400", what, got, st, want)
		}
	}
	initiate := func(cc, mobile string) map[string]string {
		return map[string]string{"CustSpaceId": acmeSpace, "CountryCode": cc, "MobileNumber": mobile}
	}

	expect("initiate a CONNECTED number", c, "CreateChatappMigrationInitiate", initiate("86", connected[2:]), "PhoneNumber.AlreadyExists")
	expect("initiate with a leading 0", c, "CreateChatappMigrationInitiate", initiate("086", "13900001111"), "InvalidParameter.PhoneNumberError")
	expect("initiate another's space", other, "CreateChatappMigrationInitiate", initiate("86", "13900001111"), "Unknown.ResourceOwnerId")
	expect("status of a number not in the space", c, "GetPhoneNumberVerificationStatus", at(notInSpace), "PhoneNumber.NotFound")
	expect("verify a number not in the space", c, "ChatappMigrationVerified", at(notInSpace, "VerifyCode", "123456"), "PhoneNumber.NotFound")
	expect("verify a CONNECTED number", c, "ChatappMigrationVerified", at(connected, "VerifyCode", "123456"), "PhoneNumber.NotMigrating")
	expect("verify before any code", c, "ChatappMigrationVerified", at(migrating, "VerifyCode", "123456"), "VerifyCode.NotFound")
	expect("verify with 5 digits", c, "ChatappMigrationVerified", at(migrating, "VerifyCode", "12345"), "InvalidParameter")
	expect("verify without VerifyCode", c, "ChatappMigrationVerified", at(migrating), "MissingVerifyCode")
	expect("register a number not in the space", c, "ChatappMigrationRegister", at(notInSpace), "PhoneNumber.NotFound")
	expect("register unverified", c, "ChatappMigrationRegister", at(migrating), "PhoneNumber.NotVerified")

	code := newCode(migrating)
	for i := 1; i <= 5; i++ {
		expect(fmt.Sprintf("wrong try %d", i), c, "ChatappMigrationVerified", at(migrating, "VerifyCode", wrongOf(code)), "VerifyCode.Invalid")
	}
	expect("right code after 5 wrong", c, "ChatappMigrationVerified", at(migrating, "VerifyCode", code), "VerifyCode.AttemptsExceeded")

	code = newCode(migrating)
	clk.Add(cfg.CodeTTL)
	expect("expired code", c, "ChatappMigrationVerified", at(migrating, "VerifyCode", code), "VerifyCode.Expired")

	code = newCode(migrating)
	okBody(t, c, "ChatappMigrationVerified", at(migrating, "VerifyCode", code))
	expect("the used code again", c, "ChatappMigrationVerified", at(migrating, "VerifyCode", code), "VerifyCode.NotFound")
	for range 10 {
		okBody(t, c, "ChatappMigrationRegister", at(migrating))
		clk.Add(time.Second)
	}
	expect("11th registration in 72h", c, "ChatappMigrationRegister", at(migrating), "PhoneNumber.RegisterTooFrequent")

	clk.Add(time.Hour)
	if d := dataOf(t, okBody(t, c, "GetPhoneNumberVerificationStatus", at(migrating))); d["CodeVerificationStatus"] != "EXPIRED" {
		t.Errorf("status past the validity: %v", d)
	}
	expect("register past the validity", c, "ChatappMigrationRegister", at(migrating), "PhoneNumber.NotVerified")
}

// TestMigrationFlow_RAM: a RAM user allowed only cams:Get* can ask the status and request a
// code, but not initiate, verify or register.
func TestMigrationFlow_RAM(t *testing.T) {
	m := start(t, testConfig(t))
	getter := newClient(t, m, getKey, getSecret, "")
	at := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": migrating}
	okBody(t, getter, "GetPhoneNumberVerificationStatus", at)
	okBody(t, getter, actionGetVC, verifyCodeQuery(acmeSpace, migrating, "en_US", "sms"))
	code := simMessages(t, m, migrating)[0].Code
	for _, tc := range []struct {
		action string
		q      map[string]string
	}{
		{"ChatappMigrationVerified", with(at, "VerifyCode", code)},
		{"ChatappMigrationRegister", at},
		{"CreateChatappMigrationInitiate", map[string]string{"CustSpaceId": acmeSpace, "CountryCode": "86", "MobileNumber": "13900003333"}},
	} {
		_, err := call(getter, tc.action, tc.q)
		e := asSDKError(t, err)
		if e.Code != "Ram.PermissionDeny" || e.Status != http.StatusBadRequest || e.AccessDeniedDetail["AuthAction"] != "cams:"+tc.action {
			t.Errorf("%s by a cams:Get* user: %d %s %v", tc.action, e.Status, e.Code, e.AccessDeniedDetail)
		}
	}
	// The code was not spent by the refused call: the account's own key can still use it.
	okBody(t, newClient(t, m, acmeKey, acmeSecret, ""), "ChatappMigrationVerified", with(at, "VerifyCode", code))
}

// TestMigrationFlow_ConcurrentVerify: eight clients check the right code at once; exactly
// one is told OK, the others that the code is spent.
func TestMigrationFlow_ConcurrentVerify(t *testing.T) {
	m := start(t, testConfig(t))
	c := newClient(t, m, acmeKey, acmeSecret, "")
	okBody(t, c, actionGetVC, verifyCodeQuery(acmeSpace, migrating, "en_US", "sms"))
	code := simMessages(t, m, migrating)[0].Code
	const n = 8 // under the 10 calls per second of flow control
	results := make(chan string, n)
	for range n {
		go func() {
			_, err := call(newClient(t, m, acmeKey, acmeSecret, ""), "ChatappMigrationVerified",
				map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": migrating, "VerifyCode": code})
			if err == nil {
				results <- "OK"
				return
			}
			var e *tea.SDKError
			if errors.As(err, &e) {
				results <- tea.StringValue(e.Code)
				return
			}
			results <- err.Error()
		}()
	}
	count := map[string]int{}
	for range n {
		count[<-results]++
	}
	if count["OK"] != 1 || count["VerifyCode.NotFound"] != n-1 {
		t.Fatalf("outcomes %v; want 1 OK and %d VerifyCode.NotFound", count, n-1)
	}
}
