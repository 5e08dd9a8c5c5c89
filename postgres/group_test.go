package postgres_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/postgres"
	"github.com/camsd/camsd/storetest"
	"github.com/jackc/pgx/v5"
)

func seeded(t *testing.T) *postgres.DB {
	t.Helper()
	db := openFresh(t, postgres.Options{})
	if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	return db
}

func codeAt(number string, sent time.Time) *camsd.VerifyCode {
	return &camsd.VerifyCode{CustSpaceID: storetest.AcmeSpace, PhoneNumber: number, Code: "123456", Method: "sms",
		Locale: "en_US", SentAt: sent, ExpiresAt: sent.Add(10 * time.Minute), RequestID: "r", AccessKeyID: "k",
		Status: camsd.DeliveryPending}
}

// Writes taken together are made in order and see each other: a nonce used twice is accepted
// once, a second code for a number inside the resend interval loses to the first, a status
// finds the code the group just recorded. (A second write of one thing waits for the next
// group: here, the second nonce and the second code.)
func TestGroup_writesSeeEachOther(t *testing.T) {
	db := seeded(t)
	now := time.Now()
	first := codeAt(storetest.Number1, now)
	second := codeAt(storetest.Number1, now.Add(time.Millisecond))
	verdicts, errs := postgres.MakeGroup(db,
		postgres.GroupWrite{AccessKeyID: "k", Nonce: "n1", Expires: now.Add(time.Minute), Now: now},
		postgres.GroupWrite{AccessKeyID: "k", Nonce: "n1", Expires: now.Add(time.Minute), Now: now},
		postgres.GroupWrite{Code: first, NotSentAfter: now.Add(-time.Minute)},
		postgres.GroupWrite{Code: second, NotSentAfter: now.Add(-time.Minute)},
		postgres.GroupWrite{Code: first, Status: camsd.DeliverySent},
		postgres.GroupWrite{Code: codeAt("8613900000000", now), NotSentAfter: now},
		postgres.GroupWrite{Message: &camsd.Message{PhoneNumber: storetest.Number1, Method: "sms", Locale: "en_US", Code: "123456", Text: "t", CreatedAt: now}},
	)
	want := []string{"ok", "used", "ok", "conflict", "ok", "notfound", "ok"}
	for i := range want {
		if errs[i] != nil || verdicts[i] != want[i] {
			t.Errorf("write %d: %q, %v; want %q", i, verdicts[i], errs[i], want[i])
		}
	}
	last, err := db.LastCode(t.Context(), storetest.AcmeSpace, storetest.Number1)
	if err != nil || !last.SentAt.Equal(now) || last.Status != camsd.DeliverySent {
		t.Errorf("LastCode = %+v, %v; want the first code, sent", last, err)
	}
	if s := db.GroupStats(); s.Groups != 2 || s.Writes != 7 || s.Fallbacks != 0 {
		t.Errorf("GroupStats = %+v", s)
	}
}

// Codes that carry their message and messages of their own, interleaved in one group: each
// write gets its own verdict, and a code's message is in the outbox only if the code is
// (refused: within the interval, an unknown number, a replayed nonce).
func TestGroup_codesCarryTheirMessages(t *testing.T) {
	db := seeded(t)
	now := time.Now()
	msg := func(code string) *camsd.Message {
		return &camsd.Message{PhoneNumber: storetest.Number1, Method: "sms", Locale: "en_US", Code: code, Text: "t", CreatedAt: now}
	}
	if _, errs := postgres.MakeGroup(db, postgres.GroupWrite{AccessKeyID: "k", Nonce: "used", Expires: now.Add(time.Minute), Now: now}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	other := *codeAt(storetest.Number2, now)
	replayed := *codeAt(storetest.Number1, now)
	replayed.CustSpaceID = storetest.BetaSpace
	verdicts, errs := postgres.MakeGroup(db,
		postgres.GroupWrite{Message: msg("own-1")},
		postgres.GroupWrite{Code: codeAt(storetest.Number1, now), NotSentAfter: now.Add(-time.Minute), Message: msg("code-ok")},
		postgres.GroupWrite{Message: msg("own-2")},
		postgres.GroupWrite{Code: codeAt("8613900000000", now), NotSentAfter: now, Message: msg("code-notfound")},
		postgres.GroupWrite{Code: &replayed, NotSentAfter: now.Add(-time.Minute), Message: msg("code-replayed"),
			AccessKeyID: "k", Nonce: "used", Expires: now.Add(time.Minute), Now: now},
		postgres.GroupWrite{Code: &other, NotSentAfter: now.Add(-time.Minute), Message: msg("code-ok-2")},
	)
	want := []string{"ok", "ok", "ok", "notfound", "used", "ok"}
	for i := range want {
		if errs[i] != nil || verdicts[i] != want[i] {
			t.Errorf("write %d: %q, %v; want %q", i, verdicts[i], errs[i], want[i])
		}
	}
	// A later group's code within the interval: refused, and so is its message.
	if v, _ := postgres.MakeGroup(db, postgres.GroupWrite{Code: codeAt(storetest.Number1, now.Add(time.Second)), NotSentAfter: now.Add(-time.Minute), Message: msg("code-conflict")}); v[0] != "conflict" {
		t.Errorf("second code within the interval: %q; want conflict", v[0])
	}
	ms, err := db.Messages(t.Context(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Code)
	}
	// Newest first: the group's own messages were inserted before the codes' messages.
	if wantMs := []string{"code-ok-2", "code-ok", "own-2", "own-1"}; fmt.Sprint(got) != fmt.Sprint(wantMs) {
		t.Errorf("outbox holds %v; want %v", got, wantMs)
	}
}

// A write PostgreSQL refuses fails alone: the rest of its group is made.
func TestGroup_oneFailureFailsOnlyItself(t *testing.T) {
	db := seeded(t)
	now := time.Now()
	msg := func(text string) postgres.GroupWrite {
		return postgres.GroupWrite{Message: &camsd.Message{PhoneNumber: storetest.Number1, Method: "sms", Locale: "en_US", Code: "1", Text: text, CreatedAt: now}}
	}
	verdicts, errs := postgres.MakeGroup(db,
		msg("before"),
		postgres.GroupWrite{AccessKeyID: "k", Nonce: "n1", Expires: now.Add(time.Minute), Now: now},
		msg("bad \x00 byte"), // PostgreSQL's text holds no NUL: the group's statement fails
		postgres.GroupWrite{Code: codeAt(storetest.Number1, now), NotSentAfter: now.Add(-time.Minute)},
		msg("after"),
	)
	for i, ok := range []bool{true, true, false, true, true} {
		if (errs[i] == nil) != ok || (ok && verdicts[i] != "ok") {
			t.Errorf("write %d: %q, %v; want success %v", i, verdicts[i], errs[i], ok)
		}
	}
	ms, err := db.Messages(t.Context(), "", 0)
	if err != nil || len(ms) != 2 || ms[0].Text != "after" || ms[1].Text != "before" {
		t.Errorf("Messages = %+v, %v; want after, before", ms, err)
	}
	if err := db.Use(t.Context(), nil, "k", "n1", now.Add(time.Minute)); !errors.Is(err, camsd.ErrNonceUsed) {
		t.Errorf("the group's nonce again: %v, want ErrNonceUsed", err)
	}
	if s := db.GroupStats(); s.Fallbacks != 1 {
		t.Errorf("GroupStats = %+v, want one fallback", s)
	}
}

// Three replicas write codes for overlapping numbers and nonces of shared keys at once, in
// groups whose writes come in every order: no group waits for another in a cycle (PostgreSQL
// would break it with a deadlock error, and the group would fall back to single writes), and
// the resend interval holds: each number gets exactly one code.
func TestGroup_replicasNoDeadlock(t *testing.T) {
	schema := freshSchema(t)
	var dbs []*postgres.DB
	for range 3 {
		dbs = append(dbs, open(t, schema, postgres.Options{}))
	}
	seed := storetest.Fixture()
	sp := &seed.Accounts[0].Spaces[0]
	const numbers = 12
	for i := range numbers {
		sp.PhoneNumbers = append(sp.PhoneNumbers, camsd.PhoneNumber{CustSpaceID: sp.CustSpaceID,
			Number: fmt.Sprintf("86139%08d", i), ID: fmt.Sprint(i), Status: camsd.StatusMigrating})
	}
	if err := dbs[0].ApplySeed(t.Context(), seed); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		saved = map[string]int{}
	)
	for r, db := range dbs {
		for g := range 20 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(r), uint64(g)))
				var ws []postgres.GroupWrite
				for _, i := range rng.Perm(numbers)[:6] {
					ws = append(ws, postgres.GroupWrite{Code: codeAt(fmt.Sprintf("86139%08d", i), now), NotSentAfter: now.Add(-time.Hour)})
				}
				for _, k := range rng.Perm(4) {
					ws = append(ws, postgres.GroupWrite{AccessKeyID: fmt.Sprint("key", k), Nonce: fmt.Sprint(r, "-", g), Expires: now.Add(time.Minute), Now: now})
				}
				rng.Shuffle(len(ws), func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
				verdicts, errs := postgres.MakeGroup(db, ws...)
				mu.Lock()
				defer mu.Unlock()
				for i, w := range ws {
					if errs[i] != nil {
						t.Errorf("replica %d group %d: %v", r, g, errs[i])
					}
					if w.Code != nil && verdicts[i] == "ok" {
						saved[w.Code.PhoneNumber]++
					}
				}
			})
		}
	}
	wg.Wait()
	for i := range numbers {
		if n := saved[fmt.Sprintf("86139%08d", i)]; n != 1 {
			t.Errorf("number %d: %d codes saved inside one resend interval, want 1", i, n)
		}
	}
	for r, db := range dbs {
		if s := db.GroupStats(); s.Fallbacks != 0 {
			t.Errorf("replica %d: %d groups fell back (a deadlock, or another failure)", r, s.Fallbacks)
		}
	}
}

// A replica that applies its seed (as each does when it starts) while another makes groups of
// codes for the seed's numbers: neither waits for the other in a cycle. The seed's numbers come
// in an order unlike write_group's, which is what deadlocked when ApplySeed took their locks
// one by one.
func TestGroup_seedBesideGroups(t *testing.T) {
	schema := freshSchema(t)
	seeder, writer := open(t, schema, postgres.Options{}), open(t, schema, postgres.Options{})
	seed := storetest.Fixture()
	sp := &seed.Accounts[0].Spaces[0]
	const numbers = 40
	for i := range numbers {
		sp.PhoneNumbers = append(sp.PhoneNumbers, camsd.PhoneNumber{CustSpaceID: sp.CustSpaceID,
			Number: fmt.Sprintf("86137%08d", i), ID: fmt.Sprint(i), Status: camsd.StatusMigrating})
	}
	if err := seeder.ApplySeed(t.Context(), seed); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 30 {
			if err := seeder.ApplySeed(t.Context(), seed); err != nil {
				t.Errorf("ApplySeed: %v", err)
				return
			}
		}
	})
	for g := range 30 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			var ws []postgres.GroupWrite
			at := time.Now().Add(time.Duration(g) * time.Second)
			for _, i := range rng.Perm(numbers)[:8] {
				ws = append(ws, postgres.GroupWrite{Code: codeAt(fmt.Sprintf("86137%08d", i), at), NotSentAfter: at})
			}
			if _, errs := postgres.MakeGroup(writer, ws...); errors.Join(errs...) != nil {
				t.Errorf("group %d: %v", g, errors.Join(errs...))
			}
		})
	}
	wg.Wait()
	if s := writer.GroupStats(); s.Fallbacks != 0 {
		t.Errorf("%d groups fell back (a deadlock with the seed, or another failure)", s.Fallbacks)
	}
}

// Concurrent callers of one DB share groups: many writes, fewer commits.
func TestGroup_callersShareCommits(t *testing.T) {
	db := seeded(t)
	now := time.Now()
	var wg sync.WaitGroup
	const callers = 64
	for i := range callers {
		wg.Go(func() {
			if err := db.Use(t.Context(), nil, "k", fmt.Sprint("n", i), now.Add(time.Minute)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	s := db.GroupStats()
	if s.Writes != callers || s.Groups >= callers {
		t.Errorf("GroupStats = %+v: %d writes should share fewer groups", s, callers)
	}
	t.Logf("%d writes in %d groups", s.Writes, s.Groups)
}

// A call whose nonce only Redis checked records it with its first change, in the same
// transaction: a replay's change is refused and nothing of it is written.
func TestDB_callNonceWithChange(t *testing.T) {
	db := seeded(t)
	now := time.Now()
	call := func(nonce string) *camsd.Call {
		return &camsd.Call{Nonce: &camsd.CallNonce{AccessKeyID: storetest.AcmeKey, Nonce: nonce, Expires: now.Add(time.Minute), Now: now}}
	}
	first := call("n1")
	if err := db.SaveCode(t.Context(), first, *codeAt(storetest.Number1, now), now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if first.Nonce != nil {
		t.Error("the call's nonce is still to record after SaveCode recorded it")
	}
	later := codeAt(storetest.Number1, now.Add(time.Hour))
	if err := db.SaveCode(t.Context(), call("n1"), *later, now); !errors.Is(err, camsd.ErrNonceUsed) {
		t.Errorf("replayed SaveCode = %v, want ErrNonceUsed", err)
	}
	if last, err := db.LastCode(t.Context(), storetest.AcmeSpace, storetest.Number1); err != nil || !last.SentAt.Equal(now) {
		t.Errorf("LastCode = %+v, %v; want the first code only", last, err)
	}
	ran := false
	err := db.ChangeNumber(t.Context(), call("n1"), storetest.AcmeSpace, storetest.Number1, now, func(*camsd.NumberTxn) error {
		ran = true
		return nil
	})
	if !errors.Is(err, camsd.ErrNonceUsed) || ran {
		t.Errorf("replayed ChangeNumber = %v (change ran: %v), want ErrNonceUsed before the change", err, ran)
	}
	if err := db.ChangeNumber(t.Context(), call("n2"), storetest.AcmeSpace, storetest.Number1, now, func(*camsd.NumberTxn) error { return nil }); err != nil {
		t.Fatalf("ChangeNumber with a new nonce: %v", err)
	}
	if err := db.Use(t.Context(), nil, storetest.AcmeKey, "n2", now.Add(time.Minute)); !errors.Is(err, camsd.ErrNonceUsed) {
		t.Errorf("the nonce ChangeNumber recorded, used again: %v, want ErrNonceUsed", err)
	}
}

// The outbox's trim deletes from where the replica's last one ended, so a message committed
// after keep newer ones were numbered lands below the trim's bound; a sweep every
// TrimSweepEvery trims deletes below the bound, so the outbox does not keep such messages.
func TestOutbox_trimSweepsLateMessages(t *testing.T) {
	schema := freshSchema(t)
	db := open(t, schema, postgres.Options{})
	a := admin(t)
	ctx := t.Context()
	const keep = 3
	add := func(code string) {
		t.Helper()
		m := camsd.Message{PhoneNumber: storetest.Number1, Method: "sms", Locale: "en_US", Code: code, Text: "t", CreatedAt: time.Now()}
		if err := db.AddMessage(ctx, nil, m, keep); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (n int) {
		t.Helper()
		if err := a.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.messages`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range 10 {
		add(fmt.Sprint(i))
	}
	if n := count(); n != keep {
		t.Fatalf("the outbox holds %d messages; want %d", n, keep)
	}
	// A message numbered long ago, committed only now: its id is below the bound.
	if _, err := a.Exec(ctx, `INSERT INTO `+schema+`.messages (id, phone_number, method, locale, code, text, created_at) OVERRIDING SYSTEM VALUE
		VALUES (1, $1, 'sms', 'en_US', 'late', 't', 0)`, storetest.Number1); err != nil {
		t.Fatal(err)
	}
	for i := range postgres.TrimSweepEvery {
		add(fmt.Sprint("more", i))
	}
	ms, err := db.Messages(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if last := fmt.Sprint("more", postgres.TrimSweepEvery-1); len(ms) != keep || ms[0].Code != last {
		t.Errorf("the outbox holds %d messages, newest %q; want %d, newest %s", len(ms), ms[0].Code, keep, last)
	}
}

// A group large enough for write_group's set statements (twelve codes carrying their nonces)
// gives every write the verdict, and leaves the tables in the state, that the same writes give
// and leave made one by one, each in a group of its own (write_group's one-by-one path): a
// code for a number not there, one within the resend interval of an earlier code, one whose
// nonce was used, one whose nonce expired and is used again, and the rest new.
func TestGroup_setStatementsAgreeWithOneByOne(t *testing.T) {
	t0 := time.Now()
	t1 := t0.Add(2 * time.Minute)
	numbers := make([]string, 12)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("86139555000%02d", i)
	}
	prepare := func(t *testing.T) (string, *postgres.DB) {
		schema := freshSchema(t)
		db := open(t, schema, postgres.Options{})
		seed := storetest.Fixture()
		sp := &seed.Accounts[0].Spaces[0]
		for i, n := range numbers {
			if i == 4 {
				continue // not there
			}
			sp.PhoneNumbers = append(sp.PhoneNumbers, camsd.PhoneNumber{CustSpaceID: sp.CustSpaceID, Number: n, ID: "id" + n, Status: camsd.StatusMigrating})
		}
		if err := db.ApplySeed(t.Context(), seed); err != nil {
			t.Fatal(err)
		}
		before := []postgres.GroupWrite{
			{Code: codeAt(numbers[5], t1.Add(-time.Second)), NotSentAfter: t0}, // the code number 5's stands against
			{AccessKeyID: "k1", Nonce: "used", Expires: t1.Add(time.Minute), Now: t0},
			{AccessKeyID: "k2", Nonce: "stale", Expires: t0.Add(time.Minute), Now: t0},
			{AccessKeyID: "k2", Nonce: "old-1", Expires: t0.Add(time.Minute), Now: t0},
			{AccessKeyID: "k2", Nonce: "old-2", Expires: t0.Add(time.Minute), Now: t0},
		}
		for _, w := range before {
			if v, errs := postgres.MakeGroup(db, w); v[0] != "ok" || errs[0] != nil {
				t.Fatalf("before: %q, %v", v[0], errs[0])
			}
		}
		return schema, db
	}
	var writes []postgres.GroupWrite
	for i, n := range numbers {
		key, nonce := fmt.Sprintf("k%d", i%3), fmt.Sprintf("fresh-%d", i)
		switch i {
		case 6:
			key, nonce = "k1", "used"
		case 7:
			key, nonce = "k2", "stale"
		}
		writes = append(writes, postgres.GroupWrite{Code: codeAt(n, t1), NotSentAfter: t1.Add(-time.Minute),
			AccessKeyID: key, Nonce: nonce, Expires: t1.Add(time.Minute), Now: t1})
	}
	want := []string{"ok", "ok", "ok", "ok", "notfound", "conflict", "used", "ok", "ok", "ok", "ok", "ok"}

	state := func(t *testing.T, schema string, db *postgres.DB) string {
		var held []int
		rows, err := admin(t).Query(t.Context(), `SELECT held FROM `+pgx.Identifier{schema, "nonce_keys"}.Sanitize()+` ORDER BY access_key_id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var h int
			rows.Scan(&h)
			held = append(held, h)
		}
		rows.Close()
		var replays []string
		for _, w := range writes {
			v, _ := postgres.MakeGroup(db, postgres.GroupWrite{AccessKeyID: w.AccessKeyID, Nonce: w.Nonce, Expires: t1.Add(time.Minute), Now: t1.Add(time.Second)})
			replays = append(replays, v[0])
		}
		return fmt.Sprintf("codes %d, nonces %d, held %v, replays %v", count(t, schema, "verify_codes"), count(t, schema, "nonces"), held, replays)
	}

	schema, db := prepare(t)
	verdicts, errs := postgres.MakeGroup(db, writes...)
	for i := range want {
		if verdicts[i] != want[i] || errs[i] != nil {
			t.Errorf("in one group, write %d: %q, %v; want %q", i, verdicts[i], errs[i], want[i])
		}
	}
	if s := db.GroupStats(); s.Groups != 6 || s.Fallbacks != 0 {
		t.Errorf("GroupStats = %+v; want the 5 writes before, then the twelve in one group", s)
	}
	inGroup := state(t, schema, db)

	schema, db = prepare(t)
	for i, w := range writes {
		if v, errs := postgres.MakeGroup(db, w); v[0] != want[i] || errs[0] != nil {
			t.Errorf("alone, write %d: %q, %v; want %q", i, v[0], errs[0], want[i])
		}
	}
	if alone := state(t, schema, db); alone != inGroup {
		t.Errorf("after the writes in one group: %s\nafter them one by one:      %s", inGroup, alone)
	}
	t.Log(inGroup)
}

// While one writer's group is being made, a second writer starts a group only once
// secondFrom writes wait for one (fewer wait for the first writer's next group, so that
// replicas with little each to write do not make twice as many small groups): here the first
// group waits on a number's lock that the test holds.
func TestGroup_secondWriterWaitsForEnough(t *testing.T) {
	_, db, numbers := withNumbers(t, postgres.SecondFrom+1, postgres.Options{})
	// The lock write_group takes for numbers[0]'s code, held by the test.
	lock, err := admin(t).Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(t.Context())
	if _, err := lock.Exec(t.Context(), `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, numbers[0]); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	done := make(chan error, len(numbers))
	save := func(n string) {
		go func() { done <- db.SaveCode(t.Context(), nil, *codeAt(n, now), now.Add(-time.Minute)) }()
	}
	groupsAre := func(want uint64) {
		t.Helper()
		for start := time.Now(); db.GroupStats().Groups != want; time.Sleep(time.Millisecond) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("%d groups; want %d", db.GroupStats().Groups, want)
			}
		}
	}
	save(numbers[0])
	groupsAre(1) // made, and waiting for the lock
	for _, n := range numbers[1:postgres.SecondFrom] {
		save(n)
	}
	time.Sleep(300 * time.Millisecond)
	if g := db.GroupStats().Groups; g != 1 {
		t.Fatalf("%d writes waiting started a second group (%d groups); want them to wait for %d", postgres.SecondFrom-1, g, postgres.SecondFrom)
	}
	save(numbers[postgres.SecondFrom])
	groupsAre(2)
	for range postgres.SecondFrom {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("the code behind the held lock returned (%v) before the lock was released", err)
	default:
	}
	lock.Rollback(t.Context())
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A writer holding a write waits for the writes of the calls still running (Track), so that
// they share its group; a call that ends, or waits on something else, without writing lets it
// go at once.
func TestGroup_writerWaitsForRunningCalls(t *testing.T) {
	_, db, numbers := withNumbers(t, 4, postgres.Options{})
	postgres.SetGatherFor(db, time.Minute)
	now := time.Now()
	save := func(call *camsd.Call, n string) <-chan error {
		done := make(chan error, 1)
		go func() { done <- db.SaveCode(t.Context(), call, *codeAt(n, now), now.Add(-time.Minute)) }()
		return done
	}
	waiting := func(done <-chan error, what string) {
		t.Helper()
		select {
		case err := <-done:
			t.Fatalf("%s returned (%v) while a call was still running; want it to wait for the call's write", what, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	returns := func(done <-chan error, what string) {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not return", what)
		}
	}

	// A running call's write joins the group of the write before it.
	running := &camsd.Call{}
	db.Track(running)
	first := save(nil, numbers[0])
	waiting(first, "a code saved while a call runs")
	if g := db.GroupStats().Groups; g != 0 {
		t.Fatalf("%d groups made while a call runs; want the writer to wait for its write", g)
	}
	returns(save(running, numbers[1]), "the running call's code")
	returns(first, "the first code")
	s := db.GroupStats()
	if s.Groups != 1 || s.Writes != 2 {
		t.Fatalf("groups %d, writes %d; want both codes in one group", s.Groups, s.Writes)
	}
	// The writer's wait for the running call is counted as gathering (the test held the call
	// for 200 ms before its write), the statement and commit as making.
	if s.Gathering < 200*time.Millisecond || s.Making <= 0 {
		t.Fatalf("gathering %v, making %v; want at least the 200 ms the call ran, and some", s.Gathering, s.Making)
	}
	running.End()

	// A call that ends without writing, or waits outside the process, lets the writer go.
	for i, stop := range []func(*camsd.Call){(*camsd.Call).End, (*camsd.Call).Blocked} {
		call := &camsd.Call{}
		db.Track(call)
		done := save(nil, numbers[2+i])
		waiting(done, "a code saved while a call runs")
		stop(call)
		returns(done, "the code once the call stopped running")
		call.End()
	}
}

// A plan made while a table was small stays good once it is large. Autovacuum analyzes a new
// database's tables while they are small, and write_group's plans, made then, last as long as
// the connection: a group's lookups must still be probes of the primary key, not a walk over
// every nonce of a key through nonces_expiry (the set path's plan made from one row), a hash
// of all of nonces (from twenty), a scan of all of verify_codes_newest for a code's seq or of
// all of messages_phone for the outbox's newest id, each of which reads hundreds or thousands
// of pages here.
func TestGroup_plansStayGoodOnceATableIsLarge(t *testing.T) {
	now := time.Now()
	future := now.Add(time.Hour).UnixNano()
	nonces := func(prefix string, n int) []postgres.GroupWrite {
		ws := make([]postgres.GroupWrite, n)
		for i := range ws {
			ws[i] = postgres.GroupWrite{AccessKeyID: "k", Nonce: fmt.Sprintf("%s%d", prefix, i), Expires: now.Add(time.Minute), Now: now}
		}
		return ws
	}
	status := func(string, int) []postgres.GroupWrite {
		return []postgres.GroupWrite{{Code: codeAt(storetest.Number1, now), Status: camsd.DeliverySent}}
	}
	message := func(string, int) []postgres.GroupWrite {
		return []postgres.GroupWrite{{Message: &camsd.Message{PhoneNumber: storetest.Number1, Method: "sms",
			Locale: "en_US", Code: "123456", Text: "t", CreatedAt: now}, Keep: 1_000_000}}
	}
	const many = 50_000
	for _, c := range []struct {
		table string
		small []string // rows while small: $1 is how many, $2 a time to come
		large []string // rows once large: the same
		group func(prefix string, n int) []postgres.GroupWrite
		sizes []int // groups of these sizes are made while small and measured once large
	}{{
		table: "nonces",
		small: []string{
			`INSERT INTO nonces SELECT 'k', 'small' || g, $2 FROM generate_series(1, $1::int) AS g`,
			`INSERT INTO nonce_keys VALUES ('k', $1, $2)`},
		large: []string{
			`INSERT INTO nonces SELECT 'k', 'many' || g, $2 FROM generate_series(1, $1::int) AS g`,
			`UPDATE nonce_keys SET held = held + $1, latest_expiry = $2 WHERE access_key_id = 'k'`},
		group: nonces, sizes: []int{1, 8}, // one by one, and write_group's set path
	}, {
		table: "verify_codes",
		small: []string{`INSERT INTO verify_codes (cust_space_id, number, code, method, locale, sent_at, expires_at,
			request_id, access_key_id, status) SELECT '` + storetest.AcmeSpace + `', '` + storetest.Number1 + `',
			'1', 'sms', 'en_US', ` + fmt.Sprint(now.UnixNano()) + ` - g, $2, 'r', 'k', 'pending' FROM generate_series(0, $1::int - 1) AS g`},
		large: []string{`INSERT INTO verify_codes (cust_space_id, number, code, method, locale, sent_at, expires_at,
			request_id, access_key_id, status) SELECT 'other', 'n' || g, '1', 'sms', 'en_US', g, $2, 'r', 'k',
			'pending' FROM generate_series(1, $1::int) AS g`},
		group: status, sizes: []int{1},
	}, {
		table: "messages",
		small: []string{`INSERT INTO messages (phone_number, method, locale, code, text, created_at) SELECT 'p', 'sms', 'en_US', '1', 't', $2 FROM generate_series(1, $1::int) AS g`},
		large: []string{`INSERT INTO messages (phone_number, method, locale, code, text, created_at) SELECT 'p' || g, 'sms', 'en_US', '1', 't', $2 FROM generate_series(1, $1::int) AS g`},
		group: message, sizes: []int{1},
	}} {
		for _, small := range []int{1, 20} {
			t.Run(fmt.Sprintf("%s analyzed at %d", c.table, small), func(t *testing.T) {
				db := seeded(t)
				ctx := t.Context()
				pc, err := postgres.Acquire(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				defer pc.Release()
				conn := pc.Conn()
				exec := func(sql string, args ...any) {
					t.Helper()
					if _, err := conn.Exec(ctx, sql, args...); err != nil {
						t.Fatal(err)
					}
				}
				exec(`ALTER TABLE ` + c.table + ` SET (autovacuum_enabled = false)`) // no analyze but the test's
				for _, sql := range c.small {
					exec(sql, small, future)
				}
				exec(`ANALYZE ` + c.table)
				for _, n := range c.sizes { // plans made now
					if _, err := postgres.RunGroup(ctx, db, conn, c.group(fmt.Sprint("first", n, "-"), n)...); err != nil {
						t.Fatal(err)
					}
				}
				for _, sql := range c.large {
					exec(sql, many, future)
				}
				for _, n := range c.sizes {
					buffers, err := postgres.ExplainGroup(ctx, db, conn, c.group(fmt.Sprint("second", n, "-"), n)...)
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("a group of %d writes with %d more rows in %s touched %d buffers", n, many, c.table, buffers)
					if buffers > 50*n+100 {
						t.Errorf("a group of %d writes with %d more rows in %s touched %d buffers: its plans read the table", n, many, c.table, buffers)
					}
				}
			})
		}
	}
}
