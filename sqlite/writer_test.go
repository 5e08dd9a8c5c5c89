package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// hold makes the writer busy until release is called, so that the writes queued meanwhile
// are taken together in the next batch.
func hold(t *testing.T, w *writer) (release func()) {
	t.Helper()
	started, stop := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- w.do(context.Background(), func(*wtx) error {
			close(started)
			<-stop
			return nil
		})
	}()
	<-started
	return func() {
		close(stop)
		if err := <-done; err != nil {
			t.Errorf("holding op: %v", err)
		}
	}
}

// insertMessage is an op that inserts a message to phone and then fails with err, if any.
func insertMessage(phone string, err error) func(*wtx) error {
	return func(tx *wtx) error {
		if _, e := tx.exec(`INSERT INTO messages (phone_number, method, locale, code, text, created_at)
			VALUES (?, 'sms', 'en', '1', 't', 0)`, phone); e != nil {
			return e
		}
		return err
	}
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
	w := &writer{conn: conn}
	w.stmts.prep = conn.PrepareContext
	t.Cleanup(func() {
		w.stmts.close()
		conn.Close()
		sdb.Close()
	})
	return w
}

func TestWriter_commit(t *testing.T) {
	errBoom := errors.New("boom")
	t.Run("a failing op rolls back alone", func(t *testing.T) {
		db := openTemp(t, nil)
		batch := []*op{
			{fn: insertMessage("a", nil)},
			{fn: insertMessage("b", errBoom)},
			{fn: insertMessage("c", nil)},
			{fn: insertMessage("d", errBoom)},
			{fn: insertMessage("e", nil)},
		}
		handWriter(t, db).commit(batch)
		var got []error
		for _, o := range batch {
			got = append(got, o.err)
		}
		if diff := cmp.Diff([]error{nil, errBoom, nil, errBoom, nil}, got, cmpopts.EquateErrors()); diff != "" {
			t.Errorf("op errors (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"e", "c", "a"}, phones(t, db)); diff != "" {
			t.Errorf("kept writes (-want +got):\n%s", diff)
		}
	})
	t.Run("a broken transaction fails every op of the batch", func(t *testing.T) {
		db := openTemp(t, nil)
		breaker := func(tx *wtx) error {
			_, err := tx.exec("ROLLBACK") // what SQLite does by itself on a full disk
			return err
		}
		batch := []*op{{fn: insertMessage("a", nil)}, {fn: breaker}, {fn: insertMessage("c", nil)}}
		handWriter(t, db).commit(batch)
		for i, o := range batch {
			if o.err == nil {
				t.Errorf("op %d: nil error; want the transaction's failure", i)
			}
		}
		if got := phones(t, db); len(got) != 0 {
			t.Errorf("kept writes %v; want none", got)
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
	// The queue of an unbuffered channel cannot be observed; give the senders time to join it.
	time.Sleep(100 * time.Millisecond)
	release()
	wg.Wait()
	// One commit for the holding op, then as few as one for the n queued behind it.
	if got := db.w.commits.Load() - commits; got > n/2 {
		t.Errorf("%d commits for 1+%d writes; want the queued writes batched", got, n)
	}
	if got := len(phones(t, db)); got != n {
		t.Errorf("%d messages; want %d", got, n)
	}
}

func TestWriter_contextEndsBeforeTaken(t *testing.T) {
	db := openTemp(t, nil)
	release := hold(t, db.w)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := db.AddMessage(ctx, camsd.Message{PhoneNumber: "x"}, 0)
	release()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AddMessage = %v; want context.DeadlineExceeded", err)
	}
	if ms, err := db.Messages(t.Context(), "", 0); err != nil || len(ms) != 0 {
		t.Errorf("Messages = %v, %v; want none: a write given up before it was taken is not made", ms, err)
	}
}

func TestWriter_takenWriteCompletes(t *testing.T) {
	db := openTemp(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	err := db.w.do(ctx, func(tx *wtx) error {
		cancel() // the caller gives up after the writer took the write
		_, err := tx.exec(`INSERT INTO messages (phone_number, method, locale, code, text, created_at)
			VALUES ('x', 'sms', 'en', '1', 't', 0)`)
		return err
	})
	if err != nil {
		t.Fatalf("do = %v; want nil: a taken write completes", err)
	}
	if ms, err := db.Messages(t.Context(), "", 0); err != nil || len(ms) != 1 {
		t.Errorf("Messages = %v, %v; want the one message", ms, err)
	}
}

func TestWriter_closed(t *testing.T) {
	db := openTemp(t, nil)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.AddMessage(t.Context(), camsd.Message{}, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("AddMessage after Close = %v; want ErrClosed", err)
	}
	if err := db.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}
