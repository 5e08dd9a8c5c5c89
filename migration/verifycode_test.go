package migration_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/migration"
	"github.com/camsd/camsd/sim"
	"github.com/camsd/camsd/sqlite"
	"github.com/camsd/camsd/storetest"
)

// env is a Service on a real SQLite store with the storetest fixture and a settable clock.
type env struct {
	svc  *migration.Service
	db   *sqlite.DB
	now  time.Time
	mu   sync.Mutex
	acme migration.Caller
	beta migration.Caller
}

func (e *env) clock() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }
func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// failingProvider is a Provider whose sends fail.
type failingProvider struct{}

func (failingProvider) SendCode(context.Context, *camsd.Call, camsd.CodeMessage) error {
	return errors.New("upstream down")
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "camsd.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	if err := db.ApplySeed(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, now: storetest.T0}
	e.svc = &migration.Service{
		Store:          db,
		Provider:       &sim.Provider{Outbox: db, Now: e.clock},
		Now:            e.clock,
		CodeTTL:        10 * time.Minute,
		ResendInterval: 60 * time.Second,
	}
	acme, err := db.Principal(ctx, storetest.AcmeKey)
	if err != nil {
		t.Fatal(err)
	}
	e.acme = migration.Caller{Principal: acme, RequestID: "req-1", AccessKeyID: storetest.AcmeKey}
	beta, err := db.Principal(ctx, storetest.BetaKey)
	if err != nil {
		t.Fatal(err)
	}
	e.beta = migration.Caller{Principal: beta, RequestID: "req-2", AccessKeyID: storetest.BetaKey}
	return e
}

func params(kv ...string) migration.Params {
	p := migration.Params{}
	base := map[string]string{"CustSpaceId": storetest.AcmeSpace, "PhoneNumber": storetest.Number1, "Locale": "en_US", "Method": "sms"}
	for i := 0; i+1 < len(kv); i += 2 {
		base[kv[i]] = kv[i+1]
	}
	for k, v := range base {
		if v != "" {
			p.Set(k, v)
		}
	}
	return p
}

func code(err error) string {
	if err == nil {
		return "OK"
	}
	return camsd.ErrorCode(err)
}

func TestService_GetMigrationVerifyCode_Rules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		beta   bool
		params migration.Params
		want   string
	}{
		{"ok", false, params(), "OK"},
		{"upper-case method", false, params("Method", "VOICE"), "OK"},
		{"missing all: first named", false, params("CustSpaceId", "", "PhoneNumber", "", "Locale", "", "Method", ""), "MissingCustSpaceId"},
		{"missing PhoneNumber", false, params("PhoneNumber", ""), "MissingPhoneNumber"},
		{"missing Locale before bad Method", false, params("Locale", "", "Method", "fax"), "MissingLocale"},
		{"missing Method", false, params("Method", ""), "MissingMethod"},
		{"bad Method before bad number", false, params("Method", "fax", "PhoneNumber", "1"), "InvalidParameter"},
		{"bad number before bad locale", false, params("PhoneNumber", "1", "Locale", "xx"), "InvalidParameter.PhoneNumberError"},
		{"bad locale", false, params("Locale", "xx"), "InvalidParameter.LanguageNotSupport"},
		{"bad locale before ownership", false, params("Locale", "xx", "CustSpaceId", "nope"), "InvalidParameter.LanguageNotSupport"},
		{"space of another account", true, params(), "Unknown.ResourceOwnerId"},
		{"space that does not exist", false, params("CustSpaceId", "nope"), "Unknown.ResourceOwnerId"},
		{"foreign ResourceOwnerId", false, params("ResourceOwnerId", storetest.BetaUID), "Unknown.ResourceOwnerId"},
		{"own ResourceOwnerId", false, params("ResourceOwnerId", storetest.AcmeUID), "OK"},
		{"number not in space", false, params("PhoneNumber", "8613899999999"), "PhoneNumber.NotFound"},
		{"number connected", false, params("PhoneNumber", storetest.Number2), "PhoneNumber.NotMigrating"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.acme
			if tc.beta {
				c = e.beta
			}
			_, err := e.svc.GetMigrationVerifyCode(context.Background(), c, tc.params)
			if got := code(err); got != tc.want {
				t.Fatalf("got %s (%v), want %s", got, err, tc.want)
			}
		})
	}
}

func TestService_GetMigrationVerifyCode_RecordsAndSends(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	data, err := e.svc.GetMigrationVerifyCode(ctx, e.acme, params("Locale", "zh-cn"))
	if err != nil {
		t.Fatal(err)
	}
	if data.PhoneNumber != storetest.Number1 || data.Id != "pn-acme-1" {
		t.Errorf("data = %+v", data)
	}
	vc, err := e.db.LastCode(ctx, storetest.AcmeSpace, storetest.Number1)
	if err != nil {
		t.Fatal(err)
	}
	if vc.Status != camsd.DeliverySent || !vc.ExpiresAt.Equal(storetest.T0.Add(10*time.Minute)) ||
		vc.Locale != "zh_CN" || vc.RequestID != "req-1" || vc.AccessKeyID != storetest.AcmeKey || len(vc.Code) != 6 {
		t.Errorf("recorded code = %+v", vc)
	}
	msgs, err := e.db.Messages(ctx, storetest.Number1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Code != vc.Code || !bytes.Contains([]byte(msgs[0].Text), []byte(vc.Code)) {
		t.Errorf("outbox = %+v, code %s", msgs, vc.Code)
	}
}

func TestService_GetMigrationVerifyCode_ResendInterval(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.GetMigrationVerifyCode(ctx, e.acme, params()); err != nil {
		t.Fatal(err)
	}
	e.advance(45 * time.Second)
	_, err := e.svc.GetMigrationVerifyCode(ctx, e.acme, params())
	var ce *camsd.Error
	if !errors.As(err, &ce) || ce.Code != "VerifyCode.SendTooFrequent" || ce.RetryAfter != 15*time.Second {
		t.Fatalf("45s later: %v (RetryAfter %v), want SendTooFrequent with 15s left", err, ce)
	}
	e.advance(15 * time.Second) // exactly the interval
	if _, err := e.svc.GetMigrationVerifyCode(ctx, e.acme, params()); err != nil {
		t.Fatalf("at the interval: %v", err)
	}

	e.svc.ResendInterval = 0
	for i := 0; i < 3; i++ {
		e.advance(time.Millisecond)
		if _, err := e.svc.GetMigrationVerifyCode(ctx, e.acme, params()); err != nil {
			t.Fatalf("interval off, send %d: %v", i, err)
		}
	}
}

// Concurrent requests for one number: exactly one code goes out.
func TestService_GetMigrationVerifyCode_ConcurrentResend(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	results := make(chan string, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.GetMigrationVerifyCode(context.Background(), e.acme, params())
			results <- code(err)
		}()
	}
	wg.Wait()
	close(results)
	count := map[string]int{}
	for c := range results {
		count[c]++
	}
	if count["OK"] != 1 || count["VerifyCode.SendTooFrequent"] != 19 {
		t.Fatalf("outcomes = %v, want 1 OK and 19 SendTooFrequent", count)
	}
	msgs, _ := e.db.Messages(context.Background(), storetest.Number1, 0)
	if len(msgs) != 1 {
		t.Fatalf("%d messages sent, want 1", len(msgs))
	}
}

// With the resend interval off, a request is never refused for a code sent before it, not
// even for one a concurrent request recorded first with a later clock reading.
func TestService_GetMigrationVerifyCode_IntervalOff(t *testing.T) {
	e := newEnv(t)
	e.svc.ResendInterval = 0
	ctx := context.Background()
	e.advance(time.Second) // the concurrent request read its clock a second later...
	if _, err := e.svc.GetMigrationVerifyCode(ctx, e.acme, params()); err != nil {
		t.Fatal(err)
	}
	e.advance(-time.Second) // ...and this one earlier, but reaches the store second
	if _, err := e.svc.GetMigrationVerifyCode(ctx, e.acme, params()); err != nil {
		t.Fatalf("second request with the interval off: %v", err)
	}
	if msgs, _ := e.db.Messages(ctx, storetest.Number1, 0); len(msgs) != 2 {
		t.Fatalf("%d codes sent, want 2", len(msgs))
	}
}

// A failed send is recorded as failed, answers an internal error and does not hold the
// number to the resend interval.
func TestService_GetMigrationVerifyCode_ProviderFails(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	good := e.svc.Provider
	e.svc.Provider = failingProvider{}
	_, err := e.svc.GetMigrationVerifyCode(ctx, e.acme, params())
	if code(err) != camsd.CodeInternalError {
		t.Fatalf("got %v, want an internal error", err)
	}
	vc, err := e.db.LastCode(ctx, storetest.AcmeSpace, storetest.Number1)
	if err != nil || vc.Status != camsd.DeliveryFailed {
		t.Fatalf("recorded = %+v, %v; want status failed", vc, err)
	}
	e.svc.Provider = good
	e.advance(time.Second)
	if _, err := e.svc.GetMigrationVerifyCode(ctx, e.acme, params()); err != nil {
		t.Fatalf("retry after a failed send: %v", err)
	}
}

// Codes are six digits drawn from Rand: an all-zero stream gives "000000".
func TestService_GetMigrationVerifyCode_CodeFromRand(t *testing.T) {
	e := newEnv(t)
	e.svc.Rand = bytes.NewReader(make([]byte, 64))
	if _, err := e.svc.GetMigrationVerifyCode(context.Background(), e.acme, params()); err != nil {
		t.Fatal(err)
	}
	vc, _ := e.db.LastCode(context.Background(), storetest.AcmeSpace, storetest.Number1)
	if vc.Code != "000000" {
		t.Fatalf("code = %q, want 000000", vc.Code)
	}
}

// TestService_GetMigrationVerifyCode_RetryAfterFromBlockingCode checks that SendTooFrequent's
// Retry-After runs from the code that blocks the number, not from a later one whose send
// failed (a failed code does not block).
func TestService_GetMigrationVerifyCode_RetryAfterFromBlockingCode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.GetMigrationVerifyCode(ctx, e.acme, params()); err != nil { // T0: sent
		t.Fatal(err)
	}
	e.advance(10 * time.Second)
	sent := e.svc.Provider
	e.svc.Provider, e.svc.ResendInterval = failingProvider{}, 0
	if _, err := e.svc.GetMigrationVerifyCode(ctx, e.acme, params()); err == nil { // T0+10s: failed
		t.Fatal("a send through a failing provider succeeded")
	}
	e.svc.Provider, e.svc.ResendInterval = sent, 60*time.Second
	e.advance(10 * time.Second)
	_, err := e.svc.GetMigrationVerifyCode(ctx, e.acme, params()) // T0+20s
	var ce *camsd.Error
	if !errors.As(err, &ce) || ce.Code != "VerifyCode.SendTooFrequent" || ce.RetryAfter != 40*time.Second {
		t.Fatalf("20s after the code that was sent: %v (%+v); want SendTooFrequent with 40s left", err, ce)
	}
}

// countingStore counts the code writes a call makes.
type countingStore struct {
	*sqlite.DB
	mu                              sync.Mutex
	saves, savesWithMessage, status int
	failWithMessage                 error
}

func (s *countingStore) SaveCode(ctx context.Context, call *camsd.Call, c camsd.VerifyCode, notSentAfter time.Time) error {
	s.mu.Lock()
	s.saves++
	s.mu.Unlock()
	return s.DB.SaveCode(ctx, call, c, notSentAfter)
}

func (s *countingStore) SaveCodeMessage(ctx context.Context, call *camsd.Call, c camsd.VerifyCode, notSentAfter time.Time, m camsd.Message, keep int) error {
	s.mu.Lock()
	s.savesWithMessage++
	s.mu.Unlock()
	if s.failWithMessage != nil {
		return s.failWithMessage
	}
	return s.DB.SaveCodeMessage(ctx, call, c, notSentAfter, m, keep)
}

func (s *countingStore) SetCodeStatus(ctx context.Context, call *camsd.Call, space, number string, sentAt time.Time, st camsd.DeliveryStatus) error {
	s.mu.Lock()
	s.status++
	s.mu.Unlock()
	return s.DB.SetCodeStatus(ctx, call, space, number, sentAt, st)
}

// spyRecorder is the simulator, told what became of each message it recorded.
type spyRecorder struct {
	*sim.Provider
	recorded []error
}

func (r *spyRecorder) Recorded(m camsd.Message, err error) {
	r.recorded = append(r.recorded, err)
	r.Provider.Recorded(m, err)
}

// With a provider that records its messages in the Store (the simulator on the same store),
// a code and its message are one write, as sent; with one that records them elsewhere, the
// code is recorded pending, delivered, then marked sent. Either way the code is in the
// outbox it was delivered to.
func TestService_GetMigrationVerifyCode_RecordedWithItsMessage(t *testing.T) {
	for _, tc := range []struct {
		name                           string
		sameOutbox                     bool
		saves, savesWithMessage, marks int
	}{
		{"the simulator on the store", true, 0, 1, 0},
		{"the simulator on another outbox", false, 1, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			store := &countingStore{DB: e.db}
			outbox := camsd.Outbox(store)
			if !tc.sameOutbox {
				outbox = newEnv(t).db
			}
			rec := &spyRecorder{Provider: &sim.Provider{Outbox: outbox, Now: e.clock}}
			e.svc.Store, e.svc.Provider = store, rec
			if _, err := e.svc.GetMigrationVerifyCode(context.Background(), e.acme, params()); err != nil {
				t.Fatal(err)
			}
			if store.saves != tc.saves || store.savesWithMessage != tc.savesWithMessage || store.status != tc.marks {
				t.Errorf("SaveCode %d, SaveCodeMessage %d, SetCodeStatus %d; want %d, %d, %d",
					store.saves, store.savesWithMessage, store.status, tc.saves, tc.savesWithMessage, tc.marks)
			}
			vc, err := e.db.LastCode(context.Background(), storetest.AcmeSpace, storetest.Number1)
			if err != nil || vc.Status != camsd.DeliverySent {
				t.Fatalf("LastCode = %+v, %v; want sent", vc, err)
			}
			msgs, err := outbox.Messages(context.Background(), storetest.Number1, 0)
			if err != nil || len(msgs) != 1 || msgs[0].Code != vc.Code {
				t.Errorf("outbox = %+v, %v; want the code %s", msgs, err, vc.Code)
			}
			if tc.sameOutbox && (len(rec.recorded) != 1 || rec.recorded[0] != nil) {
				t.Errorf("Recorded told %v; want one message, recorded", rec.recorded)
			}
		})
	}
	t.Run("a failed write: nothing recorded, the recorder told", func(t *testing.T) {
		e := newEnv(t)
		store := &countingStore{DB: e.db, failWithMessage: errors.New("disk full")}
		rec := &spyRecorder{Provider: &sim.Provider{Outbox: store, Now: e.clock}}
		e.svc.Store, e.svc.Provider = store, rec
		if _, err := e.svc.GetMigrationVerifyCode(context.Background(), e.acme, params()); code(err) != camsd.CodeInternalError {
			t.Fatalf("got %v, want an internal error", err)
		}
		if len(rec.recorded) != 1 || rec.recorded[0] == nil {
			t.Errorf("Recorded told %v; want one failure", rec.recorded)
		}
		if _, err := e.db.LastCode(context.Background(), storetest.AcmeSpace, storetest.Number1); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("LastCode = %v; want no code recorded", err)
		}
	})
	t.Run("a refused code: the recorder is not told", func(t *testing.T) {
		e := newEnv(t)
		rec := &spyRecorder{Provider: &sim.Provider{Outbox: e.db, Now: e.clock}}
		e.svc.Provider = rec
		for i, want := range []string{camsd.CodeOK, camsd.CodeVerifyCodeSendTooFreq} {
			if _, err := e.svc.GetMigrationVerifyCode(context.Background(), e.acme, params()); code(err) != want {
				t.Fatalf("call %d: %v; want %s", i, err, want)
			}
		}
		if len(rec.recorded) != 1 {
			t.Errorf("Recorded told %d times; want once, for the code sent", len(rec.recorded))
		}
	})
}

// laggingStore answers PhoneNumber from a record that lags (as a replica's cache may behind
// another replica's change) and PhoneNumberNow from the store.
type laggingStore struct {
	*sqlite.DB
	lagging camsd.PhoneNumber
	now     int // PhoneNumberNow calls
}

func (s *laggingStore) PhoneNumber(context.Context, string, string) (*camsd.PhoneNumber, error) {
	n := s.lagging
	return &n, nil
}

func (s *laggingStore) PhoneNumberNow(ctx context.Context, space, number string) (*camsd.PhoneNumber, error) {
	s.now++
	return s.DB.PhoneNumber(ctx, space, number)
}

// A number initiated through another replica a moment ago, whose record here still lags:
// the code is sent (the refusal is decided again on the current record), and the status
// reads the current record. Without a way to read past the cache, the refusal stands.
func TestService_GetMigrationVerifyCode_LaggingRecord(t *testing.T) {
	e := newEnv(t)
	store := &laggingStore{DB: e.db, lagging: camsd.PhoneNumber{CustSpaceID: storetest.AcmeSpace, Number: storetest.Number1, ID: "pn-acme-1", Status: camsd.StatusConnected}}
	e.svc.Store = store
	e.svc.Provider = &sim.Provider{Outbox: store, Now: e.clock}
	if _, err := e.svc.GetMigrationVerifyCode(context.Background(), e.acme, params()); err != nil {
		t.Fatalf("GetMigrationVerifyCode on a lagging record: %v", err)
	}
	if store.now != 1 {
		t.Errorf("PhoneNumberNow called %d times; want once, for the refusal", store.now)
	}
	st, err := e.svc.GetPhoneNumberVerificationStatus(context.Background(), e.acme, in(storetest.AcmeSpace, storetest.Number1))
	if err != nil || store.now != 2 {
		t.Errorf("status: %+v, %v, PhoneNumberNow called %d times; want the current record read", st, err, store.now)
	}

	// A store that cannot read past its cache: the lagging record decides.
	e2 := newEnv(t)
	e2.svc.Store = &struct{ camsd.Store }{&laggingStore{DB: e2.db, lagging: store.lagging}}
	if _, err := e2.svc.GetMigrationVerifyCode(context.Background(), e2.acme, params()); code(err) != camsd.CodePhoneNumberNotMigrating {
		t.Errorf("without PhoneNumberNow: %v; want %s", err, camsd.CodePhoneNumberNotMigrating)
	}
}
