package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/storetest"
)

const resend = time.Minute

var (
	acme1     = numberKey{storetest.AcmeSpace, storetest.Number1}
	farFuture = storetest.T0.Add(24 * time.Hour)
)

// tableNewestLive is what SaveCode's compare-and-set rests on, read from the table: the
// SentAt of the newest code of k that did not fail, or noCode.
func tableNewestLive(t *testing.T, db *DB, k numberKey) int64 {
	t.Helper()
	var n sql.NullInt64
	err := db.get(t.Context(), `SELECT max(sent_at) FROM verify_codes WHERE cust_space_id = ? AND number = ? AND status <> ?`,
		[]any{k.space, k.number, string(camsd.DeliveryFailed)}, &n)
	if err != nil {
		t.Fatal(err)
	}
	if !n.Valid {
		return noCode
	}
	return n.Int64
}

// memNewestLive is the same from memory, and whether memory knew it without reading the table.
func memNewestLive(t *testing.T, db *DB, k numberKey) (int64, bool) {
	t.Helper()
	db.codes.mu.Lock()
	e := db.codes.numbers[k]
	known := e != nil && !e.stale && e.loading == nil
	db.codes.mu.Unlock()
	e, err := db.codes.fresh(t.Context(), k, db.loadCodes)
	if err != nil {
		t.Fatal(err)
	}
	defer db.codes.mu.Unlock()
	return e.newestLive(), known
}

// wantIndex checks that memory agrees with the table on k, and with want (unix ns or noCode).
func wantIndex(t *testing.T, db *DB, k numberKey, want int64) {
	t.Helper()
	mem, _ := memNewestLive(t, db, k)
	if table := tableNewestLive(t, db, k); mem != table || mem != want {
		t.Errorf("newest live SentAt of %s: memory %d, table %d; want %d", k.number, mem, table, want)
	}
}

func saveCode(t *testing.T, db *DB, c camsd.VerifyCode, notSentAfter time.Time) {
	t.Helper()
	if err := db.SaveCode(t.Context(), c, notSentAfter); err != nil {
		t.Fatalf("SaveCode(%s): %v", c.Code, err)
	}
}

func code(n int, at time.Duration, st camsd.DeliveryStatus) camsd.VerifyCode {
	c := storetest.Code(storetest.AcmeSpace, storetest.Number1, fmt.Sprintf("%06d", n), storetest.T0.Add(at))
	c.Status = st
	return c
}

// TestCodeIndex_reopen checks that what memory knows of a number's codes, as SaveCode and
// SetCodeStatus change it and as it is read back from the table after a restart, is what the
// table says, and that the resend interval holds after the restart.
func TestCodeIndex_reopen(t *testing.T) {
	var (
		failed  = camsd.DeliveryFailed
		sent    = camsd.DeliverySent
		pending = camsd.DeliveryPending
	)
	type status struct {
		at time.Duration // of the code
		st camsd.DeliveryStatus
	}
	for _, tc := range []struct {
		name    string
		codes   []camsd.VerifyCode // saved in this order, notSentAfter far ahead
		status  []status           // then set, in this order
		newest  time.Duration      // the newest live code's SentAt - T0
		blocked bool               // whether any code is live
	}{
		{"one sent code", []camsd.VerifyCode{code(1, 0, pending)}, []status{{0, sent}}, 0, true},
		{"none live", []camsd.VerifyCode{code(1, 0, pending), code(2, time.Second, failed)}, []status{{0, failed}}, 0, false},
		{"the newest failed, the one before live",
			[]camsd.VerifyCode{code(1, 0, sent), code(2, 10*time.Second, pending)}, []status{{10 * time.Second, failed}}, 0, true},
		{"the newest live older than the codes kept", append([]camsd.VerifyCode{code(0, 0, sent)}, failedCodes(keepCodes+2)...), nil, 0, true},
		{"a live code older than the codes kept, saved last", append(failedCodes(keepCodes+2), code(9, -time.Second, pending)), nil, -time.Second, true},
		{"the newest live among the codes not kept fails", append([]camsd.VerifyCode{code(0, -time.Second, sent), code(1, 0, sent)}, failedCodes(keepCodes+2)...),
			[]status{{0, failed}}, -time.Second, true},
		{"a code not kept becomes live again", append([]camsd.VerifyCode{code(0, -2*time.Second, failed), code(1, -time.Second, failed)}, failedCodes(keepCodes+2)...),
			[]status{{-2 * time.Second, sent}}, -2 * time.Second, true},
		{"same SentAt: the status of the last inserted", []camsd.VerifyCode{code(1, 0, pending), code(2, 0, pending)}, []status{{0, failed}}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "camsd.db")
			db := openAt(t, path, nil)
			if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.codes {
				saveCode(t, db, c, farFuture)
			}
			for _, s := range tc.status {
				if err := db.SetCodeStatus(t.Context(), acme1.space, acme1.number, storetest.T0.Add(s.at), s.st); err != nil {
					t.Fatal(err)
				}
			}
			want := int64(noCode)
			if tc.blocked {
				want = storetest.T0.Add(tc.newest).UnixNano()
			}
			wantIndex(t, db, acme1, want)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			db = openAt(t, path, nil)
			wantIndex(t, db, acme1, want)
			// Within the interval of the newest live code, if any.
			retry := code(100, tc.newest+resend-time.Second, pending)
			err := db.SaveCode(t.Context(), retry, retry.SentAt.Add(-resend))
			if tc.blocked && !errors.Is(err, camsd.ErrConflict) || !tc.blocked && err != nil {
				t.Errorf("SaveCode within the interval after reopen = %v; want ErrConflict: %v", err, tc.blocked)
			}
		})
	}
}

// failedCodes returns n failed codes sent one second apart from T0 + 1s.
func failedCodes(n int) []camsd.VerifyCode {
	var cs []camsd.VerifyCode
	for i := range n {
		cs = append(cs, code(10+i, time.Duration(i+1)*time.Second, camsd.DeliveryFailed))
	}
	return cs
}

// TestCodeIndex_failedCommit checks that what a write that does not commit changed in memory
// is undone, and that a code decided against it is not made.
func TestCodeIndex_failedCommit(t *testing.T) {
	seeded := func(t *testing.T, config func(*DB)) *DB {
		db := openTemp(t, config)
		if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
			t.Fatal(err)
		}
		return db
	}
	// failing runs writes in a transaction that fails: queue them while the writer holds
	// an op, then a breaker, then runs after, if not nil. It returns the Durability the
	// writes were made with.
	failing := func(t *testing.T, db *DB, writes func(ctx context.Context), after func()) *camsd.Durability {
		t.Helper()
		release := holdErr(db.w)
		released := false
		defer func() {
			if !released { // a Fatal in writes or after: let Close have the writer
				_ = release()
			}
		}()
		ctx, d := camsd.WithDurability(t.Context())
		writes(ctx)
		if err := db.w.enqueue(t.Context(), breaker(true)); err != nil {
			t.Fatal(err)
		}
		if after != nil {
			after()
		}
		released = true
		if err := release(); err == nil {
			t.Fatal("the broken transaction committed")
		}
		return d
	}

	t.Run("a code whose commit fails does not block", func(t *testing.T) {
		db := seeded(t, nil)
		c := code(1, 0, camsd.DeliveryPending)
		d := failing(t, db, func(ctx context.Context) {
			if err := db.SaveCode(ctx, c, c.SentAt.Add(-resend)); err != nil {
				t.Fatalf("SaveCode = %v; want nil, decided in memory", err)
			}
		}, nil)
		if err := d.Wait(); err == nil {
			t.Fatal("Wait = nil; want the failed commit")
		}
		wantIndex(t, db, acme1, noCode)
		retry := code(2, time.Second, camsd.DeliveryPending)
		saveCode(t, db, retry, retry.SentAt.Add(-resend))
	})
	t.Run("a failed status whose commit fails still blocks", func(t *testing.T) {
		db := seeded(t, nil)
		c := code(1, 0, camsd.DeliveryPending)
		saveCode(t, db, c, farFuture)
		d := failing(t, db, func(ctx context.Context) {
			if err := db.SetCodeStatus(ctx, acme1.space, acme1.number, c.SentAt, camsd.DeliveryFailed); err != nil {
				t.Fatalf("SetCodeStatus = %v", err)
			}
		}, nil)
		if err := d.Wait(); err == nil {
			t.Fatal("Wait = nil; want the failed commit")
		}
		wantIndex(t, db, acme1, c.SentAt.UnixNano())
		retry := code(2, time.Second, camsd.DeliveryPending)
		if err := db.SaveCode(t.Context(), retry, retry.SentAt.Add(-resend)); !errors.Is(err, camsd.ErrConflict) {
			t.Errorf("SaveCode = %v; want ErrConflict: the code did not fail after all", err)
		}
	})
	t.Run("a code decided against a write that fails later is not made", func(t *testing.T) {
		// Batches of 3: the holding op, the failed status and the breaker; the retry
		// decided after them runs in the next transaction, which commits.
		db := seeded(t, func(db *DB) { db.maxBatch = 3 })
		c := code(1, 0, camsd.DeliveryPending)
		saveCode(t, db, c, farFuture)
		retry := code(2, time.Second, camsd.DeliveryPending)
		var retried *camsd.Durability
		d := failing(t, db, func(ctx context.Context) {
			if err := db.SetCodeStatus(ctx, acme1.space, acme1.number, c.SentAt, camsd.DeliveryFailed); err != nil {
				t.Fatalf("SetCodeStatus = %v", err)
			}
		}, func() {
			var ctx context.Context
			ctx, retried = camsd.WithDurability(t.Context())
			if err := db.SaveCode(ctx, retry, retry.SentAt.Add(-resend)); err != nil {
				t.Fatalf("SaveCode after the failure = %v; want nil, decided in memory", err)
			}
		})
		if err := d.Wait(); err == nil {
			t.Fatal("Wait of the status = nil; want the failed commit")
		}
		if err := retried.Wait(); !errors.Is(err, errUndone) {
			t.Errorf("Wait of the retry = %v; want errUndone", err)
		}
		wantIndex(t, db, acme1, c.SentAt.UnixNano())
		if last, err := db.LastCode(t.Context(), acme1.space, acme1.number); err != nil || last.Code != c.Code {
			t.Errorf("LastCode = %+v, %v; want the first code", last, err)
		}
	})
}

// TestCodeIndex_bounded checks that memory drops numbers without writes in flight once it holds
// max of them, and that they are read again from the table.
func TestCodeIndex_bounded(t *testing.T) {
	db := openTemp(t, func(db *DB) { db.codes.max = 2 })
	if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	keys := []numberKey{acme1, {storetest.AcmeSpace, storetest.Number2}, {storetest.BetaSpace, storetest.Number1}}
	for i, k := range keys {
		c := storetest.Code(k.space, k.number, fmt.Sprint(i), storetest.T0)
		saveCode(t, db, c, c.SentAt.Add(-resend))
		if n := db.codes.len(); n > 2 {
			t.Fatalf("%d numbers in memory; want at most 2", n)
		}
	}
	for _, k := range keys {
		retry := storetest.Code(k.space, k.number, "retry", storetest.T0.Add(time.Second))
		if err := db.SaveCode(t.Context(), retry, retry.SentAt.Add(-resend)); !errors.Is(err, camsd.ErrConflict) {
			t.Errorf("SaveCode(%s) within the interval = %v; want ErrConflict", k.number, err)
		}
	}
	if n := db.codes.len(); n > 2 {
		t.Errorf("%d numbers in memory; want at most 2", n)
	}
}

// TestCodeIndex_concurrent runs requests (a code, then its delivery status, sometimes a status
// change of an older code) on a few numbers at once, and checks that memory and the table
// agree when they are done.
func TestCodeIndex_concurrent(t *testing.T) {
	db := openTemp(t, nil)
	seed := crashSeed()
	sp := &seed.Accounts[0].Spaces[0]
	sp.PhoneNumbers = nil
	const numbers, callers, requests = 3, 16, 40
	var keys []numberKey
	for i := range numbers {
		sp.PhoneNumbers = append(sp.PhoneNumbers, camsd.PhoneNumber{CustSpaceID: sp.CustSpaceID, Number: number(i), ID: fmt.Sprint(i), Status: camsd.StatusMigrating})
		keys = append(keys, numberKey{sp.CustSpaceID, number(i)})
	}
	if err := db.ApplySeed(t.Context(), seed); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range requests {
				k := keys[r.IntN(numbers)]
				ctx, d := camsd.WithDurability(t.Context())
				if r.IntN(4) == 0 {
					ctx = t.Context() // some wait for each write
				}
				at := storetest.T0.Add(time.Duration(r.IntN(600)) * time.Second)
				c := storetest.Code(k.space, k.number, fmt.Sprintf("%d-%d", g, i), at)
				err := db.SaveCode(ctx, c, at.Add(-time.Duration(r.IntN(120))*time.Second))
				if errors.Is(err, camsd.ErrConflict) {
					continue
				} else if err != nil {
					t.Errorf("SaveCode: %v", err)
					return
				}
				st := []camsd.DeliveryStatus{camsd.DeliverySent, camsd.DeliveryFailed}[r.IntN(2)]
				if err := db.SetCodeStatus(ctx, k.space, k.number, at, st); err != nil {
					t.Errorf("SetCodeStatus: %v", err)
				}
				if r.IntN(8) == 0 { // a code that may be older than memory keeps, or none
					old := storetest.T0.Add(time.Duration(r.IntN(600)) * time.Second)
					err := db.SetCodeStatus(ctx, k.space, k.number, old, camsd.DeliveryFailed)
					if err != nil && !errors.Is(err, camsd.ErrNotFound) {
						t.Errorf("SetCodeStatus(old): %v", err)
					}
				}
				if err := d.Wait(); err != nil && !errors.Is(err, camsd.ErrNotFound) {
					t.Errorf("Wait: %v", err)
				}
			}
		})
	}
	wg.Wait()
	for _, k := range keys {
		mem, known := memNewestLive(t, db, k)
		if table := tableNewestLive(t, db, k); mem != table {
			t.Errorf("newest live SentAt of %s: memory %d (known %v), table %d", k.number, mem, known, table)
		}
	}
}
