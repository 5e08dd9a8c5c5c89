package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/graph/graphtest"
)

const graphToken = "EAAGtest0graph0token"

// startWhatsApp runs camsd with --provider whatsapp against a fake Graph API.
func startWhatsApp(t *testing.T) (*Main, *graphtest.Server) {
	t.Helper()
	g := graphtest.New(graphToken, "v21.0")
	t.Cleanup(g.Close)
	cfg := testConfig(t)
	cfg.Provider = "whatsapp"
	cfg.GraphURL = g.URL
	cfg.GraphToken = graphToken
	cfg.GraphTimeout = time.Second
	cfg.ResendInterval = 0
	return start(t, cfg), g
}

// TestWhatsApp_Flow: the whole migration flow with the official client against the fake
// Graph API, which makes, sends and checks the code.
func TestWhatsApp_Flow(t *testing.T) {
	m, g := startWhatsApp(t)
	c := newClient(t, m, acmeKey, acmeSecret, "")
	const mobile = "13900004444"
	number := "86" + mobile
	at := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": number}

	d := dataOf(t, okBody(t, c, "CreateChatappMigrationInitiate", map[string]string{"CustSpaceId": acmeSpace, "CountryCode": "86", "MobileNumber": mobile}))
	id, _ := d["Id"].(string)
	if !strings.HasPrefix(id, "1065403522429") || g.Hits(graphtest.PhoneNumbers) != 1 {
		t.Fatalf("initiate Data %v: want Graph's phone-number id (hits %d)", d, g.Hits(graphtest.PhoneNumbers))
	}
	// Asking again is answered by camsd, with the same id, without asking Graph again.
	if d := dataOf(t, okBody(t, c, "CreateChatappMigrationInitiate", map[string]string{"CustSpaceId": acmeSpace, "CountryCode": "86", "MobileNumber": mobile})); d["Id"] != id || g.Hits(graphtest.PhoneNumbers) != 1 {
		t.Errorf("initiate again: %v, %d calls to Graph", d, g.Hits(graphtest.PhoneNumbers))
	}

	okBody(t, c, actionGetVC, verifyCodeQuery(acmeSpace, number, "en_US", "sms"))
	code := g.LastCode(number)
	if !sixDigits.MatchString(code) {
		t.Fatalf("Graph sent no code (%q)", code)
	}
	if resp, err := http.Get(m.URL + "/_sim/messages"); err != nil || resp.StatusCode == http.StatusOK {
		t.Errorf("the simulator's outbox is served with the WhatsApp provider: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	wrong := map[bool]string{true: "000001", false: "000000"}[code == "000000"]
	if got, st := errCode(t, c, "ChatappMigrationVerified", with(at, "VerifyCode", wrong)); got != "VerifyCode.Invalid" || st != 400 {
		t.Errorf("wrong code: %s %d", got, st)
	}
	okBody(t, c, "ChatappMigrationVerified", with(at, "VerifyCode", code))
	if d := dataOf(t, okBody(t, c, "GetPhoneNumberVerificationStatus", at)); d["CodeVerificationStatus"] != "VERIFIED" {
		t.Errorf("status = %v", d)
	}
	okBody(t, c, "ChatappMigrationRegister", at)
	if g.Registrations(number) != 1 {
		t.Errorf("Graph registrations = %d", g.Registrations(number))
	}

	// The trail shows each Graph call before and after it was made.
	trail, err := m.DB.Audit(context.Background(), camsd.AuditQuery{PhoneNumber: number})
	if err != nil {
		t.Fatal(err)
	}
	var pending, accepted int
	for _, a := range trail {
		switch {
		case a.Outcome == "Pending":
			pending++
		case a.Outcome == "OK" && strings.HasPrefix(a.Detail, "the platform accepted"):
			accepted++
		}
	}
	// phone_numbers, verify_code (twice: the wrong one too), register.
	if pending != 4 || accepted != 3 {
		t.Errorf("audit: %d pending and %d accepted Graph calls; want 4 and 3:\n%+v", pending, accepted, trail)
	}
}

// TestWhatsApp_Faults: Graph's errors come back as CAMS codes, within the deadline, with
// no duplicate request_code per call and a durable record of each attempt.
func TestWhatsApp_Faults(t *testing.T) {
	m, g := startWhatsApp(t)
	c := newClient(t, m, acmeKey, acmeSecret, "")
	const mobile = "13900005555"
	number := "86" + mobile
	okBody(t, c, "CreateChatappMigrationInitiate", map[string]string{"CustSpaceId": acmeSpace, "CountryCode": "86", "MobileNumber": mobile})
	askCode := func() (string, int, int, time.Duration) {
		t.Helper()
		before := g.Hits(graphtest.RequestCode)
		start := time.Now()
		code, st := errCode(t, c, actionGetVC, verifyCodeQuery(acmeSpace, number, "en_US", "voice"))
		return code, st, g.Hits(graphtest.RequestCode) - before, time.Since(start)
	}
	for _, tc := range []struct {
		name   string
		fault  graphtest.Fault
		code   string
		status int
		hits   int // request_code calls Graph sees for the one API call
	}{
		{"request_code refused", graphtest.Fault{Code: 136024}, "VerifyCode.SendFailed", 400, 1},
		{"not in the migration flow", graphtest.Fault{Code: 100, Subcode: 2388093}, "PhoneNumber.NotMigrating", 400, 1},
		// A 4xx throttling answer proves nothing was sent: retried twice, then refused.
		{"throttled", graphtest.Fault{Code: 80007}, "System.LimitControl", 400, 3},
		// After a 5xx or a timeout Graph may have sent a code: never asked twice.
		{"upstream 500", graphtest.Fault{Status: 500, Code: 1, Transient: true}, "ServiceUnavailable", 503, 1},
		{"hung", graphtest.Fault{Hang: true}, "ServiceUnavailable", 503, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g.Fail(graphtest.RequestCode, tc.fault, tc.fault, tc.fault)
			defer g.Clear(graphtest.RequestCode)
			code, status, hits, took := askCode()
			if code != tc.code || status != tc.status {
				t.Errorf("%s %d; want %s %d", code, status, tc.code, tc.status)
			}
			if hits != tc.hits {
				t.Errorf("%d request_code calls for one API call; want %d", hits, tc.hits)
			}
			if took > 2*time.Second {
				t.Errorf("answered after %v; the Graph deadline is 1s", took)
			}
			last, err := m.DB.LastCode(context.Background(), acmeSpace, number)
			if err != nil || last.Status != camsd.DeliveryFailed {
				t.Errorf("record of the attempt: %+v, %v; want failed", last, err)
			}
		})
	}

	// Five failures in a row opened the breaker: camsd stops calling Graph for a while and
	// answers at once.
	code, status, hits, took := askCode()
	if code != "ServiceUnavailable" || status != 503 || hits != 0 || took > 200*time.Millisecond {
		t.Errorf("with the breaker open: %s %d, %d calls to Graph, %v", code, status, hits, took)
	}
}

// TestWhatsApp_EdgeErrors: phone_numbers and register errors, and nothing recorded that
// Graph refused.
func TestWhatsApp_EdgeErrors(t *testing.T) {
	m, g := startWhatsApp(t)
	c := newClient(t, m, acmeKey, acmeSecret, "")
	const mobile = "13900006666"
	number := "86" + mobile
	okBody(t, c, "CreateChatappMigrationInitiate", map[string]string{"CustSpaceId": acmeSpace, "CountryCode": "86", "MobileNumber": mobile})
	g.Fail(graphtest.PhoneNumbers, graphtest.Fault{Code: 100, Subcode: 2388012})
	if got, _ := errCode(t, c, "CreateChatappMigrationInitiate", map[string]string{"CustSpaceId": acmeSpace, "CountryCode": "62", "MobileNumber": "8111000222"}); got != "PhoneNumber.AlreadyExists" {
		t.Errorf("phone_numbers 2388012: %s", got)
	}
	if n, err := m.DB.PhoneNumber(context.Background(), acmeSpace, "628111000222"); err == nil {
		t.Errorf("a number Graph refused was recorded: %+v", n)
	}
	okBody(t, c, actionGetVC, verifyCodeQuery(acmeSpace, number, "en_US", "sms"))
	at := map[string]string{"CustSpaceId": acmeSpace, "PhoneNumber": number}
	okBody(t, c, "ChatappMigrationVerified", with(at, "VerifyCode", g.LastCode(number)))
	g.Fail(graphtest.Register, graphtest.Fault{Code: 133016})
	if got, _ := errCode(t, c, "ChatappMigrationRegister", at); got != "PhoneNumber.RegisterTooFrequent" {
		t.Errorf("register 133016: %s", got)
	}
	if n, _ := m.DB.PhoneNumber(context.Background(), acmeSpace, number); n.Status != camsd.StatusMigrating {
		t.Errorf("after Graph refused the registration: %s; want still MIGRATING", n.Status)
	}
	okBody(t, c, "ChatappMigrationRegister", at)
}
