package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/postgres"
	"github.com/camsd/camsd/storetest"
	"github.com/jackc/pgx/v5"
)

// setFrom is write_group's set_from: groups of this many codes take its set statements.
const setFrom = 8

// withNumbers opens a store on a fresh schema whose fixture space holds n more MIGRATING
// numbers, and returns the schema, the store and the numbers (the group tests' setup).
func withNumbers(t testing.TB, n int, opts postgres.Options) (string, *postgres.DB, []string) {
	t.Helper()
	schema := freshSchema(t)
	db := open(t, schema, opts)
	seed := storetest.Fixture()
	sp := &seed.Accounts[0].Spaces[0]
	numbers := make([]string, n)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("86139444%05d", i)
		sp.PhoneNumbers = append(sp.PhoneNumbers, camsd.PhoneNumber{CustSpaceID: sp.CustSpaceID, Number: numbers[i], ID: "id" + numbers[i], Status: camsd.StatusMigrating})
	}
	if err := db.ApplySeed(t.Context(), seed); err != nil {
		t.Fatal(err)
	}
	return schema, db, numbers
}

// The nonce a code's call carries (Redis admitted it) is recorded in the code's own row
// (migration 0016), in groups too small for write_group's set statements and large enough for
// them: nothing goes to nonces or nonce_keys, and the nonce is used from then on, whether it
// comes back with a code (SaveCode's replay) or alone (Use, as while Redis is away), one by
// one or in a group.
func TestGroup_codeNonceInItsRow(t *testing.T) {
	for _, size := range []int{1, setFrom} {
		t.Run(fmt.Sprint(size, " codes"), func(t *testing.T) {
			schema, db, numbers := withNumbers(t, 2*size, postgres.Options{})
			now := time.Now()
			exp := now.Add(time.Minute)
			var codes, replays, uses []postgres.GroupWrite
			for i := range size {
				nonce := fmt.Sprint("nonce-", i)
				codes = append(codes, postgres.GroupWrite{Code: codeAt(numbers[i], now), NotSentAfter: now.Add(-time.Minute),
					AccessKeyID: "k", Nonce: nonce, Expires: exp, Now: now})
				replays = append(replays, postgres.GroupWrite{Code: codeAt(numbers[size+i], now), NotSentAfter: now.Add(-time.Minute),
					AccessKeyID: "k", Nonce: nonce, Expires: exp, Now: now})
				uses = append(uses, postgres.GroupWrite{AccessKeyID: "k", Nonce: nonce, Expires: exp, Now: now})
			}
			if v, errs := postgres.MakeGroup(db, codes...); !all(v, "ok") || errs[0] != nil {
				t.Fatalf("codes: %v, %v; want all ok", v, errs)
			}
			if n, k := count(t, schema, "nonces"), count(t, schema, "nonce_keys"); n != 0 || k != 0 {
				t.Errorf("%d rows in nonces, %d in nonce_keys; want the nonces in the codes' rows alone", n, k)
			}
			var recorded int
			if err := admin(t).QueryRow(t.Context(), `SELECT count(*) FROM `+pgx.Identifier{schema, "verify_codes"}.Sanitize()+
				` WHERE nonce_key = 'k' AND nonce LIKE 'nonce-%'`).Scan(&recorded); err != nil || recorded != size {
				t.Errorf("%d codes record their nonce (%v); want %d", recorded, err, size)
			}
			if v, _ := postgres.MakeGroup(db, replays...); !all(v, "used") {
				t.Errorf("codes for other numbers replaying the nonces: %v; want all used", v)
			}
			if v, _ := postgres.MakeGroup(db, uses...); !all(v, "used") {
				t.Errorf("the nonces used alone (Use): %v; want all used", v)
			}
			if got := count(t, schema, "verify_codes"); got != size {
				t.Errorf("%d codes; want the %d first only", got, size)
			}
		})
	}
}

// A code's nonce is held to the bound on a key's live nonces by Redis, which admitted it, not
// by PostgreSQL: codes carrying nonces do not count toward MaxNonces, and the nonces Use
// records still meet the bound exactly.
func TestGroup_codeNoncesOutsideTheBound(t *testing.T) {
	_, db, numbers := withNumbers(t, 3, postgres.Options{MaxNonces: 2})
	now := time.Now()
	exp := now.Add(time.Minute)
	for i, n := range numbers {
		w := postgres.GroupWrite{Code: codeAt(n, now), NotSentAfter: now.Add(-time.Minute), AccessKeyID: "k", Nonce: fmt.Sprint("code-", i), Expires: exp, Now: now}
		if v, errs := postgres.MakeGroup(db, w); v[0] != "ok" || errs[0] != nil {
			t.Fatalf("code %d: %q, %v; want ok", i, v[0], errs[0])
		}
	}
	for i, want := range []string{"ok", "ok", "full"} {
		if v, _ := postgres.MakeGroup(db, postgres.GroupWrite{AccessKeyID: "k", Nonce: fmt.Sprint("use-", i), Expires: exp, Now: now}); v[0] != want {
			t.Errorf("Use %d of the key: %q; want %q", i, v[0], want)
		}
	}
}

// Two calls that record one nonce at once (two requests reusing it, for two numbers) meet on
// the codes' unique index: the one whose group commits second waits for the first, finds the
// nonce recorded and is refused as used, and the rest of its group is made (a group of set
// statements fails on the index and is made again write by write).
func TestGroup_codeNonceRecordedConcurrently(t *testing.T) {
	for _, size := range []int{1, setFrom} {
		t.Run(fmt.Sprint(size, " codes"), func(t *testing.T) {
			schema, db, numbers := withNumbers(t, size+1, postgres.Options{})
			now := time.Now()
			tx, err := admin(t).Begin(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(t.Context())
			recordWithCode(t, tx, schema, numbers[size], "dup", now)
			var ws []postgres.GroupWrite
			for i := range size {
				nonce := fmt.Sprint("fresh-", i)
				if i == size-1 {
					nonce = "dup"
				}
				ws = append(ws, postgres.GroupWrite{Code: codeAt(numbers[i], now), NotSentAfter: now.Add(-time.Minute),
					AccessKeyID: "k", Nonce: nonce, Expires: now.Add(time.Minute), Now: now})
			}
			type result struct {
				v    []string
				errs []error
			}
			done := make(chan result, 1)
			go func() {
				v, errs := postgres.MakeGroup(db, ws...)
				done <- result{v, errs}
			}()
			select {
			case r := <-done:
				t.Fatalf("the group returned %v, %v while another transaction held its nonce", r.v, r.errs)
			case <-time.After(300 * time.Millisecond):
			}
			if err := tx.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
			r := <-done
			for i, v := range r.v {
				want := "ok"
				if i == size-1 {
					want = "used"
				}
				if v != want || r.errs[i] != nil {
					t.Errorf("write %d: %q, %v; want %q", i, v, r.errs[i], want)
				}
			}
			if got := count(t, schema, "verify_codes"); got != size {
				t.Errorf("%d codes; want the other transaction's and the group's %d fresh ones", got, size-1)
			}
			if fell, want := db.GroupStats().Fallbacks, uint64(min(size-1, 1)); fell != want {
				t.Errorf("%d groups fell back to one by one; want %d", fell, want)
			}
		})
	}
}

// recordWithCode records, in tx, a code for number sent at now that carries the nonce of
// AccessKey "k", as write_group records one (migration 0016).
func recordWithCode(t *testing.T, tx pgx.Tx, schema, number, nonce string, now time.Time) {
	t.Helper()
	if _, err := tx.Exec(t.Context(), `INSERT INTO `+pgx.Identifier{schema, "verify_codes"}.Sanitize()+`
		(cust_space_id, number, code, method, locale, sent_at, expires_at, request_id, access_key_id, status, nonce_key, nonce)
		VALUES ($1, $2, '111111', 'sms', 'en_US', $3, $3, 'other', 'k', 'pending', 'k', $4)`,
		storetest.AcmeSpace, number, now.UnixNano(), nonce); err != nil {
		t.Fatal(err)
	}
}

func all(vs []string, want string) bool {
	for _, v := range vs {
		if v != want {
			return false
		}
	}
	return len(vs) > 0
}

// A code records its nonce in its own row and Use in nonces: two calls that record one nonce
// at once, one each way (a request sent to two replicas, one of which finds Redis away), are
// decided one after the other on the nonce's lock, the second refused as used. Here the test
// is the first call: it takes the nonce's lock as write_group does and records the nonce its
// way, then commits while the group waits.
func TestGroup_codeAndUseRecordOneNonceAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		record func(t *testing.T, tx pgx.Tx, schema, number string, now time.Time) // the test's call's
		group  func(number string, now time.Time) postgres.GroupWrite
	}{
		{"a code first, then Use",
			func(t *testing.T, tx pgx.Tx, schema, number string, now time.Time) {
				recordWithCode(t, tx, schema, number, "x", now)
			},
			func(_ string, now time.Time) postgres.GroupWrite {
				return postgres.GroupWrite{AccessKeyID: "k", Nonce: "x", Expires: now.Add(time.Minute), Now: now}
			}},
		{"Use first, then a code",
			func(t *testing.T, tx pgx.Tx, schema, _ string, now time.Time) {
				if _, err := tx.Exec(t.Context(), `INSERT INTO `+pgx.Identifier{schema, "nonces"}.Sanitize()+
					` (access_key_id, nonce, expires_at) VALUES ('k', 'x', $1)`, now.Add(time.Minute).UnixNano()); err != nil {
					t.Fatal(err)
				}
			},
			func(number string, now time.Time) postgres.GroupWrite {
				return postgres.GroupWrite{Code: codeAt(number, now), NotSentAfter: now.Add(-time.Minute),
					AccessKeyID: "k", Nonce: "x", Expires: now.Add(time.Minute), Now: now}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			schema, db, numbers := withNumbers(t, 2, postgres.Options{})
			now := time.Now()
			tx, err := admin(t).Begin(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(t.Context())
			if _, err := tx.Exec(t.Context(), `SELECT pg_advisory_xact_lock(hashtext('k'), hashtext('x'))`); err != nil {
				t.Fatal(err)
			}
			tc.record(t, tx, schema, numbers[1], now)
			done := make(chan string, 1)
			go func() {
				v, _ := postgres.MakeGroup(db, tc.group(numbers[0], now))
				done <- v[0]
			}()
			select {
			case v := <-done:
				t.Fatalf("the group decided %q while another call was recording its nonce", v)
			case <-time.After(300 * time.Millisecond):
			}
			if err := tx.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
			if v := <-done; v != "used" {
				t.Errorf("the second call to record the nonce: %q; want used", v)
			}
		})
	}
}
