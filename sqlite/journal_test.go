package sqlite

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/storetest"
	"github.com/google/go-cmp/cmp"
)

// oddEntries are journal entries of every kind, with strings a row must carry as they are.
func oddEntries() []jentry {
	return []jentry{
		{kind: jCode, space: storetest.AcmeSpace, number: storetest.Number1, code: "123456", method: "sms",
			locale: "en_US", at: 1, expiresAt: 600, requestID: "req\n1", accessKeyID: "key 1", status: "pending"},
		{kind: jStatus, space: storetest.AcmeSpace, number: storetest.Number1, at: 1, status: "sent"},
		{kind: jMessage, number: storetest.Number1, code: "123456", method: "voice", locale: "zh_CN",
			text: "验证码 123456\x00\xff", at: -5, keep: 1000},
		{kind: jCode, at: -1 << 63, expiresAt: 1<<63 - 1}, // empty strings, extreme times
		{kind: jNonce, accessKeyID: "LTAI5tAcmeRoot00000001", code: "nonce \n\x00", expiresAt: 1700000000000000000},
	}
}

func TestJournal_rowRoundTrip(t *testing.T) {
	es := oddEntries()
	got, err := decodeJEntries(nil, appendJEntries(nil, es))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(es, got, cmp.AllowUnexported(jentry{})); diff != "" {
		t.Errorf("decoded row (-want +got):\n%s", diff)
	}
}

func TestJournal_malformedRow(t *testing.T) {
	good := appendJEntries(nil, oddEntries())
	for name, row := range map[string][]byte{
		"empty":          {},
		"other version":  append([]byte{2}, good[1:]...),
		"unknown kind":   {jVersion, 'x'},
		"cut short":      good[:len(good)-3],
		"string too big": {jVersion, byte(jStatus), 0x7f, 'a'},
	} {
		if _, err := decodeJEntries(nil, row); !errors.Is(err, errJournalEntry) {
			t.Errorf("%s: err = %v; want errJournalEntry", name, err)
		}
	}
}

// FuzzJournalRow: whatever a journal row holds, decoding it does not panic, and a row that
// decodes is exactly the encoding of what it decodes to.
func FuzzJournalRow(f *testing.F) {
	f.Add(appendJEntries(nil, oddEntries()))
	f.Add([]byte{jVersion})
	f.Add([]byte{jVersion, byte(jCode), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, row []byte) {
		es, err := decodeJEntries(nil, row)
		if err != nil {
			if !errors.Is(err, errJournalEntry) {
				t.Fatalf("error %v is not errJournalEntry", err)
			}
			return
		}
		if again := appendJEntries(nil, es); !bytes.Equal(again, row) {
			t.Fatalf("row %x decodes to entries that encode as %x", row, again)
		}
	})
}

// TestJournal_statusOnlyInItsTransaction checks that a status set on a code in a committed
// journal row is an entry of its own, so that a rollback of its transaction leaves the row's
// code as it was, and that one set on a code of the open transaction goes with it.
func TestJournal_statusOnlyInItsTransaction(t *testing.T) {
	code := oddEntries()[0]
	j := &journal{applyAt: defaultApplyAt}
	j.add(code)
	j.committed() // the code is in a committed row now
	if !j.setStatus(code.space, code.number, code.at, "sent") {
		t.Fatal("setStatus did not find the journaled code")
	}
	if len(j.entries) != 2 || j.entries[0].status != "pending" || j.entries[1].kind != jStatus {
		t.Fatalf("entries after setting a committed code's status: %+v; want the code unchanged and a status entry", j.entries)
	}
	j.rolledBack()
	if len(j.entries) != 1 || j.entries[0].status != "pending" {
		t.Fatalf("entries after the rollback: %+v; want the code as committed", j.entries)
	}

	other := code
	other.at = 2
	j.add(other)
	if !j.setStatus(other.space, other.number, other.at, "failed") || len(j.entries) != 2 || j.entries[1].status != "failed" {
		t.Fatalf("entries after setting the open transaction's code's status: %+v; want it set in place", j.entries)
	}
	j.rolledBack()
	if len(j.entries) != 1 {
		t.Fatalf("entries after the rollback: %+v; want only the committed code", j.entries)
	}
	if j.setStatus(code.space, code.number, 99, "sent") {
		t.Error("setStatus found a code sent at another time")
	}
}

// TestJournal_replayedAtOpen checks that records left in the journal's log, as a crash leaves
// them, are in the tables once the database is open again, statuses applied, and that the
// log is then empty.
func TestJournal_replayedAtOpen(t *testing.T) {
	path := t.TempDir() + "/camsd.db"
	db := openAt(t, path, nil)
	ctx := t.Context()
	if err := db.ApplySeed(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	at := storetest.T0.UnixNano()
	rows := [][]jentry{
		{{kind: jCode, space: storetest.AcmeSpace, number: storetest.Number1, code: "111111", method: "sms",
			locale: "en_US", at: at, expiresAt: at + int64(10*time.Minute), requestID: "r1", accessKeyID: "k1", status: "pending"},
			{kind: jMessage, number: storetest.Number1, code: "111111", method: "sms", locale: "en_US", text: "111111", at: at, keep: 10}},
		{{kind: jStatus, space: storetest.AcmeSpace, number: storetest.Number1, at: at, status: "sent"}},
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The log as a crash leaves it: records of a generation the tables do not have.
	l, replay, err := openJlog(path, 0)
	if err != nil || len(replay) != 0 {
		t.Fatalf("openJlog = %v, %v; want an empty log", replay, err)
	}
	for _, es := range rows {
		if err := l.append(es); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.close(); err != nil {
		t.Fatal(err)
	}

	db = openAt(t, path, nil)
	for _, p := range jlogPaths(path) {
		if fi, err := os.Stat(p); err != nil || fi.Size() != 0 {
			t.Errorf("journal log after Open: %v, %v; want it empty", fi, err)
		}
	}
	c, err := db.LastCode(ctx, storetest.AcmeSpace, storetest.Number1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Code != "111111" || c.Status != camsd.DeliverySent || !c.SentAt.Equal(storetest.T0) {
		t.Errorf("LastCode = %+v; want 111111 sent at T0", c)
	}
	ms, err := db.Messages(ctx, storetest.Number1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Code != "111111" {
		t.Errorf("Messages = %+v; want the journaled one", ms)
	}
}

// TestJournal_appliedWhenFull checks that the writer applies the journal by itself once
// applyAt entries wait, keeping only what the outbox keeps, and that a read sees every
// write.
func TestJournal_appliedWhenFull(t *testing.T) {
	db := openTemp(t, func(db *DB) { db.journalApplyAt = 8 })
	ctx := t.Context()
	if err := db.ApplySeed(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	const keep = 3
	for i := range 20 {
		sent := storetest.T0.Add(time.Duration(i) * time.Minute)
		cctx, d := ctx, &camsd.Call{}
		c := storetest.Code(storetest.AcmeSpace, storetest.Number1, "00000"+string(rune('a'+i)), sent)
		m := camsd.Message{PhoneNumber: c.PhoneNumber, Method: c.Method, Locale: c.Locale, Code: c.Code, Text: c.Code, CreatedAt: sent}
		err := errors.Join(
			db.SaveCode(cctx, d, c, sent.Add(-time.Second)),
			db.AddMessage(cctx, d, m, keep),
			db.SetCodeStatus(cctx, d, c.CustSpaceID, c.PhoneNumber, sent, camsd.DeliverySent),
			d.Wait())
		if err != nil {
			t.Fatal(err)
		}
	}
	// Without settling: what the writer applied by itself, beside its groups.
	var codes, msgs, sent int
	waitFor(t, "the writer to apply the journal", func() bool {
		if err := db.get(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'sent') FROM verify_codes`, nil, &codes, &sent); err != nil {
			t.Fatal(err)
		}
		return codes >= 16
	})
	if err := db.get(ctx, `SELECT count(*) FROM messages`, nil, &msgs); err != nil {
		t.Fatal(err)
	}
	if sent != codes || msgs != keep {
		t.Errorf("applied without a read: %d codes (%d sent), %d messages; want all sent, %d messages", codes, sent, msgs, keep)
	}
	// A read settles the rest.
	c, err := db.LastCode(ctx, storetest.AcmeSpace, storetest.Number1)
	if err != nil || c.Code != "00000"+string(rune('a'+19)) || c.Status != camsd.DeliverySent {
		t.Errorf("LastCode = %+v, %v; want the 20th code, sent", c, err)
	}
	ms, err := db.Messages(ctx, "", 0)
	if err != nil || len(ms) != keep || ms[0].Code != c.Code {
		t.Errorf("Messages = %+v, %v; want the newest %d, the 20th first", ms, err, keep)
	}
}

// TestJournal_statusOfAppliedCode checks that a journaled status whose code is no longer in
// the journal (a job applied it after the status was set) reaches the code in verify_codes
// when it is applied, and that one whose code does not exist (its record lost in a power
// cut, never acknowledged) is dropped without failing the application.
func TestJournal_statusOfAppliedCode(t *testing.T) {
	db := openSeeded(t)
	ctx := t.Context()
	c := storetest.Code(storetest.AcmeSpace, storetest.Number1, "123456", storetest.T0)
	if err := db.SaveCode(ctx, nil, c, storetest.T0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.settle(ctx); err != nil { // the code is in verify_codes
		t.Fatal(err)
	}
	at := storetest.T0.UnixNano()
	es := []jentry{
		{kind: jStatus, space: storetest.AcmeSpace, number: storetest.Number1, at: at, status: string(camsd.DeliverySent)},
		{kind: jStatus, space: storetest.AcmeSpace, number: storetest.Number2, at: at, status: string(camsd.DeliverySent)},
	}
	if err := db.w.do(ctx, &op{fn: func(tx *wtx) error { return applyJEntries(tx, es) }}); err != nil {
		t.Fatalf("applying the statuses: %v", err)
	}
	got, err := db.LastCode(ctx, storetest.AcmeSpace, storetest.Number1)
	if err != nil || got.Status != camsd.DeliverySent {
		t.Errorf("LastCode = %+v, %v; want the code sent", got, err)
	}
}

// TestJournal_failedApplication checks that when applying the journal fails, the writer
// takes no more writes (nothing then says what the tables hold), and that nothing it
// acknowledged is lost: the next Open applies it.
func TestJournal_failedApplication(t *testing.T) {
	path := t.TempDir() + "/camsd.db"
	db := openAt(t, path, func(db *DB) { db.journalApplyAt = 4 })
	ctx := t.Context()
	if err := db.ApplySeed(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	// The table refuses one code, as a full disk or a corrupt page would refuse any.
	err := db.w.do(ctx, &op{fn: func(tx *wtx) error {
		_, err := tx.exec(`CREATE TRIGGER refuse BEFORE INSERT ON verify_codes WHEN NEW.code = '999999'
			BEGIN SELECT RAISE(ABORT, 'refused'); END`)
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	save := func(code string, at time.Time) error {
		cctx, d := ctx, &camsd.Call{}
		return errors.Join(db.SaveCode(cctx, d, storetest.Code(storetest.AcmeSpace, storetest.Number1, code, at), at.Add(-time.Second)), d.Wait())
	}
	var acked []string
	var failed error
	for i := range 20 {
		code := fmt.Sprintf("%06d", 100000+i)
		if i == 5 {
			code = "999999"
		}
		if err := save(code, storetest.T0.Add(time.Duration(i)*time.Minute)); err != nil {
			failed = err
			break
		}
		acked = append(acked, code)
	}
	waitFor(t, "the writer to fail", func() bool { return db.Ping(ctx) != nil })
	if failed == nil {
		failed = save("111111", storetest.T0.Add(time.Hour))
	}
	if failed == nil || !strings.Contains(failed.Error(), "refused") {
		t.Fatalf("a write after the failed application: %v; want the application's error", failed)
	}
	if err := db.Close(); err == nil {
		t.Error("Close = nil; want the application's error")
	}

	// Drop the trigger behind camsd's back, as an operator fixing the disk would, and open.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`DROP TRIGGER refuse`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db = openAt(t, path, nil)
	got := map[string]bool{}
	for _, row := range queryPairs(t, db, `SELECT code, status FROM verify_codes`) {
		got[row[0]] = true
	}
	for _, code := range acked {
		if !got[code] {
			t.Errorf("acknowledged code %s is missing after the reopen", code)
		}
	}
	if !got["999999"] {
		t.Error("the code the table refused, acknowledged before the application, is missing after the reopen")
	}
}
