package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/camsd/camsd"
	sqlitedriver "modernc.org/sqlite"
)

// writer makes writes in groups. An fsync is the price of durability, and it costs little
// more for a hundred writes than for one, so a single goroutine takes every write that is
// waiting, and those that arrive while it runs them (up to max in all), and makes them
// durable together.
//
// Most writes of a call (nonce, code, status, message) only go to the journal (journal.go):
// the group's are appended to the journal's log as one record, and the syncer, a goroutine
// of its own, fsyncs the log for every group written since its last fsync, and only then
// tells their callers that their writes are durable. So the writer runs the next group while
// the last one syncs, instead of waiting for the disk: a call's writes wait for one fsync,
// not for the fsync of the group before theirs and then their own (see syncer.go). The
// other writes run in a SQLite transaction that the group opens when it first needs one
// (after applying the journal, which they may read), and that the writer commits and fsyncs
// itself before it writes anything later to the log, so that no record in the log ever
// rests on a transaction that a crash could lose.
//
// Writes wait in a camsd.Queue, the queue PostgreSQL's group writers take from too, in the
// order they were made, whoever made them: a caller's earlier write is never committed after
// its later one. Queuing never waits for the writer, so a caller can queue a write while a
// commit is syncing and go on (see camsd.Call). A write is "taken" when the writer moves it
// from the queue into a batch. Until then a caller that waits for it can still give up on its
// context and be sure nothing is written (it withdraws it from the queue); after that the
// write completes, whatever the caller's context does.
type writer struct {
	conn  *sql.Conn // the only connection that writes; transactions are managed by hand
	stmts stmtCache
	max   int

	// tenantsChanged, if set, is called after a group that held an op with
	// touchesTenants ends, before any of its ops is reported committed.
	tenantsChanged func(numbers []string)

	queue *camsd.Queue[*op]
	done  chan struct{} // closed when run returns

	// rolledBack is set by SQLite's rollback hook: SQLite ended the transaction, by itself
	// (an I/O error, a full disk, no memory) or because a statement said ROLLBACK. Only the
	// writer's goroutine touches it.
	rolledBack bool

	// jr holds the writes not yet applied to their tables (journal.go).
	jr journal

	// wal is SQLite's write-ahead log, which the writer fsyncs after each commit (fsync).
	wal   *os.File
	fsync func(*os.File) error
	// err is sticky: the first failed fsync of the write-ahead log, write to the journal's
	// log or application of the journal, after which nothing says what reached the disk.
	err error

	// job is the application of the journal running beside the writer, if any.
	job *applyJob

	// sync makes the groups' log records durable; nil for a writer that a test drives by
	// hand, which then reports ops committed as soon as COMMIT returns.
	sync *syncer

	// commits and writes count groups and the ops in them, for tests and benchmarks.
	commits, writes atomic.Uint64
}

// op is one caller's write. fn must not keep tx.
//
// Every op that the writer takes is signalled exactly twice, in this order: executed, once
// fn has run inside the open group (outcome holds fn's error) or the group broke before it
// could; committed, once the group is durable or has failed: commit ends with the op's final
// error (fn's, or the group's if it failed), which err holds until then.
type op struct {
	fn func(tx *wtx) error

	// single marks an fn that makes at most one change, with one statement, and that fails
	// only when that change was not made. It runs without a savepoint of its own: a failing
	// statement is undone by SQLite itself (statement-level atomicity), so there is nothing
	// for a savepoint to roll back.
	single bool
	// journalSafe marks an fn that neither reads nor writes verify_codes or messages, except
	// through the writer's journal (see journal.go): it may run while the journal holds
	// writes that those tables do not have yet. Before any other op runs, the writer applies
	// the journal.
	journalSafe bool
	// touchesTenants marks an fn that may write accounts, users, keys, policies, spaces or
	// phone numbers, so that what caches them is told when its group ends. An fn that
	// knows only as it runs may set it then.
	touchesTenants bool
	// touchesNumber, when not empty, is the one number whose records an fn wrote, and
	// nothing else of the tenants (ChangeNumber): only its cached records are forgotten.
	touchesNumber string

	// call is the call that made the op, if any: the ops of one call share it, so that the
	// syncer can tell how many calls an fsync served.
	call *camsd.Call

	outcome, err error
	// executed is nil unless the op's maker waits for it (execute): most ops are only
	// waited for until committed, and a channel is an allocation.
	executed chan struct{}
	commit   *camsd.Commit
}

// startWriter starts a writer on conn, whose database's write-ahead log is the file at
// walPath, with its journal's log l, both made durable by fsync (nil: syncLog), that applies
// its journal once applyAt writes wait; now is the clock for the nonces' expiry.
func startWriter(conn *sql.Conn, walPath string, l *jlog, fsync func(*os.File) error, max, applyAt int, now func() int64, tenantsChanged func(numbers []string)) (*writer, error) {
	w, err := newWriter(conn, max)
	if err != nil {
		return nil, err
	}
	if fsync == nil {
		fsync = syncLog
	}
	if w.wal, err = os.Open(walPath); err != nil {
		return nil, fmt.Errorf("sqlite: open write-ahead log to sync it: %w", err)
	}
	w.fsync = fsync
	w.jr.applyAt, w.jr.log, w.jr.now = applyAt, l, now
	w.sync = startSyncer(fsync)
	w.tenantsChanged = tenantsChanged
	go w.run()
	return w, nil
}

// newWriter returns a writer on conn that is not running yet.
func newWriter(conn *sql.Conn, max int) (*writer, error) {
	w := &writer{
		conn:  conn,
		max:   max,
		queue: camsd.NewQueue[*op](),
		done:  make(chan struct{}),
		jr:    journal{applyAt: defaultApplyAt, now: func() int64 { return time.Now().UnixNano() }},
	}
	w.stmts.prep = conn.PrepareContext
	err := conn.Raw(func(dc any) error {
		h, ok := dc.(sqlitedriver.HookRegisterer)
		if !ok {
			return fmt.Errorf("driver connection %T cannot register hooks", dc)
		}
		h.RegisterRollbackHook(func() { w.rolledBack = true })
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: rollback hook: %w", err)
	}
	return w, nil
}

// do runs o in one of the writer's next groups and returns once that group has ended: o's
// error if fn failed (then nothing fn did is kept), the group's error if it
// did not commit, else nil, and then o is durable. A ctx that ends before the writer takes o
// yields ctx.Err(), and nothing is written.
func (w *writer) do(ctx context.Context, o *op) error {
	if err := w.enqueue(ctx, o); err != nil {
		return err
	}
	if err := w.await(ctx, o, o.commit.Done()); err != nil {
		return err
	}
	return o.wait()
}

// execute runs o like do but returns as soon as fn has run inside the open group, with
// fn's error (or the group's, had it broken before). The caller learns whether o is
// durable from o.wait.
func (w *writer) execute(ctx context.Context, o *op) error {
	o.executed = make(chan struct{})
	if err := w.enqueue(ctx, o); err != nil {
		return err
	}
	if err := w.await(ctx, o, o.executed); err != nil {
		return err
	}
	return o.outcome
}

// wait blocks until o's group has ended and returns o's final error.
func (o *op) wait() error { return o.commit.Wait(context.Background()) }

// enqueue queues o and returns at once, without waiting for the writer; o then runs whatever
// ctx does, unless a wait on it gives it up (await). The caller learns o's result from
// o.wait. A ctx that has already ended yields ctx.Err(), and nothing is queued.
func (w *writer) enqueue(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.commit = camsd.NewCommit() // executed is the caller's to make, if it waits for it
	if w.queue.Put(o) != nil {
		return ErrClosed
	}
	return nil
}

// await waits for signal, one of o's; if ctx ends first and o has not been taken yet, o is
// withdrawn and await returns ctx.Err().
func (w *writer) await(ctx context.Context, o *op, signal <-chan struct{}) error {
	select {
	case <-signal:
		return nil
	case <-ctx.Done():
	}
	if w.queue.Withdraw(o) {
		return ctx.Err()
	}
	<-signal // taken: it completes
	return nil
}

// close applies the journal, stops taking new writes, commits those already queued and
// releases the connection. (A write journaled meanwhile waits in the journal for the next
// Open.)
func (w *writer) close() error {
	var applyErr error
	if err := w.settle(context.Background()); err != nil && !errors.Is(err, ErrClosed) {
		applyErr = fmt.Errorf("sqlite: apply journal: %w", err)
	}
	w.queue.Close()
	<-w.done
	var errs []error
	if w.sync != nil {
		errs = append(errs, w.sync.close())
	}
	if w.wal != nil {
		errs = append(errs, w.wal.Close())
	}
	if w.jr.log != nil {
		errs = append(errs, w.jr.log.close())
	}
	w.stmts.close()
	return errors.Join(applyErr, errors.Join(errs...), w.conn.Close())
}

// txn is the writer's open group: the ops taken into it and, once one needs it, a SQLite
// transaction.
type txn struct {
	ops     []*op    // taken into it, in order
	sql     bool     // a SQLite transaction is open
	tenants bool     // an op may have written tenants
	numbers []string // numbers whose records ops wrote (touchesNumber)
	err     error    // set once the group is broken
}

// run takes queued ops into a group and ends it when the syncer can sync it at once: while
// the syncer is busy with earlier groups, the open one keeps taking ops, which then share its
// record and the next fsync instead of each writing alone and waiting for that fsync anyway.
// An op's fn runs as soon as it is taken, so a caller that waits for its outcome (SaveCode's
// compare-and-set) never waits for a commit.
func (w *writer) run() {
	defer close(w.done)
	t := &txn{}
	var batch []*op
	defer w.waitJob()
	for {
		w.reapJob(false)
		if len(t.ops) == 0 && w.applyDue() {
			w.startJob() // what waited for the last job
		}
		var closed bool
		batch, closed = w.queue.Take(batch[:0], w.max-len(t.ops))
		if len(batch) > 0 {
			w.applyAll(t, batch)
			clear(batch)
			if t.err != nil {
				w.end(t) // broken: every op of it fails, and the next ones go to a new group
			}
			continue // what was queued meanwhile joins
		}
		if len(t.ops) > 0 {
			if closed || len(t.ops) >= w.max || w.sync == nil || !w.sync.busy() {
				w.end(t)
				continue
			}
			select {
			case <-w.queue.Ready():
			case <-w.sync.idle:
			}
			continue
		}
		if closed {
			return
		}
		<-w.queue.Ready()
	}
}

// failed returns the error after which the writer takes no more writes: a failed fsync or
// write, since nothing then says what reached the disk.
func (w *writer) failed() error {
	if w.err != nil {
		return w.err
	}
	if w.sync != nil {
		return w.sync.failed()
	}
	return nil
}

// begin opens t's SQLite transaction, if it has none, once an application of the journal
// beside the writer has ended. The writer's own statements use a context that never ends:
// once taken, a write completes whatever its caller's context does.
func (w *writer) begin(t *txn) error {
	if t.sql || t.err != nil {
		return t.err
	}
	if t.err = w.waitJob(); t.err != nil {
		return t.err
	}
	t.sql = true
	w.rolledBack = false
	if err := w.exec(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.err = fmt.Errorf("begin: %w", err)
	}
	return t.err
}

// applyAll runs ops in t, signalling each executed. Before an op that is not journalSafe,
// the journal goes to its tables.
func (w *writer) applyAll(t *txn, ops []*op) {
	for _, o := range ops {
		if t.err == nil && len(t.ops) == 0 {
			t.err = w.failed()
		}
		if t.err == nil && !o.journalSafe {
			if w.begin(t) == nil && w.jr.pending() {
				if err := w.jr.apply(&wtx{w: w, t: t, ctx: context.Background()}); err != nil {
					t.err = fmt.Errorf("apply journal: %w", err)
				}
			}
		}
		if t.err == nil {
			t.err = w.apply(context.Background(), t, o)
		}
		t.tenants = t.tenants || o.touchesTenants // fn may have set it
		if o.touchesNumber != "" {
			t.numbers = append(t.numbers, o.touchesNumber)
		}
		if t.err != nil {
			// The group itself is broken, so no write of it is kept, and no one may hear
			// otherwise; the ops before this one hear it when they ask whether they are
			// committed.
			o.outcome = t.err
		}
		if o.executed != nil {
			close(o.executed)
		}
		t.ops = append(t.ops, o)
	}
}

// end ends t: it commits and fsyncs t's SQLite transaction if it has one (or rolls it back
// if t broke), writes what t journaled to the log, hands t's ops to the syncer (or reports
// them committed if t failed), starts an application of the journal once applyAt entries
// wait, and readies t for the next group. Without a log, t applies the journal itself.
func (w *writer) end(t *txn) {
	ctx := context.Background()
	err := t.err
	if err == nil && w.jr.log == nil && w.jr.pending() {
		if err = w.begin(t); err == nil {
			if err = w.jr.apply(&wtx{w: w, t: t, ctx: ctx}); err != nil {
				err = fmt.Errorf("apply journal: %w", err)
			}
		}
	}
	applied := w.jr.applied > 0
	if err == nil && t.sql {
		if err = w.exec(ctx, "COMMIT"); err != nil {
			err = fmt.Errorf("commit: %w", err)
			w.rollback(ctx)
		} else if err = w.syncWAL(); err != nil {
			// COMMIT returned, so SQLite will not undo it; only a restart can tell.
			w.err = fmt.Errorf("sync write-ahead log: %w", err)
			err = w.err
		}
	} else if err != nil && t.sql {
		w.rollback(ctx)
	}
	if err == nil && applied && w.jr.log != nil {
		w.jr.log.next() // every record so far is in the tables, durably
	}
	var written *os.File
	if err == nil && w.jr.log != nil {
		if written, err = w.jr.write(); err != nil {
			w.err = err
		}
	}
	if err != nil {
		w.jr.rolledBack()
	} else {
		w.jr.committed()
		if w.applyDue() {
			w.startJob()
		}
	}
	switch {
	case w.tenantsChanged == nil:
	case t.tenants:
		w.tenantsChanged(nil)
	case len(t.numbers) > 0:
		w.tenantsChanged(t.numbers)
	}
	for _, o := range t.ops {
		// An outcome decided in a group that did not commit may rest on writes that were
		// rolled back with it, so then every op reports the group's error.
		o.err = o.outcome
		if err != nil {
			o.err = err
		}
	}
	w.commits.Add(1)
	w.writes.Add(uint64(len(t.ops)))
	if err != nil || w.sync == nil {
		for _, o := range t.ops {
			o.commit.End(o.err)
		}
	} else {
		w.sync.add(t.ops, written)
	}
	clear(t.ops)
	*t = txn{ops: t.ops[:0]}
}

// applyJob is an application of the journal running beside the writer: while it puts the
// first n entries in the tables, the writer goes on journaling into the log's next
// generation, and a group that needs SQLite waits for it (begin).
type applyJob struct {
	n    int
	done chan error
}

// applyDue reports whether an application of the journal should start beside the writer:
// applyAt entries wait and none runs. Call it between groups, when every entry is in the log.
func (w *writer) applyDue() bool {
	return w.jr.log != nil && w.job == nil && w.err == nil && len(w.jr.entries) >= w.jr.applyAt
}

// startJob applies every entry of the journal, all of them in the log, beside the writer.
// The entries it applies are never changed meanwhile: a status set on one of them is
// journaled as an entry of its own (journal.setStatus).
func (w *writer) startJob() {
	j := &w.jr
	es := j.entries[:len(j.entries):len(j.entries)]
	gen := j.log.gen
	j.log.next() // the other file: its generation was applied, durably, by the job before
	job := &applyJob{n: len(es), done: make(chan error, 1)}
	w.job = job
	now := j.now()
	go func() {
		job.done <- w.applyBeside(es, gen, now)
		w.queue.Nudge() // the writer may have more to hand over
	}()
}

// applyBeside applies es, the log's generations up to gen, in a transaction of its own, and
// fsyncs it. It uses the writer's connection while the writer does not.
func (w *writer) applyBeside(es []jentry, gen uint64, now int64) error {
	ctx := context.Background()
	if err := w.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("apply journal: begin: %w", err)
	}
	if err := applyAll(&wtx{w: w, ctx: ctx}, es, now, gen); err != nil {
		w.rollback(ctx)
		return fmt.Errorf("apply journal: %w", err)
	}
	if err := w.exec(ctx, "COMMIT"); err != nil {
		w.rollback(ctx)
		return fmt.Errorf("apply journal: commit: %w", err)
	}
	if err := w.syncWAL(); err != nil {
		return fmt.Errorf("apply journal: sync write-ahead log: %w", err)
	}
	return nil
}

// reapJob takes the end of the job, if there is one and it has ended (or, with wait, once
// it has), and forgets the entries it applied. A failed one fails the writer: its entries
// are still in the log, for the next Open.
func (w *writer) reapJob(wait bool) {
	if w.job == nil {
		return
	}
	var err error
	if wait {
		err = <-w.job.done
	} else {
		select {
		case err = <-w.job.done:
		default:
			return
		}
	}
	if err != nil {
		if w.err == nil {
			w.err = err
		}
	} else {
		w.jr.dropApplied(w.job.n)
	}
	w.job = nil
}

// waitJob waits for the job, if any, and returns the writer's failure.
func (w *writer) waitJob() error {
	w.reapJob(true)
	return w.failed()
}

// syncWAL makes what the writer committed durable. A writer that a test drives by hand has
// no write-ahead log of its own to sync.
func (w *writer) syncWAL() error {
	if w.wal == nil {
		return nil
	}
	return w.fsync(w.wal)
}

// errRolledBack is the transaction's error when SQLite ended it during an op.
var errRolledBack = errors.New("transaction rolled back")

// apply runs o, inside a savepoint unless o is single, and records o's own error in
// o.outcome. It returns an error only when the group is unusable: SQLite rolled its
// transaction back, or it could not be begun, or the savepoint cannot be undone or released.
func (w *writer) apply(ctx context.Context, t *txn, o *op) error {
	tx := &wtx{w: w, t: t, ctx: ctx}
	if o.single {
		o.outcome = o.fn(tx)
		if t.err != nil {
			return t.err // begin failed under fn
		}
		if !t.sql {
			return nil // no transaction for SQLite to have ended
		}
		return w.broken(o)
	}
	if err := w.begin(t); err != nil {
		return err
	}
	if err := w.exec(ctx, "SAVEPOINT op"); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	o.outcome = o.fn(tx)
	if err := w.broken(o); err != nil {
		return err
	}
	if o.outcome != nil {
		if err := w.exec(ctx, "ROLLBACK TO op"); err != nil {
			// %v, not %w: the op's own error (ErrNotFound, say) is not what happened.
			return fmt.Errorf("rollback to savepoint after %v: %w", o.outcome, err)
		}
	}
	if err := w.exec(ctx, "RELEASE op"); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// broken reports the end of the transaction during o, if SQLite ended it.
func (w *writer) broken(o *op) error {
	if !w.rolledBack {
		return nil
	}
	if o.outcome != nil {
		return fmt.Errorf("%w by SQLite: %v", errRolledBack, o.outcome)
	}
	return fmt.Errorf("%w by SQLite", errRolledBack)
}

// rollback ends a failed transaction. It fails harmlessly when SQLite already rolled back.
func (w *writer) rollback(ctx context.Context) { _ = w.exec(ctx, "ROLLBACK") }

func (w *writer) exec(ctx context.Context, query string) error {
	s, err := w.stmts.stmt(ctx, query)
	if err != nil {
		return err
	}
	_, err = s.ExecContext(ctx)
	return err
}

// wtx is the writer's group as one op sees it. Its statements begin the group's SQLite
// transaction if it has none yet.
type wtx struct {
	w   *writer
	t   *txn // nil: a transaction the caller has begun
	ctx context.Context
}

// sql begins the group's SQLite transaction if needed.
func (tx *wtx) sql() error {
	if tx.t == nil {
		return nil
	}
	return tx.w.begin(tx.t)
}

func (tx *wtx) exec(query string, args ...any) (sql.Result, error) {
	if err := tx.sql(); err != nil {
		return nil, err
	}
	s, err := tx.w.stmts.stmt(tx.ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(tx.ctx, args...)
}

// query runs a read that returns rows inside the transaction.
func (tx *wtx) query(query string, args ...any) (*sql.Rows, error) {
	if err := tx.sql(); err != nil {
		return nil, err
	}
	s, err := tx.w.stmts.stmt(tx.ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(tx.ctx, args...)
}

// get scans the single row query returns into dest; ErrNotFound when there is none.
func (tx *wtx) get(query string, args []any, dest ...any) error {
	if err := tx.sql(); err != nil {
		return err
	}
	s, err := tx.w.stmts.stmt(tx.ctx, query)
	if err != nil {
		return err
	}
	return notFound(s.QueryRowContext(tx.ctx, args...).Scan(dest...))
}
