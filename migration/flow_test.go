package migration_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/migration"
	"github.com/camsd/camsd/storetest"
)

// in returns the parameters of a call in space acting on number, plus kv.
func in(space, number string, kv ...string) migration.Params {
	p := migration.Params{"CustSpaceId": {space}, "PhoneNumber": {number}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			p.Del(kv[i])
		} else {
			p.Set(kv[i], kv[i+1])
		}
	}
	return p
}

func initiateParams(space, cc, mobile string) migration.Params {
	p := migration.Params{}
	for k, v := range map[string]string{"CustSpaceId": space, "CountryCode": cc, "MobileNumber": mobile} {
		if v != "" {
			p.Set(k, v)
		}
	}
	return p
}

// sendCode asks for a code for number in space and returns it, read from the store.
func (e *env) sendCode(t *testing.T, c migration.Caller, space, number string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := e.svc.GetMigrationVerifyCode(ctx, c, in(space, number, "Locale", "en_US", "Method", "sms")); err != nil {
		t.Fatalf("GetMigrationVerifyCode(%s, %s): %v", space, number, err)
	}
	vc, err := e.db.LastCode(ctx, space, number)
	if err != nil {
		t.Fatal(err)
	}
	e.advance(e.svc.ResendInterval) // the next code may go at once
	return vc.Code
}

func (e *env) verify(c migration.Caller, space, number, value string) error {
	_, err := e.svc.ChatappMigrationVerified(context.Background(), c, in(space, number, "VerifyCode", value))
	return err
}

func (e *env) register(c migration.Caller, space, number string) error {
	return e.svc.ChatappMigrationRegister(context.Background(), c, in(space, number))
}

func (e *env) status(t *testing.T, c migration.Caller, space, number string) string {
	t.Helper()
	d, err := e.svc.GetPhoneNumberVerificationStatus(context.Background(), c, in(space, number))
	if err != nil {
		t.Fatalf("GetPhoneNumberVerificationStatus(%s, %s): %v", space, number, err)
	}
	return d.CodeVerificationStatus
}

func wrongCode(right string) string {
	if right == "000000" {
		return "000001"
	}
	return "000000"
}

func want(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := camsdCode(err); got != code {
		t.Fatalf("%s: got %s (%v), want %s", what, got, err, code)
	}
}

func camsdCode(err error) string {
	if err == nil {
		return "OK"
	}
	return camsd.ErrorCode(err)
}

func TestService_CreateChatappMigrationInitiate_Parameters(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    migration.Params
		want string
	}{
		{"new number", initiateParams(storetest.AcmeSpace, "86", "13811112222"), "OK"},
		{"missing all: first named", initiateParams("", "", ""), "MissingCustSpaceId"},
		{"missing CountryCode", initiateParams(storetest.AcmeSpace, "", "13811112222"), "MissingCountryCode"},
		{"missing MobileNumber", initiateParams(storetest.AcmeSpace, "86", ""), "MissingMobileNumber"},
		{"country code with a leading 0", initiateParams(storetest.AcmeSpace, "086", "13811112222"), "InvalidParameter.PhoneNumberError"},
		{"country code of 4 digits", initiateParams(storetest.AcmeSpace, "8612", "811112222"), "InvalidParameter.PhoneNumberError"},
		{"country code with a +", initiateParams(storetest.AcmeSpace, "+86", "13811112222"), "InvalidParameter.PhoneNumberError"},
		{"mobile number with a dash", initiateParams(storetest.AcmeSpace, "86", "138-1111-2222"), "InvalidParameter.PhoneNumberError"},
		{"too short together", initiateParams(storetest.AcmeSpace, "1", "234567"), "InvalidParameter.PhoneNumberError"},
		{"too long together", initiateParams(storetest.AcmeSpace, "86", "1381111222233334"), "InvalidParameter.PhoneNumberError"},
		{"bad number before ownership", initiateParams("nope", "0", "1"), "InvalidParameter.PhoneNumberError"},
		{"space of another account", initiateParams(storetest.BetaSpace, "86", "13811112222"), "Unknown.ResourceOwnerId"},
		{"already CONNECTED in the space", initiateParams(storetest.AcmeSpace, "86", storetest.Number2[2:]), "PhoneNumber.AlreadyExists"},
		{"MIGRATING in another space", initiateParams(storetest.AcmeSpace, "86", storetest.Number1[2:]), "PhoneNumber.AlreadyExists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.svc.CreateChatappMigrationInitiate(context.Background(), e.acme, tc.p)
			want(t, "initiate", err, tc.want)
		})
	}
}

func TestService_CreateChatappMigrationInitiate_IDs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first, err := e.svc.CreateChatappMigrationInitiate(ctx, e.acme, initiateParams(storetest.AcmeSpace, "86", "13811112222"))
	if err != nil {
		t.Fatal(err)
	}
	if first.PhoneNumber != "8613811112222" || first.Status != "MIGRATING" || !regexp.MustCompile(`^[1-9][0-9]{14}$`).MatchString(first.Id) {
		t.Errorf("data = %+v; want the number, MIGRATING and a 15-digit id", first)
	}
	again, err := e.svc.CreateChatappMigrationInitiate(ctx, e.acme, initiateParams(storetest.AcmeSpace, "86", "13811112222"))
	if err != nil || again.Id != first.Id {
		t.Errorf("again: %+v, %v; want the same id %s", again, err, first.Id)
	}
	other, err := e.svc.CreateChatappMigrationInitiate(ctx, e.acme, initiateParams(storetest.AcmeSpace, "62", "8111222333"))
	if err != nil || other.Id == first.Id || other.PhoneNumber != "628111222333" {
		t.Errorf("another number: %+v, %v; want a different id", other, err)
	}
	// The new number is where the rest of the flow finds it.
	n, err := e.db.PhoneNumber(ctx, storetest.AcmeSpace, "8613811112222")
	if err != nil || n.Status != camsd.StatusMigrating || n.ID != first.Id {
		t.Errorf("stored: %+v, %v", n, err)
	}
	if got := e.status(t, e.acme, storetest.AcmeSpace, "8613811112222"); got != migration.NotVerified {
		t.Errorf("status of a new number = %s", got)
	}
}

// One number through the whole flow, and the audit trail that says who did what.
func TestService_Flow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const space, number = storetest.AcmeSpace, storetest.Number1

	want(t, "register before verifying", e.register(e.acme, space, number), "PhoneNumber.NotVerified")
	want(t, "verify before any code", e.verify(e.acme, space, number, "123456"), "VerifyCode.NotFound")
	code := e.sendCode(t, e.acme, space, number)
	if got := e.status(t, e.acme, space, number); got != migration.NotVerified {
		t.Errorf("status with a code sent = %s", got)
	}
	data, err := e.svc.ChatappMigrationVerified(ctx, e.acme, in(space, number, "VerifyCode", code))
	if err != nil || data.PhoneNumber != number || data.Id != "pn-acme-1" {
		t.Fatalf("verify: %+v, %v", data, err)
	}
	want(t, "verify the used code again", e.verify(e.acme, space, number, code), "VerifyCode.NotFound")
	if got := e.status(t, e.acme, space, number); got != migration.Verified {
		t.Errorf("status after verifying = %s", got)
	}
	want(t, "register", e.register(e.acme, space, number), "OK")
	n, _ := e.db.PhoneNumber(ctx, space, number)
	if n.Status != camsd.StatusConnected {
		t.Errorf("after register: %s", n.Status)
	}
	want(t, "register again while verified", e.register(e.acme, space, number), "OK")
	want(t, "verify once connected", e.verify(e.acme, space, number, code), "PhoneNumber.NotMigrating")

	trail, err := e.db.Audit(ctx, camsd.AuditQuery{PhoneNumber: number, UID: storetest.AcmeUID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range trail {
		actions = append(actions, a.Action+" "+a.Outcome)
		if a.AccessKeyID != storetest.AcmeKey || a.RequestID != "req-1" || a.CustSpaceID != space {
			t.Errorf("record %+v: want acme's key, its request id and space", a)
		}
	}
	wantActions := []string{"ChatappMigrationRegister OK", "ChatappMigrationRegister OK", "ChatappMigrationVerified OK", "GetMigrationVerifyCode OK"}
	if len(actions) != len(wantActions) {
		t.Fatalf("audit = %v; want %v", actions, wantActions)
	}
	for i := range actions {
		if actions[i] != wantActions[i] {
			t.Fatalf("audit = %v; want %v", actions, wantActions)
		}
	}
}

func TestService_ChatappMigrationVerified_Rules(t *testing.T) {
	const space, number = storetest.AcmeSpace, storetest.Number1
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, e *env) string // returns the value to check
		p     func(value string) migration.Params
		want  string
	}{
		{"right code", func(t *testing.T, e *env) string { return e.sendCode(t, e.acme, space, number) }, nil, "OK"},
		{"wrong code", func(t *testing.T, e *env) string { return wrongCode(e.sendCode(t, e.acme, space, number)) }, nil, "VerifyCode.Invalid"},
		{"missing VerifyCode", func(*testing.T, *env) string { return "" }, nil, "MissingVerifyCode"},
		{"five digits", func(*testing.T, *env) string { return "12345" }, nil, "InvalidParameter"},
		{"letters", func(*testing.T, *env) string { return "12a456" }, nil, "InvalidParameter"},
		{"bad number before bad code", func(*testing.T, *env) string { return "1" },
			func(v string) migration.Params { return in(space, "123", "VerifyCode", v) }, "InvalidParameter.PhoneNumberError"},
		{"bad code before ownership", func(*testing.T, *env) string { return "1" },
			func(v string) migration.Params { return in("nope", number, "VerifyCode", v) }, "InvalidParameter"},
		{"space of another account", func(*testing.T, *env) string { return "123456" },
			func(v string) migration.Params { return in(storetest.BetaSpace, number, "VerifyCode", v) }, "Unknown.ResourceOwnerId"},
		{"number not in space", func(*testing.T, *env) string { return "123456" },
			func(v string) migration.Params { return in(space, "8613899999999", "VerifyCode", v) }, "PhoneNumber.NotFound"},
		{"number not migrating", func(*testing.T, *env) string { return "123456" },
			func(v string) migration.Params { return in(space, storetest.Number2, "VerifyCode", v) }, "PhoneNumber.NotMigrating"},
		{"no code sent", func(*testing.T, *env) string { return "123456" }, nil, "VerifyCode.NotFound"},
		{"only a failed send", func(t *testing.T, e *env) string {
			e.svc.Provider = failingProvider{}
			_, err := e.svc.GetMigrationVerifyCode(context.Background(), e.acme, in(space, number, "Locale", "en", "Method", "sms"))
			want(t, "failed send", err, camsd.CodeInternalError)
			vc, _ := e.db.LastCode(context.Background(), space, number)
			return vc.Code
		}, nil, "VerifyCode.NotFound"},
		{"right code, expired", func(t *testing.T, e *env) string {
			c := e.sendCode(t, e.acme, space, number)
			e.advance(e.svc.CodeTTL)
			return c
		}, nil, "VerifyCode.Expired"},
		{"wrong code, expired: expired first", func(t *testing.T, e *env) string {
			c := e.sendCode(t, e.acme, space, number)
			e.advance(e.svc.CodeTTL)
			return wrongCode(c)
		}, nil, "VerifyCode.Expired"},
		{"right code just before expiry", func(t *testing.T, e *env) string {
			c := e.sendCode(t, e.acme, space, number)
			e.advance(e.svc.CodeTTL - e.svc.ResendInterval - time.Nanosecond)
			return c
		}, nil, "OK"},
		{"attempts exceeded, expired: attempts first", func(t *testing.T, e *env) string {
			c := e.sendCode(t, e.acme, space, number)
			for range 5 {
				_ = e.verify(e.acme, space, number, wrongCode(c))
			}
			e.advance(e.svc.CodeTTL)
			return c
		}, nil, "VerifyCode.AttemptsExceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			v := tc.setup(t, e)
			p := in(space, number, "VerifyCode", v)
			if tc.p != nil {
				p = tc.p(v)
			}
			_, err := e.svc.ChatappMigrationVerified(context.Background(), e.acme, p)
			want(t, "verify", err, tc.want)
		})
	}
}

func TestService_ChatappMigrationVerified_Attempts(t *testing.T) {
	e := newEnv(t)
	const space, number = storetest.AcmeSpace, storetest.Number1
	code := e.sendCode(t, e.acme, space, number)
	for range 3 { // malformed values are not tries
		want(t, "malformed", e.verify(e.acme, space, number, "12345"), "InvalidParameter")
	}
	for i := 1; i <= 5; i++ {
		err := e.verify(e.acme, space, number, wrongCode(code))
		want(t, "wrong try", err, "VerifyCode.Invalid")
		if i == 5 && !regexp.MustCompile(`5 of 5`).MatchString(err.Error()) {
			t.Errorf("5th wrong try says %q", err)
		}
	}
	want(t, "right code after 5 wrong", e.verify(e.acme, space, number, code), "VerifyCode.AttemptsExceeded")
	want(t, "wrong code after 5 wrong", e.verify(e.acme, space, number, wrongCode(code)), "VerifyCode.AttemptsExceeded")

	fresh := e.sendCode(t, e.acme, space, number)
	want(t, "wrong try on a new code", e.verify(e.acme, space, number, wrongCode(fresh)), "VerifyCode.Invalid")
	want(t, "right new code", e.verify(e.acme, space, number, fresh), "OK")

	// Wrong tries are in the audit trail; refusals that changed nothing are not.
	trail, _ := e.db.Audit(context.Background(), camsd.AuditQuery{PhoneNumber: number})
	invalid := 0
	for _, a := range trail {
		if a.Outcome == camsd.CodeVerifyCodeInvalid {
			invalid++
		}
	}
	if invalid != 6 {
		t.Errorf("%d wrong tries audited, want 6", invalid)
	}
}

// --max-check-attempts sets how many wrong tries kill a code.
func TestService_ChatappMigrationVerified_MaxAttempts(t *testing.T) {
	e := newEnv(t)
	e.svc.MaxCheckAttempts = 2
	code := e.sendCode(t, e.acme, storetest.AcmeSpace, storetest.Number1)
	for range 2 {
		want(t, "wrong", e.verify(e.acme, storetest.AcmeSpace, storetest.Number1, wrongCode(code)), "VerifyCode.Invalid")
	}
	want(t, "right after 2 wrong", e.verify(e.acme, storetest.AcmeSpace, storetest.Number1, code), "VerifyCode.AttemptsExceeded")
}

// Concurrent checks of the right code: exactly one succeeds, the others find it used.
func TestService_ChatappMigrationVerified_Concurrent(t *testing.T) {
	e := newEnv(t)
	code := e.sendCode(t, e.acme, storetest.AcmeSpace, storetest.Number1)
	const n = 16
	results := make(chan string, n)
	for range n {
		go func() { results <- camsdCode(e.verify(e.acme, storetest.AcmeSpace, storetest.Number1, code)) }()
	}
	count := map[string]int{}
	for range n {
		count[<-results]++
	}
	if count["OK"] != 1 || count["VerifyCode.NotFound"] != n-1 {
		t.Fatalf("outcomes = %v; want 1 OK and %d VerifyCode.NotFound", count, n-1)
	}
}

func TestService_GetPhoneNumberVerificationStatus(t *testing.T) {
	e := newEnv(t)
	e.svc.VerificationValidity = time.Hour
	const space, number = storetest.AcmeSpace, storetest.Number1
	for _, tc := range []struct {
		p    migration.Params
		want string
	}{
		{in(space, ""), "MissingPhoneNumber"},
		{in(space, "12"), "InvalidParameter.PhoneNumberError"},
		{in(storetest.BetaSpace, number), "Unknown.ResourceOwnerId"},
		{in(space, "8613899999999"), "PhoneNumber.NotFound"},
	} {
		_, err := e.svc.GetPhoneNumberVerificationStatus(context.Background(), e.acme, tc.p)
		want(t, tc.want, err, tc.want)
	}
	d, err := e.svc.GetPhoneNumberVerificationStatus(context.Background(), e.acme, in(space, number))
	if err != nil || d.CodeVerificationStatus != migration.NotVerified || d.Id != "pn-acme-1" || d.PhoneNumber != number {
		t.Fatalf("before: %+v, %v", d, err)
	}
	want(t, "verify", e.verify(e.acme, space, number, e.sendCode(t, e.acme, space, number)), "OK")
	e.advance(time.Hour - time.Nanosecond) // verified when the code was checked, one clock step after it was sent
	if got := e.status(t, e.acme, space, number); got != migration.Verified {
		t.Errorf("just inside the validity: %s", got)
	}
	e.advance(time.Nanosecond)
	if got := e.status(t, e.acme, space, number); got != migration.Expired {
		t.Errorf("at the end of the validity: %s", got)
	}
	want(t, "register on an expired verification", e.register(e.acme, space, number), "PhoneNumber.NotVerified")
}

func TestService_ChatappMigrationRegister_Limit(t *testing.T) {
	e := newEnv(t)
	e.svc.RegisterLimit, e.svc.RegisterWindow = 3, time.Hour
	const space, number = storetest.AcmeSpace, storetest.Number1
	want(t, "missing PhoneNumber", e.svc.ChatappMigrationRegister(context.Background(), e.acme, in(space, "")), "MissingPhoneNumber")
	want(t, "number not in space", e.register(e.acme, space, "8613899999999"), "PhoneNumber.NotFound")
	want(t, "verify", e.verify(e.acme, space, number, e.sendCode(t, e.acme, space, number)), "OK")
	start := e.clock()
	for range 3 {
		want(t, "register", e.register(e.acme, space, number), "OK")
		e.advance(10 * time.Minute)
	}
	err := e.register(e.acme, space, number)
	want(t, "4th in the window", err, "PhoneNumber.RegisterTooFrequent")
	var ce *camsd.Error
	if errors.As(err, &ce); ce.RetryAfter != start.Add(time.Hour).Sub(e.clock()) {
		t.Errorf("RetryAfter = %v; want until the first leaves the window (%v)", ce.RetryAfter, start.Add(time.Hour).Sub(e.clock()))
	}
	e.advance(ce.RetryAfter)
	want(t, "once the first left the window", e.register(e.acme, space, number), "OK")
}

// A number CONNECTED in acme migrates to beta: registering in beta moves it out of acme,
// whose verification ends, and acme may start a new migration under the same id.
func TestService_MigrationBetweenTenants(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const number = storetest.Number2 // CONNECTED in acme
	// acme verified it once: that verification must end when the number leaves.
	changeVerifiedAt(t, e, storetest.AcmeSpace, number, e.clock())

	d, err := e.svc.CreateChatappMigrationInitiate(ctx, e.beta, initiateParams(storetest.BetaSpace, "86", number[2:]))
	if err != nil {
		t.Fatal(err)
	}
	if d.Id == "pn-acme-2" {
		t.Errorf("beta's record took acme's id")
	}
	_, err = e.svc.CreateChatappMigrationInitiate(ctx, e.acme, initiateParams(storetest.AcmeSpace, "86", number[2:]))
	want(t, "acme initiates while beta migrates it", err, "PhoneNumber.AlreadyExists")
	if n, _ := e.db.PhoneNumber(ctx, storetest.AcmeSpace, number); n.Status != camsd.StatusConnected {
		t.Errorf("acme's record while beta migrates: %s; want CONNECTED until beta registers", n.Status)
	}
	want(t, "beta verifies", e.verify(e.beta, storetest.BetaSpace, number, e.sendCode(t, e.beta, storetest.BetaSpace, number)), "OK")
	want(t, "beta registers", e.register(e.beta, storetest.BetaSpace, number), "OK")

	n, _ := e.db.PhoneNumber(ctx, storetest.AcmeSpace, number)
	if n.Status != camsd.StatusMigrated {
		t.Fatalf("acme's record after beta registered: %s", n.Status)
	}
	_, err = e.svc.GetMigrationVerifyCode(ctx, e.acme, in(storetest.AcmeSpace, number, "Locale", "en", "Method", "sms"))
	want(t, "acme asks a code", err, "PhoneNumber.NotMigrating")
	want(t, "acme verifies", e.verify(e.acme, storetest.AcmeSpace, number, "123456"), "PhoneNumber.NotMigrating")
	want(t, "acme registers", e.register(e.acme, storetest.AcmeSpace, number), "PhoneNumber.NotVerified")
	if got := e.status(t, e.acme, storetest.AcmeSpace, number); got != migration.NotVerified {
		t.Errorf("acme's status = %s", got)
	}

	back, err := e.svc.CreateChatappMigrationInitiate(ctx, e.acme, initiateParams(storetest.AcmeSpace, "86", number[2:]))
	if err != nil || back.Id != "pn-acme-2" || back.Status != "MIGRATING" {
		t.Fatalf("acme initiates again: %+v, %v; want MIGRATING under pn-acme-2", back, err)
	}
	want(t, "acme verifies a new code", e.verify(e.acme, storetest.AcmeSpace, number, e.sendCode(t, e.acme, storetest.AcmeSpace, number)), "OK")
	want(t, "acme registers", e.register(e.acme, storetest.AcmeSpace, number), "OK")
	if n, _ := e.db.PhoneNumber(ctx, storetest.BetaSpace, number); n.Status != camsd.StatusMigrated {
		t.Errorf("beta's record after acme took it back: %s", n.Status)
	}
}

// A code sent before a number left and came back belongs to the old migration.
func TestService_CodeOfAnEarlierMigration(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const number = storetest.Number1 // MIGRATING in acme and in beta (seeded so)
	old := e.sendCode(t, e.acme, storetest.AcmeSpace, number)
	// Move acme's record out and back by hand: MIGRATED, then initiated again.
	err := e.db.ChangeNumber(ctx, nil, storetest.AcmeSpace, number, time.Time{}, func(tx *camsd.NumberTxn) error {
		tx.Record(storetest.AcmeSpace).Status = camsd.StatusMigrated
		tx.Record(storetest.BetaSpace).Status = camsd.StatusConnected
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(time.Second)
	if _, err := e.svc.CreateChatappMigrationInitiate(ctx, e.acme, initiateParams(storetest.AcmeSpace, "86", number[2:])); err != nil {
		t.Fatal(err)
	}
	want(t, "old code", e.verify(e.acme, storetest.AcmeSpace, number, old), "VerifyCode.NotFound")
}

func changeVerifiedAt(t *testing.T, e *env, space, number string, at time.Time) {
	t.Helper()
	err := e.db.ChangeNumber(context.Background(), nil, space, number, time.Time{}, func(tx *camsd.NumberTxn) error {
		tx.Record(space).VerifiedAt = at
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
