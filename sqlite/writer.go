package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
)

// writer commits writes in groups. One fsync per commit is the price of durability, and it
// is the same for one write as for a hundred, so a single goroutine takes every write that
// is waiting (up to max), runs each inside its own SAVEPOINT so that a failing one rolls back
// alone, commits once and only then answers each caller with its own result.
//
// ops is unbuffered on purpose: a write is "taken" exactly when the writer receives it. Until
// then its caller can still give up on its context and be sure nothing was written; after
// that the write completes and the caller waits for the commit.
type writer struct {
	conn  *sql.Conn // the only connection that writes; transactions are managed by hand
	stmts stmtCache
	max   int

	ops  chan *op
	quit chan struct{}
	done chan struct{}

	// commits and writes count transactions and the ops in them, for tests and benchmarks.
	commits, writes atomic.Uint64
}

// op is one caller's write. fn must not keep tx.
type op struct {
	fn   func(tx *wtx) error
	err  error
	done chan error
}

func startWriter(conn *sql.Conn, max int) *writer {
	w := &writer{
		conn: conn,
		max:  max,
		ops:  make(chan *op),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	w.stmts.prep = conn.PrepareContext
	go w.run()
	return w
}

// do runs fn in the writer's next transaction and returns once that transaction is durable:
// fn's error if fn failed (then nothing fn did is kept), the commit's error if the commit
// failed, else nil. A ctx that ends before the writer takes the write yields ctx.Err().
func (w *writer) do(ctx context.Context, fn func(tx *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &op{fn: fn, done: make(chan error, 1)}
	select {
	case w.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.quit:
		return ErrClosed
	}
	return <-o.done
}

// close stops taking writes, lets the batch in hand finish and releases the connection.
func (w *writer) close() error {
	close(w.quit)
	<-w.done
	w.stmts.close()
	return w.conn.Close()
}

func (w *writer) run() {
	defer close(w.done)
	batch := make([]*op, 0, w.max)
	for {
		select {
		case o := <-w.ops:
			batch = append(batch[:0], o)
		case <-w.quit:
			return
		}
		// Everyone who queued while the last commit was syncing is waiting to send now.
	fill:
		for len(batch) < w.max {
			select {
			case o := <-w.ops:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		w.commit(batch)
		w.commits.Add(1)
		w.writes.Add(uint64(len(batch)))
		for i, o := range batch {
			o.done <- o.err
			batch[i] = nil
		}
	}
}

// commit runs the batch in one transaction and sets each op's err.
func (w *writer) commit(batch []*op) {
	// The writer's own statements use a context that never ends: once taken, a write
	// completes whatever its caller's context does.
	ctx := context.Background()
	if err := w.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		failAll(batch, fmt.Errorf("begin: %w", err))
		return
	}
	for _, o := range batch {
		if err := w.apply(ctx, o); err != nil {
			// The transaction itself is broken (SQLite rolls it back by itself on I/O
			// errors, a full disk or running out of memory), so no write of this batch
			// is kept, and no one may hear otherwise.
			w.rollback(ctx)
			failAll(batch, err)
			return
		}
	}
	if err := w.exec(ctx, "COMMIT"); err != nil {
		w.rollback(ctx)
		err = fmt.Errorf("commit: %w", err)
		for _, o := range batch {
			if o.err == nil {
				o.err = err
			}
		}
	}
}

// apply runs o inside a savepoint and records o's own error in o.err. It returns an error
// only when the savepoint cannot be undone or released, which leaves the transaction unusable.
func (w *writer) apply(ctx context.Context, o *op) error {
	if err := w.exec(ctx, "SAVEPOINT op"); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	o.err = o.fn(&wtx{w: w, ctx: ctx})
	if o.err != nil {
		if err := w.exec(ctx, "ROLLBACK TO op"); err != nil {
			return fmt.Errorf("rollback to savepoint after %w: %w", o.err, err)
		}
	}
	if err := w.exec(ctx, "RELEASE op"); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
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

func failAll(batch []*op, err error) {
	for _, o := range batch {
		o.err = err
	}
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

// get scans the single row query returns into dest; ErrNotFound when there is none.
func (tx *wtx) get(query string, args []any, dest ...any) error {
	s, err := tx.w.stmts.stmt(tx.ctx, query)
	if err != nil {
		return err
	}
	return notFound(s.QueryRowContext(tx.ctx, args...).Scan(dest...))
}
