package migration_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/migration"
	"github.com/camsd/camsd/storetest"
)

const newNumber = "6591230001" // Cc 65 + PhoneNumber 91230001

func addParams(kv ...string) migration.Params {
	p := migration.Params{"CustSpaceId": {storetest.AcmeSpace}, "Cc": {"65"}, "PhoneNumber": {"91230001"}, "VerifiedName": {"Acme Support"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			p.Del(kv[i])
		} else {
			p.Set(kv[i], kv[i+1])
		}
	}
	return p
}

// lifecycle calls the lifecycle's actions for acme on one number.
type lifecycle struct {
	*env
	t      *testing.T
	number string
}

func (l lifecycle) code() string {
	l.t.Helper()
	if err := l.svc.GetChatappVerifyCode(context.Background(), l.acme, in(storetest.AcmeSpace, l.number, "Locale", "en_US", "Method", "SMS")); err != nil {
		l.t.Fatalf("GetChatappVerifyCode: %v", err)
	}
	vc, err := l.db.LastCode(context.Background(), storetest.AcmeSpace, l.number)
	if err != nil {
		l.t.Fatal(err)
	}
	l.advance(l.svc.ResendInterval)
	return vc.Code
}

func (l lifecycle) verifyAndRegister(value string) error {
	return l.svc.ChatappVerifyAndRegister(context.Background(), l.acme, in(storetest.AcmeSpace, l.number, "VerifyCode", value))
}

func (l lifecycle) register() error {
	return l.svc.ChatappPhoneNumberRegister(context.Background(), l.acme, in(storetest.AcmeSpace, l.number))
}

func (l lifecycle) deregister() error {
	return l.svc.ChatappPhoneNumberDeregister(context.Background(), l.acme, in(storetest.AcmeSpace, l.number))
}

// item returns the number as QueryChatappPhoneNumbers lists it.
func (l lifecycle) item() migration.PhoneNumberItem {
	l.t.Helper()
	items, err := l.svc.QueryChatappPhoneNumbers(context.Background(), l.acme, migration.Params{"CustSpaceId": {storetest.AcmeSpace}})
	if err != nil {
		l.t.Fatal(err)
	}
	for _, it := range items {
		if it.PhoneNumber == l.number {
			return it
		}
	}
	l.t.Fatalf("%s not listed in %+v", l.number, items)
	return migration.PhoneNumberItem{}
}

func TestLifecycle_AddVerifyRegisterDeregister(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l := lifecycle{env: e, t: t, number: newNumber}

	if err := e.svc.AddChatappPhoneNumber(ctx, e.acme, addParams()); err != nil {
		t.Fatalf("AddChatappPhoneNumber: %v", err)
	}
	it := l.item()
	if it.Status != "UNVERIFIED" || it.VerifiedName != "Acme Support" || it.CodeVerificationStatus != migration.NotVerified {
		t.Fatalf("after add: %+v", it)
	}
	n, err := e.db.PhoneNumber(ctx, storetest.AcmeSpace, newNumber)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[1-9]\d{14}$`).MatchString(n.ID) {
		t.Errorf("new number's id = %q, want 15 digits", n.ID)
	}
	want(t, "add again", e.svc.AddChatappPhoneNumber(ctx, e.acme, addParams()), camsd.CodePhoneNumberAlreadyExists)
	want(t, "register before verifying", l.register(), camsd.CodePhoneNumberNotVerified)
	want(t, "deregister before registering", l.deregister(), camsd.CodePhoneNumberNotRegistered)
	want(t, "verify before any code", l.verifyAndRegister("123456"), camsd.CodeVerifyCodeNotFound)

	right := l.code()
	want(t, "wrong code", l.verifyAndRegister(wrongCode(right)), camsd.CodeVerifyCodeInvalid)
	if err := l.verifyAndRegister(right); err != nil {
		t.Fatalf("ChatappVerifyAndRegister: %v", err)
	}
	if it := l.item(); it.Status != "CONNECTED" || it.CodeVerificationStatus != migration.Verified || it.QualityRating != "GREEN" {
		t.Fatalf("after verify and register: %+v", it)
	}
	want(t, "code spent", l.verifyAndRegister(right), camsd.CodePhoneNumberAlreadyVerified)
	want(t, "no code once verified", e.svc.GetChatappVerifyCode(ctx, e.acme, in(storetest.AcmeSpace, newNumber, "Locale", "en_US", "Method", "sms")), camsd.CodePhoneNumberAlreadyVerified)

	if err := l.deregister(); err != nil {
		t.Fatalf("deregister: %v", err)
	}
	if it := l.item(); it.Status != "DISCONNECTED" {
		t.Fatalf("after deregister: %+v", it)
	}
	want(t, "deregister twice", l.deregister(), camsd.CodePhoneNumberNotRegistered)
	// Registered again long after its verification expired: the platform remembers it.
	e.advance(30 * 24 * time.Hour)
	if err := l.register(); err != nil {
		t.Fatalf("register again: %v", err)
	}
	if it := l.item(); it.Status != "CONNECTED" || it.CodeVerificationStatus != migration.Expired {
		t.Fatalf("after register again: %+v", it)
	}

	// Filter by status, any case; an unknown status is refused.
	items, err := e.svc.QueryChatappPhoneNumbers(ctx, e.acme, migration.Params{"CustSpaceId": {storetest.AcmeSpace}, "Status": {"connected"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Status != "CONNECTED" {
			t.Errorf("Status=connected listed %+v", it)
		}
	}
	if len(items) < 2 { // the new number and the fixture's Number2
		t.Errorf("Status=connected listed %d numbers, want the new one and %s", len(items), storetest.Number2)
	}
	_, err = e.svc.QueryChatappPhoneNumbers(ctx, e.acme, migration.Params{"CustSpaceId": {storetest.AcmeSpace}, "Status": {"ONLINE"}})
	want(t, "unknown status", err, camsd.CodeInvalidParameter)
	_, err = e.svc.QueryChatappPhoneNumbers(ctx, e.beta, migration.Params{"CustSpaceId": {storetest.AcmeSpace}})
	want(t, "another tenant's space", err, camsd.CodeUnknownResourceOwnerID)

	audit, err := e.db.Audit(ctx, camsd.AuditQuery{PhoneNumber: newNumber})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range audit {
		seen[a.Action+" "+a.Outcome] = true
	}
	for _, w := range []string{"AddChatappPhoneNumber OK", "ChatappVerifyAndRegister VerifyCode.Invalid", "ChatappVerifyAndRegister OK", "ChatappPhoneNumberDeregister OK", "ChatappPhoneNumberRegister OK"} {
		if !seen[w] {
			t.Errorf("audit lacks %q: %v", w, seen)
		}
	}
}

func TestLifecycle_Refusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params migration.Params
		want   string
	}{
		{"missing Cc first", addParams("Cc", "", "VerifiedName", ""), "MissingCc"},
		{"missing VerifiedName", addParams("VerifiedName", ""), "MissingVerifiedName"},
		{"blank VerifiedName", addParams("VerifiedName", "   "), "MissingVerifiedName"},
		{"bad Cc", addParams("Cc", "065"), camsd.CodeInvalidParameterPhoneNumber},
		{"number too short", addParams("PhoneNumber", "12"), camsd.CodeInvalidParameterPhoneNumber},
		{"name too long", addParams("VerifiedName", strings.Repeat("a", 129)), camsd.CodeInvalidParameter},
		{"name of 128 characters", addParams("VerifiedName", strings.Repeat("é", 128)), "OK"},
		{"name on two lines", addParams("VerifiedName", "Acme\nSupport"), camsd.CodeInvalidParameter},
		{"another tenant's space", addParams("CustSpaceId", storetest.BetaSpace), camsd.CodeUnknownResourceOwnerID},
		{"number already in the space", addParams("Cc", "86", "PhoneNumber", "13800000002"), camsd.CodePhoneNumberAlreadyExists},
		{"unknown PreValidateId", addParams("PreValidateId", "999"), camsd.CodeInvalidParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			want(t, tc.name, e.svc.AddChatappPhoneNumber(context.Background(), e.acme, tc.params), tc.want)
		})
	}

	t.Run("migrating number is not the lifecycle's", func(t *testing.T) {
		e := newEnv(t)
		l := lifecycle{env: e, t: t, number: storetest.Number1}
		want(t, "code", e.svc.GetChatappVerifyCode(context.Background(), e.acme, in(storetest.AcmeSpace, storetest.Number1, "Locale", "en_US", "Method", "sms")), camsd.CodePhoneNumberAlreadyExists)
		want(t, "verify", l.verifyAndRegister("123456"), camsd.CodePhoneNumberAlreadyExists)
		want(t, "deregister", l.deregister(), camsd.CodePhoneNumberNotRegistered)
	})

	t.Run("resend, expiry, attempts", func(t *testing.T) {
		e := newEnv(t)
		ctx := context.Background()
		if err := e.svc.AddChatappPhoneNumber(ctx, e.acme, addParams()); err != nil {
			t.Fatal(err)
		}
		l := lifecycle{env: e, t: t, number: newNumber}
		send := func() error {
			return e.svc.GetChatappVerifyCode(ctx, e.acme, in(storetest.AcmeSpace, newNumber, "Locale", "en_US", "Method", "voice"))
		}
		if err := send(); err != nil {
			t.Fatal(err)
		}
		want(t, "resend at once", send(), camsd.CodeVerifyCodeSendTooFreq)
		e.advance(e.svc.CodeTTL)
		want(t, "expired", l.verifyAndRegister("123456"), camsd.CodeVerifyCodeExpired)
		right := l.code()
		for i := 0; i < 5; i++ {
			want(t, "wrong", l.verifyAndRegister(wrongCode(right)), camsd.CodeVerifyCodeInvalid)
		}
		want(t, "attempts spent", l.verifyAndRegister(right), camsd.CodeVerifyCodeAttemptsExceeded)
	})

	t.Run("registration limit counts deregistrations", func(t *testing.T) {
		e := newEnv(t)
		e.svc.RegisterLimit, e.svc.RegisterWindow = 3, time.Hour
		ctx := context.Background()
		if err := e.svc.AddChatappPhoneNumber(ctx, e.acme, addParams()); err != nil {
			t.Fatal(err)
		}
		l := lifecycle{env: e, t: t, number: newNumber}
		if err := l.verifyAndRegister(l.code()); err != nil { // 1
			t.Fatal(err)
		}
		if err := l.deregister(); err != nil { // 2
			t.Fatal(err)
		}
		if err := l.register(); err != nil { // 3
			t.Fatal(err)
		}
		err := l.deregister()
		want(t, "fourth in the window", err, camsd.CodePhoneNumberRegisterTooFreq)
		if e, ok := err.(*camsd.Error); !ok || e.RetryAfter <= 0 || e.RetryAfter > time.Hour {
			t.Errorf("RetryAfter of %v", err)
		}
		e.advance(time.Hour)
		if err := l.deregister(); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}
