package postgres_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/postgres"
	"github.com/camsd/camsd/storetest"
	"github.com/jackc/pgx/v5"
)

// The tests here run two DBs, each with its own pool, on one schema: two replicas. What one
// decides, the other must respect, exactly.

// replicas opens n DBs on one fresh schema, seeded with storetest.Fixture.
func replicas(t *testing.T, n int, opts postgres.Options) []*postgres.DB {
	t.Helper()
	schema := freshSchema(t)
	var dbs []*postgres.DB
	for range n {
		dbs = append(dbs, open(t, schema, opts))
	}
	if err := dbs[0].ApplySeed(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	return dbs
}

// race runs f(0) … f(n-1) at once, released together, and returns their errors.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one error is nil and every other is loser.
func oneWinner(t *testing.T, trial int, errs []error, loser error) {
	t.Helper()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, loser):
			t.Fatalf("trial %d, caller %d: %v; want nil or %v", trial, i, err, loser)
		}
	}
	if won != 1 {
		t.Fatalf("trial %d: %d of %d callers won; want exactly 1", trial, won, len(errs))
	}
}

func TestReplicas_nonceAcceptedOnce(t *testing.T) {
	c := &clock{t: storetest.T0}
	dbs := replicas(t, 2, postgres.Options{Now: c.Now})
	const trials, callers = 40, 8
	for trial := range trials {
		nonce := fmt.Sprintf("nonce-%d", trial)
		errs := race(callers, func(i int) error {
			return dbs[i%2].Use(t.Context(), nil, storetest.AcmeKey, nonce, storetest.T0.Add(15*time.Minute))
		})
		oneWinner(t, trial, errs, camsd.ErrNonceUsed)
	}
}

func TestReplicas_nonceBound(t *testing.T) {
	// The bound on live nonces holds across replicas: of many distinct nonces used at once,
	// exactly MaxNonces are accepted.
	c := &clock{t: storetest.T0}
	const max = 5
	dbs := replicas(t, 2, postgres.Options{Now: c.Now, MaxNonces: max})
	errs := race(40, func(i int) error {
		return dbs[i%2].Use(t.Context(), nil, storetest.AcmeKey, fmt.Sprintf("n%d", i), storetest.T0.Add(time.Minute))
	})
	accepted := 0
	for i, err := range errs {
		switch {
		case err == nil:
			accepted++
		case !errors.Is(err, camsd.ErrNonceStoreFull):
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	if accepted != max {
		t.Errorf("%d nonces accepted; want %d", accepted, max)
	}
	// Once they expire there is room again, on either replica.
	c.Set(storetest.T0.Add(2 * time.Minute))
	for i := range max {
		if err := dbs[i%2].Use(t.Context(), nil, storetest.AcmeKey, fmt.Sprintf("m%d", i), storetest.T0.Add(time.Hour)); err != nil {
			t.Fatalf("after expiry, nonce %d: %v", i, err)
		}
	}
	if err := dbs[0].Use(t.Context(), nil, storetest.AcmeKey, "one-too-many", storetest.T0.Add(time.Hour)); !errors.Is(err, camsd.ErrNonceStoreFull) {
		t.Errorf("Use over the bound = %v; want ErrNonceStoreFull", err)
	}
}

func TestReplicas_saveCodeOnce(t *testing.T) {
	dbs := replicas(t, 2, postgres.Options{})
	const trials, callers = 20, 8
	for trial := range trials {
		sentAt := storetest.T0.Add(time.Duration(trial) * time.Hour) // each trial past the last's interval
		errs := race(callers, func(i int) error {
			c := storetest.Code(storetest.AcmeSpace, storetest.Number1, fmt.Sprintf("%03d%03d", trial, i), sentAt)
			return dbs[i%2].SaveCode(t.Context(), nil, c, sentAt.Add(-time.Minute))
		})
		oneWinner(t, trial, errs, camsd.ErrConflict)
	}
}

func TestReplicas_codeSpentOnce(t *testing.T) {
	dbs := replicas(t, 2, postgres.Options{})
	const trials, callers = 20, 8
	for trial := range trials {
		sentAt := storetest.T0.Add(time.Duration(trial) * time.Hour)
		c := storetest.Code(storetest.AcmeSpace, storetest.Number1, fmt.Sprintf("%06d", trial), sentAt)
		if err := dbs[trial%2].SaveCode(t.Context(), nil, c, sentAt.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		errs := race(callers, func(i int) error {
			return dbs[i%2].ChangeNumber(t.Context(), nil, storetest.AcmeSpace, storetest.Number1, storetest.T0,
				func(tx *camsd.NumberTxn) error {
					if tx.LastCode == nil || tx.LastCode.Code != c.Code || !tx.LastCode.UsedAt.IsZero() {
						return camsd.ErrConflict
					}
					tx.LastCode.UsedAt = sentAt.Add(time.Second)
					tx.Record(storetest.AcmeSpace).VerifiedAt = sentAt.Add(time.Second)
					return nil
				})
		})
		oneWinner(t, trial, errs, camsd.ErrConflict)
	}
}

func TestReplicas_changesNotLost(t *testing.T) {
	// Every change is a read-modify-write of the number; none may be lost between replicas.
	dbs := replicas(t, 2, postgres.Options{})
	const callers = 30
	errs := race(callers, func(i int) error {
		space := []string{storetest.AcmeSpace, storetest.BetaSpace}[i%2]
		return dbs[(i/2)%2].ChangeNumber(t.Context(), nil, space, storetest.Number1, storetest.T0,
			func(tx *camsd.NumberTxn) error {
				r := tx.Record(storetest.AcmeSpace)
				if r.VerifiedAt.Before(storetest.T0) {
					r.VerifiedAt = storetest.T0
				}
				r.VerifiedAt = r.VerifiedAt.Add(time.Second)
				tx.Register = storetest.T0.Add(time.Duration(i) * time.Millisecond)
				return nil
			})
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	n, err := dbs[1].PhoneNumber(t.Context(), storetest.AcmeSpace, storetest.Number1)
	if err != nil {
		t.Fatal(err)
	}
	if want := storetest.T0.Add(callers * time.Second); !n.VerifiedAt.Equal(want) {
		t.Errorf("VerifiedAt after %d increments = %v; want %v", callers, n.VerifiedAt, want)
	}
	var seen camsd.NumberTxn
	dbs[0].ChangeNumber(t.Context(), nil, storetest.AcmeSpace, storetest.Number1, storetest.T0,
		func(tx *camsd.NumberTxn) error { seen = *tx; return nil })
	if len(seen.Registrations) != callers {
		t.Errorf("%d registrations; want %d", len(seen.Registrations), callers)
	}
}

func TestReplicas_newNumbersHaveDistinctIDs(t *testing.T) {
	dbs := replicas(t, 2, postgres.Options{})
	const callers = 10
	number := func(i int) string { return fmt.Sprintf("86138222200%02d", i) }
	ids := make([]string, callers) // as ChangeNumber left them in Records
	errs := race(callers, func(i int) error {
		var txn *camsd.NumberTxn
		err := dbs[i%2].ChangeNumber(t.Context(), nil, storetest.BetaSpace, number(i), storetest.T0,
			func(tx *camsd.NumberTxn) error {
				tx.Records = append(tx.Records, camsd.PhoneNumber{CustSpaceID: storetest.BetaSpace,
					Number: number(i), Status: camsd.StatusMigrating})
				txn = tx
				return nil
			})
		if err == nil {
			ids[i] = txn.Record(storetest.BetaSpace).ID
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	seen := map[string]bool{}
	for i := range callers {
		n, err := dbs[(i+1)%2].PhoneNumber(t.Context(), storetest.BetaSpace, number(i))
		if err != nil {
			t.Fatal(err)
		}
		if len(n.ID) != 15 || n.ID[0] == '0' || seen[n.ID] || n.ID != ids[i] {
			t.Errorf("number %d: stored id %q, Records id %q; want the same 15 digits, unique", i, n.ID, ids[i])
		}
		seen[n.ID] = true
	}
}

// count returns the rows of table in schema.
func count(t *testing.T, schema, table string) int {
	t.Helper()
	var n int
	if err := admin(t).QueryRow(t.Context(), `SELECT count(*) FROM `+pgx.Identifier{schema, table}.Sanitize()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDB_Use_pruning(t *testing.T) {
	schema := freshSchema(t)
	c := &clock{t: storetest.T0}
	db := open(t, schema, postgres.Options{Now: c.Now})
	use := func(key, nonce string, expires time.Time) {
		t.Helper()
		if err := db.Use(t.Context(), nil, key, nonce, expires); err != nil {
			t.Fatalf("Use(%s, %s): %v", key, nonce, err)
		}
	}
	for i := range 10 {
		use("idle", fmt.Sprint(i), storetest.T0.Add(time.Minute))
		use("busy", fmt.Sprint(i), storetest.T0.Add(time.Minute))
	}
	c.Set(storetest.T0.Add(2 * time.Minute)) // all 20 expired
	for i := range 64 {                      // a sweep is due within 64 Uses
		use("busy", fmt.Sprint("again-", i), storetest.T0.Add(time.Hour))
	}
	var idle int
	if err := admin(t).QueryRow(t.Context(), `SELECT count(*) FROM `+pgx.Identifier{schema, "nonces"}.Sanitize()+
		` WHERE access_key_id = 'idle'`).Scan(&idle); err != nil {
		t.Fatal(err)
	}
	if idle != 0 {
		t.Errorf("%d nonces of the idle key left after a sweep; want 0", idle)
	}
	if n := count(t, schema, "nonce_keys"); n != 1 {
		t.Errorf("%d keys left; want only the busy one", n)
	}
	// The busy key pruned its own expired nonces as it went: its rows are its live nonces.
	if n := count(t, schema, "nonces"); n != 64 {
		t.Errorf("%d nonces left; want the 64 live ones", n)
	}
}

// TestReplicas_seenOnceDecidedOrWaited: with a call, the writes that decide (SaveCode, Use)
// are committed, and seen by another replica, when they return; those left to the call's
// Wait (AddMessage, SetCodeStatus) once Wait returns.
func TestReplicas_seenOnceDecidedOrWaited(t *testing.T) {
	c := &clock{t: storetest.T0}
	dbs := replicas(t, 2, postgres.Options{Now: c.Now})
	ctx, d := t.Context(), &camsd.Call{}
	code := storetest.Code(storetest.AcmeSpace, storetest.Number1, "123456", storetest.T0)
	if err := dbs[0].SaveCode(ctx, d, code, storetest.T0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, err := dbs[1].LastCode(t.Context(), storetest.AcmeSpace, storetest.Number1); err != nil || got.Code != code.Code {
		t.Errorf("the other replica's LastCode = %v, %v; want the code", got, err)
	}
	if err := dbs[0].Use(ctx, d, storetest.AcmeKey, "n1", storetest.T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := dbs[1].Use(t.Context(), nil, storetest.AcmeKey, "n1", storetest.T0.Add(time.Minute)); !errors.Is(err, camsd.ErrNonceUsed) {
		t.Errorf("the other replica's Use = %v; want ErrNonceUsed", err)
	}
	m := camsd.Message{PhoneNumber: storetest.Number1, Method: "sms", Code: "123456", CreatedAt: storetest.T0}
	if err := dbs[0].AddMessage(ctx, d, m, 10); err != nil {
		t.Fatal(err)
	}
	if err := dbs[0].SetCodeStatus(ctx, d, code.CustSpaceID, code.PhoneNumber, code.SentAt, camsd.DeliverySent); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if ms, err := dbs[1].Messages(t.Context(), "", 0); err != nil || len(ms) != 1 {
		t.Errorf("the other replica's Messages = %v, %v; want the message", ms, err)
	}
	if got, err := dbs[1].LastCode(t.Context(), storetest.AcmeSpace, storetest.Number1); err != nil || got.Status != camsd.DeliverySent {
		t.Errorf("the other replica's LastCode = %v, %v; want it sent", got, err)
	}
}
