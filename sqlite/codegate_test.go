package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/storetest"
)

// TestCodeGate_exact hammers SaveCode on numbers the gate knows, with codes set to failed
// meanwhile, and checks what the stored codes say: no two codes that did not fail were sent
// within the interval of each other, and every refusal had a live code to blame.
func TestCodeGate_exact(t *testing.T) {
	db := openSeeded(t)
	ctx := t.Context()
	const interval = 10 // ns of the fake clock
	numbers := []string{storetest.Number1, storetest.Number2}
	// Teach the gate both numbers (the slow path), so that what follows takes the fast one.
	for _, n := range numbers {
		if err := db.SaveCode(ctx, nil, storetest.Code(storetest.AcmeSpace, n, "000000", time.Unix(0, 1)), time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	clock := int64(1)
	tick := func() int64 { // a shared clock, like time.Now
		mu.Lock()
		defer mu.Unlock()
		clock++
		return clock
	}
	type refusal struct {
		number string
		at     int64
	}
	var refused []refusal
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range 200 {
				n := numbers[r.IntN(len(numbers))]
				d := &camsd.Call{}
				at := tick()
				c := storetest.Code(storetest.AcmeSpace, n, fmt.Sprintf("%02d%04d", w, i), time.Unix(0, at))
				err := db.SaveCode(ctx, d, c, time.Unix(0, at-interval))
				switch {
				case errors.Is(err, camsd.ErrConflict):
					mu.Lock()
					refused = append(refused, refusal{n, at})
					mu.Unlock()
				case err != nil:
					t.Errorf("SaveCode: %v", err)
				case r.IntN(3) == 0: // the send failed
					if err := db.SetCodeStatus(ctx, d, storetest.AcmeSpace, n, c.SentAt, camsd.DeliveryFailed); err != nil {
						t.Errorf("SetCodeStatus: %v", err)
					}
				}
				if err := d.Wait(); err != nil {
					t.Errorf("Wait: %v", err)
				}
			}
		})
	}
	wg.Wait()

	live := sentAts(t, db, `WHERE status <> 'failed'`) // the codes that did not fail
	admitted := 0
	for n, ats := range live {
		admitted += len(ats)
		for i := 1; i < len(ats); i++ {
			if ats[i]-ats[i-1] < interval {
				t.Errorf("number %s: codes sent at %d and %d, within the interval %d", n, ats[i-1], ats[i], interval)
			}
		}
	}
	// A refusal at t needs a code that did not fail then, sent after t-interval (calls race,
	// so it may carry a later tick); it may have been set to failed since, so any code will do.
	all := sentAts(t, db, "")
	for _, r := range refused {
		blamed := false
		for _, at := range all[r.number] {
			if at > r.at-interval && at != r.at {
				blamed = true
			}
		}
		if !blamed {
			t.Errorf("number %s refused at %d with no code sent in the interval before", r.number, r.at)
		}
	}
	if admitted < 10 || len(refused) < 10 {
		t.Errorf("%d admitted, %d refused; want both paths taken", admitted, len(refused))
	}
}

// TestCodeGate_brokenTransaction checks that a slow-path SaveCode whose transaction broke
// before it ran fails, and leaves the number to be learned again rather than on the slow
// path for good.
func TestCodeGate_brokenTransaction(t *testing.T) {
	db := openSeeded(t)
	ctx := t.Context()
	k := codeKey{storetest.AcmeSpace, storetest.Number1}
	release := holdErr(db.w) // its transaction breaks too
	broken := make(chan error, 1)
	go func() { broken <- db.w.do(context.Background(), breaker(true)) }()
	queued(t, db.w, 1)
	saved := make(chan error, 1)
	go func() {
		cctx, d := ctx, &camsd.Call{}
		err := db.SaveCode(cctx, d, storetest.Code(storetest.AcmeSpace, storetest.Number1, "111111", storetest.T0), storetest.T0.Add(-time.Minute))
		saved <- errors.Join(err, d.Wait())
	}()
	queued(t, db.w, 2)
	if err := release(); err == nil {
		t.Fatal("the holding op's transaction did not break")
	}
	if err := <-broken; err == nil {
		t.Fatal("the breaking op succeeded")
	}
	if err := <-saved; err == nil {
		t.Fatal("SaveCode in a broken transaction succeeded")
	}
	db.codes.mu.Lock()
	e := *db.codes.keys[k]
	db.codes.mu.Unlock()
	if e.slow != 0 || e.known {
		t.Fatalf("gate entry after the broken transaction: %+v; want no slow path pending, nothing known", e)
	}
	// The number is learned again, and then decided in memory.
	if err := db.SaveCode(ctx, nil, storetest.Code(storetest.AcmeSpace, storetest.Number1, "222222", storetest.T0), storetest.T0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveCode(ctx, nil, storetest.Code(storetest.AcmeSpace, storetest.Number1, "333333", storetest.T0.Add(time.Second)), storetest.T0.Add(time.Second-time.Minute)); !errors.Is(err, camsd.ErrConflict) {
		t.Errorf("SaveCode within the interval = %v; want ErrConflict", err)
	}
	db.codes.mu.Lock()
	e = *db.codes.keys[k]
	db.codes.mu.Unlock()
	if !e.known || e.slow != 0 {
		t.Errorf("gate entry after a recorded code: %+v; want it known", e)
	}
}

// sentAts returns the sent_at of the stored codes that where selects, per number, in order.
func sentAts(t *testing.T, db *DB, where string) map[string][]int64 {
	t.Helper()
	if err := db.settle(t.Context()); err != nil {
		t.Fatal(err)
	}
	rows, err := db.query(t.Context(), `SELECT number, sent_at FROM verify_codes `+where+` ORDER BY number, sent_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string][]int64{}
	for rows.Next() {
		var n string
		var at int64
		if err := rows.Scan(&n, &at); err != nil {
			t.Fatal(err)
		}
		got[n] = append(got[n], at)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestSaveCode_conflictSaysWhen checks that SQLite's SaveCode tells when the code it lost to
// was sent, decided in memory or in SQL, so that SendTooFrequent's Retry-After need not read
// the number's last code (which would make the writer apply its journal).
func TestSaveCode_conflictSaysWhen(t *testing.T) {
	db := openSeeded(t)
	ctx := t.Context()
	first := storetest.Code(storetest.AcmeSpace, storetest.Number1, "111111", storetest.T0)
	if err := db.SaveCode(ctx, nil, first, storetest.T0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"in memory", "in SQL"} {
		if path == "in SQL" {
			db.codes.forget(codeKey{storetest.AcmeSpace, storetest.Number1})
		}
		at := storetest.T0.Add(10 * time.Second)
		err := db.SaveCode(ctx, nil, storetest.Code(storetest.AcmeSpace, storetest.Number1, "222222", at), at.Add(-time.Minute))
		var cc *camsd.CodeConflict
		if !errors.As(err, &cc) || !errors.Is(err, camsd.ErrConflict) || !cc.Newest.Equal(first.SentAt) {
			t.Errorf("%s: SaveCode = %#v; want a CodeConflict with the first code's time", path, err)
		}
	}
}
