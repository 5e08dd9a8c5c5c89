package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/camsd/camsd"
	sqlitedriver "modernc.org/sqlite"
)

// writer commits writes in groups. An fsync is the price of durability, and it costs little
// more for a hundred writes than for one, so a single goroutine takes every write that is
// waiting, and those that arrive while it runs them (up to max in all), runs them in one
// transaction and commits once.
//
// COMMIT only appends the transaction to the write-ahead log (synchronous=NORMAL); the
// syncer, a goroutine of its own, then fsyncs the log for every transaction committed since
// its last fsync, and only then tells their callers that their writes are durable. So the
// writer runs the next transaction while the last one syncs, instead of waiting for the
// disk: a call's writes wait for one fsync, not for the fsync of the transaction before
// theirs and then their own (see syncer.go).
//
// Writes wait in a queue, in the order they were made, whoever made them: a caller's
// earlier write is never committed after its later one. Queuing never waits for the writer,
// so a caller can queue a write while a commit is syncing and go on (see camsd.Durability).
// A write is "taken" when the writer moves it from the queue into a batch. Until then a
// caller that waits for it can still give up on its context and be sure nothing is written;
// after that the write completes, whatever the caller's context does.
type writer struct {
	conn  *sql.Conn // the only connection that writes; transactions are managed by hand
	stmts stmtCache
	max   int

	// tenantsChanged, if set, is called after a transaction that held an op with
	// touchesTenants ends, before any of its ops is reported committed.
	tenantsChanged func()

	mu     sync.Mutex
	queue  []*op
	closed bool
	wake   chan struct{} // holds a token when the queue may have grown
	done   chan struct{} // closed when run returns

	// rolledBack is set by SQLite's rollback hook: SQLite ended the transaction, by itself
	// (an I/O error, a full disk, no memory) or because a statement said ROLLBACK. Only the
	// writer's goroutine touches it.
	rolledBack bool

	// nonces gathers the open transaction's nonces, written as one row at its commit, and
	// jr the writes to codes and messages not yet applied to their tables (journal.go).
	nonces nonceLog
	jr     journal

	// sync makes committed transactions durable; nil for a writer that a test drives by
	// hand, which then reports ops committed as soon as COMMIT returns.
	sync *syncer

	// commits and writes count transactions and the ops in them, for tests and benchmarks.
	commits, writes atomic.Uint64
}

// op is one caller's write. fn must not keep tx.
//
// Every op that the writer takes is signalled exactly twice, in this order: executed, once
// fn has run inside the open transaction (outcome holds fn's error) or the transaction broke
// before it could; committed, once the transaction has ended (err holds the op's final
// error: fn's, or the transaction's if it did not commit).
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
	// phone numbers, so that what caches them is told when its transaction ends. An fn that
	// knows only as it runs may set it then.
	touchesTenants bool

	taken, canceled bool // guarded by writer.mu

	// call is the Durability of the call that made the op, if any: the ops of one call share
	// it, so that the syncer can tell how many calls an fsync served.
	call *camsd.Durability

	outcome, err        error
	executed, committed chan struct{}
}

// startWriter starts a writer on conn, whose database's write-ahead log is the file at
// walPath, made durable by fsync (nil: syncLog), that applies its journal once applyAt
// writes wait.
func startWriter(conn *sql.Conn, walPath string, fsync func(*os.File) error, max, applyAt int, tenantsChanged func()) (*writer, error) {
	w, err := newWriter(conn, max)
	if err != nil {
		return nil, err
	}
	w.jr.applyAt = applyAt
	if w.sync, err = startSyncer(walPath, fsync); err != nil {
		return nil, err
	}
	w.tenantsChanged = tenantsChanged
	go w.run()
	return w, nil
}

// newWriter returns a writer on conn that is not running yet.
func newWriter(conn *sql.Conn, max int) (*writer, error) {
	w := &writer{
		conn: conn,
		max:  max,
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
		jr:   journal{applyAt: defaultApplyAt},
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

// do runs o in one of the writer's next transactions and returns once that transaction has
// ended: o's error if fn failed (then nothing fn did is kept), the transaction's error if it
// did not commit, else nil, and then o is durable. A ctx that ends before the writer takes o
// yields ctx.Err(), and nothing is written.
func (w *writer) do(ctx context.Context, o *op) error {
	if err := w.enqueue(ctx, o); err != nil {
		return err
	}
	if err := w.await(ctx, o, o.committed); err != nil {
		return err
	}
	return o.err
}

// execute runs o like do but returns as soon as fn has run inside the open transaction, with
// fn's error (or the transaction's, had it broken before). The caller learns whether o is
// durable from o.wait.
func (w *writer) execute(ctx context.Context, o *op) error {
	if err := w.enqueue(ctx, o); err != nil {
		return err
	}
	if err := w.await(ctx, o, o.executed); err != nil {
		return err
	}
	return o.outcome
}

// wait blocks until o's transaction has ended and returns o's final error.
func (o *op) wait() error {
	<-o.committed
	return o.err
}

// enqueue queues o and returns at once, without waiting for the writer; o then runs whatever
// ctx does, unless a wait on it gives it up (await). The caller learns o's result from
// o.wait. A ctx that has already ended yields ctx.Err(), and nothing is queued.
func (w *writer) enqueue(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.executed, o.committed = make(chan struct{}), make(chan struct{})
	o.call = camsd.DurabilityFrom(ctx)
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.queue = append(w.queue, o)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // a token is already there
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
	w.mu.Lock()
	taken := o.taken
	o.canceled = !taken
	w.mu.Unlock()
	if !taken {
		return ctx.Err()
	}
	<-signal
	return nil
}

// close applies the journal, stops taking new writes, commits those already queued and
// releases the connection. (A write journaled meanwhile waits in the journal for the next
// Open.)
func (w *writer) close() error {
	var applyErr error
	if w.jr.unapplied.Load() > 0 {
		if err := w.do(context.Background(), &op{single: true, fn: func(*wtx) error { return nil }}); err != nil && !errors.Is(err, ErrClosed) {
			applyErr = fmt.Errorf("sqlite: apply journal: %w", err)
		}
	}
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.done
	var syncErr error
	if w.sync != nil {
		syncErr = w.sync.close()
	}
	w.stmts.close()
	return errors.Join(applyErr, syncErr, w.conn.Close())
}

// txn is the writer's open transaction.
type txn struct {
	open    bool
	ops     []*op // taken into it, in order
	tenants bool  // an op may have written tenants
	err     error // set once the transaction is broken
}

// run takes queued ops into a transaction and commits it when the syncer can sync it at
// once: while the syncer is busy with earlier transactions, the open one keeps taking ops,
// which then share its commit and the next fsync instead of each committing alone and
// waiting for that fsync anyway. An op's fn runs as soon as it is taken, so a caller that
// waits for its outcome (SaveCode's compare-and-set) never waits for a commit.
func (w *writer) run() {
	defer close(w.done)
	t := &txn{}
	var batch []*op
	for {
		var closed bool
		batch, closed = w.take(batch[:0], w.max-len(t.ops))
		if len(batch) > 0 {
			if !t.open {
				w.begin(t)
			}
			w.applyAll(t, batch)
			clear(batch)
			if t.err != nil {
				w.end(t) // broken: every op of it fails, and the next ones go to a new one
			}
			continue // what was queued meanwhile joins
		}
		if t.open {
			if closed || len(t.ops) >= w.max || w.sync == nil || !w.sync.busy() {
				w.end(t)
				continue
			}
			select {
			case <-w.wake:
			case <-w.sync.idle:
			}
			continue
		}
		if closed {
			return
		}
		<-w.wake
	}
}

// take moves queued ops, oldest first, into batch until it holds room more, and reports
// whether the writer is closed.
func (w *writer) take(batch []*op, room int) ([]*op, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := 0
	for ; k < len(w.queue) && room > 0; k++ {
		if o := w.queue[k]; !o.canceled {
			o.taken = true
			batch = append(batch, o)
			room--
		}
	}
	n := copy(w.queue, w.queue[k:])
	clear(w.queue[n:])
	w.queue = w.queue[:n]
	return batch, w.closed
}

// begin opens t. The writer's own statements use a context that never ends: once taken, a
// write completes whatever its caller's context does.
func (w *writer) begin(t *txn) {
	t.open = true
	w.rolledBack = false
	if w.sync != nil {
		// After a failed fsync nothing says what reached the disk: take no more writes.
		if t.err = w.sync.failed(); t.err != nil {
			return
		}
	}
	if err := w.exec(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.err = fmt.Errorf("begin: %w", err)
	}
}

// applyAll runs ops in t, signalling each executed.
func (w *writer) applyAll(t *txn, ops []*op) {
	for _, o := range ops {
		if t.err == nil && !o.journalSafe && w.jr.pending() {
			if err := w.jr.apply(&wtx{w: w, ctx: context.Background()}); err != nil {
				t.err = fmt.Errorf("apply journal: %w", err)
			}
		}
		if t.err == nil {
			t.err = w.apply(context.Background(), o)
		}
		t.tenants = t.tenants || o.touchesTenants // fn may have set it
		if t.err != nil {
			// The transaction itself is broken, so no write of it is kept, and no one
			// may hear otherwise; the ops before this one hear it when they ask whether
			// they are committed.
			o.outcome = t.err
		}
		close(o.executed)
		t.ops = append(t.ops, o)
	}
}

// end commits t (or rolls it back if it broke), hands its ops to the syncer, or reports
// them committed if it did not commit, and readies t for the next transaction.
func (w *writer) end(t *txn) {
	ctx := context.Background()
	err := t.err
	if err == nil {
		tx := &wtx{w: w, ctx: ctx}
		if err = w.nonces.flush(tx); err != nil {
			err = fmt.Errorf("write nonces: %w", err)
		} else if err = w.jr.flush(tx); err != nil {
			err = fmt.Errorf("write journal: %w", err)
		}
	}
	if err == nil {
		if err = w.exec(ctx, "COMMIT"); err != nil {
			err = fmt.Errorf("commit: %w", err)
		}
	}
	if err != nil {
		w.nonces.reset()
		w.jr.rolledBack()
		w.rollback(ctx)
	} else {
		w.jr.committed()
	}
	if t.tenants && w.tenantsChanged != nil {
		w.tenantsChanged()
	}
	for _, o := range t.ops {
		// An outcome decided in a transaction that did not commit may rest on writes that
		// were rolled back with it, so then every op reports the transaction's error.
		o.err = o.outcome
		if err != nil {
			o.err = err
		}
	}
	w.commits.Add(1)
	w.writes.Add(uint64(len(t.ops)))
	if err != nil || w.sync == nil {
		for _, o := range t.ops {
			close(o.committed)
		}
	} else {
		w.sync.add(t.ops)
	}
	clear(t.ops)
	*t = txn{ops: t.ops[:0]}
}

// errRolledBack is the transaction's error when SQLite ended it during an op.
var errRolledBack = errors.New("transaction rolled back")

// apply runs o, inside a savepoint unless o is single, and records o's own error in
// o.outcome. It returns an error only when the transaction is gone or unusable: SQLite
// rolled it back, or the savepoint cannot be undone or released.
func (w *writer) apply(ctx context.Context, o *op) error {
	tx := &wtx{w: w, ctx: ctx}
	if o.single {
		o.outcome = o.fn(tx)
		return w.broken(o)
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

// wtx is the writer's transaction as one op sees it.
type wtx struct {
	w   *writer
	ctx context.Context
}

func (tx *wtx) exec(query string, args ...any) (sql.Result, error) {
	s, err := tx.w.stmts.stmt(tx.ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(tx.ctx, args...)
}

// query runs a read that returns rows inside the transaction.
func (tx *wtx) query(query string, args ...any) (*sql.Rows, error) {
	s, err := tx.w.stmts.stmt(tx.ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(tx.ctx, args...)
}

// get scans the single row query returns into dest; ErrNotFound when there is none.
func (tx *wtx) get(query string, args []any, dest ...any) error {
	s, err := tx.w.stmts.stmt(tx.ctx, query)
	if err != nil {
		return err
	}
	return notFound(s.QueryRowContext(tx.ctx, args...).Scan(dest...))
}
