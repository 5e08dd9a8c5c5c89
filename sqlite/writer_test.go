package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/storetest"
	"github.com/google/go-cmp/cmp"
)

// hold makes the writer busy until release is called, so that the writes queued meanwhile
// are taken together, into the same transaction as the holding op.
func hold(t *testing.T, w *writer) (release func()) {
	t.Helper()
	releaseErr := holdErr(w)
	return func() {
		t.Helper()
		if err := releaseErr(); err != nil {
			t.Errorf("holding op: %v", err)
		}
	}
}

// holdErr is hold for a test that expects the holding op's transaction to fail: release
// returns its error.
func holdErr(w *writer) (release func() error) {
	started, stop := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- w.do(context.Background(), &op{single: true, fn: func(*wtx) error {
			close(started)
			<-stop
			return nil
		}})
	}()
	<-started
	return func() error {
		close(stop)
		return <-done
	}
}

// queued waits until n ops wait in w's queue.
func queued(t *testing.T, w *writer, n int) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		got := w.queue.Len()
		if got >= n {
			return
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%d ops queued after 5s; want %d", got, n)
		}
	}
}

// insertMessage is an op that inserts a message to phone and then fails with err, if any.
func insertMessage(phone string, err error) *op {
	return &op{fn: func(tx *wtx) error {
		if _, e := tx.exec(`INSERT INTO messages (phone_number, method, locale, code, text, created_at)
			VALUES (?, 'sms', 'en', '1', 't', 0)`, phone); e != nil {
			return e
		}
		return err
	}}
}

// insertCode is a single op that inserts a code of number in AcmeSpace; it fails (foreign
// key) when the number is not there.
func insertCode(number string) *op {
	return &op{single: true, fn: func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO verify_codes (cust_space_id, number, code, method, locale,
			sent_at, expires_at, request_id, access_key_id, status)
			VALUES (?, ?, '1', 'sms', 'en', 0, 0, 'r', 'k', 'pending')`, storetest.AcmeSpace, number)
		return err
	}}
}

// breaker is an op that ends the transaction without an error, as SQLite does by itself on
// a full disk.
func breaker(single bool) *op {
	return &op{single: single, fn: func(tx *wtx) error {
		_, err := tx.exec("ROLLBACK")
		return err
	}}
}

func phones(t *testing.T, db *DB) []string {
	t.Helper()
	ms, err := db.Messages(t.Context(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var ps []string
	for _, m := range ms {
		ps = append(ps, m.PhoneNumber)
	}
	return ps
}

// handWriter returns a writer of its own over db's file that the test drives by hand: the
// test is its run loop.
func handWriter(t *testing.T, db *DB) *writer {
	t.Helper()
	sdb, err := sql.Open("sqlite", writerDSN(db.path))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sdb.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWriter(conn, 256)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.stmts.close()
		conn.Close()
		sdb.Close()
	})
	return w
}

// commit runs batch in one transaction, signalling each op executed as it goes, and then
// ends it. Ops queued while the transaction is open join it, up to max. It is the whole of a
// transaction for a writer that a test drives by hand (run, instead, keeps a transaction open
// while the syncer is busy).
func (w *writer) commit(batch []*op) {
	t := &txn{}
	w.begin(t)
	w.applyAll(t, batch)
	for t.err == nil && len(t.ops) < w.max {
		more, _ := w.queue.Take(nil, w.max-len(t.ops))
		if len(more) == 0 {
			break
		}
		w.applyAll(t, more)
	}
	w.end(t)
}

// batch readies ops as enqueue does, for a hand-driven commit.
func batch(ops ...*op) []*op {
	for _, o := range ops {
		o.executed, o.commit = make(chan struct{}), camsd.NewCommit()
	}
	return ops
}

// closing reports whether w has stopped taking new writes.
func closing(w *writer) bool {
	return w.queue.Closed()
}

// signalled reports whether ch is closed.
func signalled(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestWriter_commit(t *testing.T) {
	errBoom := errors.New("boom")
	t.Run("a failing op rolls back alone", func(t *testing.T) {
		db := openTemp(t, nil)
		if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
			t.Fatal(err)
		}
		ops := batch(
			insertMessage("a", nil),
			insertMessage("b", errBoom), // undone by its savepoint
			insertCode(storetest.Number1),
			insertCode("8613899999999"), // single: its statement is undone by SQLite
			insertMessage("e", nil),
		)
		handWriter(t, db).commit(ops)
		var got []bool
		for _, o := range ops {
			got = append(got, o.err != nil)
		}
		if diff := cmp.Diff([]bool{false, true, false, true, false}, got); diff != "" {
			t.Errorf("ops failed (-want +got):\n%s", diff)
		}
		if !errors.Is(ops[1].err, errBoom) || !isForeignKey(ops[3].err) {
			t.Errorf("op errors %v, %v; want boom and a foreign key violation", ops[1].err, ops[3].err)
		}
		if diff := cmp.Diff([]string{"e", "a"}, phones(t, db)); diff != "" {
			t.Errorf("kept messages (-want +got):\n%s", diff)
		}
		if _, err := db.LastCode(t.Context(), storetest.AcmeSpace, storetest.Number1); err != nil {
			t.Errorf("LastCode = %v; want the code of the op that succeeded", err)
		}
	})
	for _, single := range []bool{false, true} {
		t.Run(fmt.Sprintf("a broken transaction fails every op of the batch (single %v)", single), func(t *testing.T) {
			db := openTemp(t, nil)
			ops := batch(insertMessage("a", nil), breaker(single), insertMessage("c", nil))
			handWriter(t, db).commit(ops)
			for i, o := range ops {
				if !signalled(o.executed) || !signalled(o.commit.Done()) {
					t.Errorf("op %d not signalled: executed %v, committed %v", i, signalled(o.executed), signalled(o.commit.Done()))
				}
				if o.err == nil {
					t.Errorf("op %d: nil error; want the transaction's failure", i)
				}
			}
			// The op before the break ran well; only its commit failed.
			if ops[0].outcome != nil || ops[2].outcome == nil {
				t.Errorf("outcomes %v, %v; want nil for the op before the break, an error after", ops[0].outcome, ops[2].outcome)
			}
			if got := phones(t, db); len(got) != 0 {
				t.Errorf("kept writes %v; want none", got)
			}
		})
	}
	t.Run("executed is signalled while the transaction is open", func(t *testing.T) {
		db := openTemp(t, nil)
		w := handWriter(t, db)
		stop := make(chan struct{})
		first := insertMessage("a", nil)
		ops := batch(first, &op{single: true, fn: func(*wtx) error { <-stop; return nil }})
		done := make(chan struct{})
		go func() {
			w.commit(ops)
			close(done)
		}()
		<-first.executed
		if signalled(first.commit.Done()) {
			t.Error("committed before the transaction ended")
		}
		close(stop)
		<-done
		if err := first.wait(); err != nil {
			t.Errorf("wait = %v", err)
		}
	})
}

// TestWriter_groupsQueuedWrites checks that writes queued while the writer is busy share a
// commit.
func TestWriter_groupsQueuedWrites(t *testing.T) {
	db := openTemp(t, nil)
	const n = 20
	release := hold(t, db.w)
	commits := db.w.commits.Load()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := db.w.do(t.Context(), insertMessage(strconv.Itoa(i), nil)); err != nil {
				t.Errorf("op %d: %v", i, err)
			}
		})
	}
	queued(t, db.w, n)
	release()
	wg.Wait()
	// The n queued behind the holding op join its transaction, or the next one.
	if got := db.w.commits.Load() - commits; got > 2 {
		t.Errorf("%d commits for 1+%d writes; want at most 2", got, n)
	}
	if got := len(phones(t, db)); got != n {
		t.Errorf("%d messages; want %d", got, n)
	}
}

// TestWriter_fifo checks that writes are made in the order they were queued, across batches.
func TestWriter_fifo(t *testing.T) {
	db := openTemp(t, func(db *DB) { db.maxBatch = 7 })
	const n = 50
	var order []int // appended to by the writer only
	release := hold(t, db.w)
	ops := make([]*op, n)
	for i := range ops {
		ops[i] = &op{single: true, fn: func(*wtx) error { order = append(order, i); return nil }}
		if err := db.w.enqueue(t.Context(), ops[i]); err != nil {
			t.Fatal(err)
		}
	}
	release()
	for _, o := range ops {
		if err := o.wait(); err != nil {
			t.Fatal(err)
		}
	}
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("order of execution (-want +got):\n%s", diff)
	}
}

func TestWriter_contextEndsBeforeTaken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(ctx context.Context, db *DB) error
	}{
		{"waiting for the commit", func(ctx context.Context, db *DB) error {
			return db.AddMessage(ctx, nil, camsd.Message{PhoneNumber: "x"}, 0)
		}},
		{"waiting for the outcome", func(ctx context.Context, db *DB) error {
			return db.SaveCode(ctx, &camsd.Call{}, storetest.Code(storetest.AcmeSpace, storetest.Number1, "1", storetest.T0), storetest.T0)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTemp(t, nil)
			if err := db.ApplySeed(t.Context(), storetest.Fixture()); err != nil {
				t.Fatal(err)
			}
			release := hold(t, db.w)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
			defer cancel()
			err := tc.write(ctx, db)
			release()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("write = %v; want context.DeadlineExceeded", err)
			}
			if err := db.Ping(t.Context()); err != nil { // the writer is past the withdrawn op
				t.Fatal(err)
			}
			if ms, err := db.Messages(t.Context(), "", 0); err != nil || len(ms) != 0 {
				t.Errorf("Messages = %v, %v; want none: a write given up before it was taken is not made", ms, err)
			}
			if c, err := db.LastCode(t.Context(), storetest.AcmeSpace, storetest.Number1); !errors.Is(err, camsd.ErrNotFound) {
				t.Errorf("LastCode = %v, %v; want ErrNotFound: a write given up before it was taken is not made", c, err)
			}
		})
	}
}

// TestWriter_queuedWriteCompletes checks that a write queued under a Durability is made even
// if its caller's context ends before the writer takes it.
func TestWriter_queuedWriteCompletes(t *testing.T) {
	db := openTemp(t, nil)
	release := hold(t, db.w)
	ctx, cancel := context.WithCancel(t.Context())
	d := &camsd.Call{}
	if err := db.AddMessage(ctx, d, camsd.Message{PhoneNumber: "x"}, 0); err != nil {
		t.Fatalf("AddMessage = %v", err)
	}
	cancel()
	release()
	if err := d.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if got := phones(t, db); len(got) != 1 {
		t.Errorf("messages %v; want the one queued", got)
	}
}

func TestWriter_takenWriteCompletes(t *testing.T) {
	db := openTemp(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	err := db.w.do(ctx, &op{fn: func(tx *wtx) error {
		cancel() // the caller gives up after the writer took the write
		_, err := tx.exec(`INSERT INTO messages (phone_number, method, locale, code, text, created_at)
			VALUES ('x', 'sms', 'en', '1', 't', 0)`)
		return err
	}})
	if err != nil {
		t.Fatalf("do = %v; want nil: a taken write completes", err)
	}
	if ms, err := db.Messages(t.Context(), "", 0); err != nil || len(ms) != 1 {
		t.Errorf("Messages = %v, %v; want the one message", ms, err)
	}
}

func TestWriter_closed(t *testing.T) {
	t.Run("writes after Close fail", func(t *testing.T) {
		db := openTemp(t, nil)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := db.AddMessage(t.Context(), nil, camsd.Message{}, 0); !errors.Is(err, ErrClosed) {
			t.Errorf("AddMessage after Close = %v; want ErrClosed", err)
		}
		ctx, d := t.Context(), &camsd.Call{}
		if err := db.AddMessage(ctx, d, camsd.Message{}, 0); !errors.Is(err, ErrClosed) {
			t.Errorf("AddMessage with Durability after Close = %v; want ErrClosed", err)
		}
		if err := d.Wait(); err != nil {
			t.Errorf("Wait = %v; want nil, nothing was queued", err)
		}
		if err := db.Ping(t.Context()); err == nil {
			t.Error("Ping after Close succeeded")
		}
	})
	t.Run("Close commits what was queued before it", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "camsd.db")
		db := openAt(t, path, nil)
		release := hold(t, db.w)
		ctx, d := t.Context(), &camsd.Call{}
		if err := db.AddMessage(ctx, d, camsd.Message{PhoneNumber: "x"}, 0); err != nil {
			t.Fatal(err)
		}
		closed := make(chan error, 1)
		go func() { closed <- db.Close() }()
		for !closing(db.w) {
			time.Sleep(time.Millisecond)
		}
		release()
		if err := <-closed; err != nil {
			t.Fatalf("Close = %v", err)
		}
		if err := d.Wait(); err != nil {
			t.Fatalf("Wait = %v; want the queued write committed", err)
		}
		if got := phones(t, openAt(t, path, nil)); len(got) != 1 {
			t.Errorf("messages after reopen %v; want the one queued before Close", got)
		}
	})
}
