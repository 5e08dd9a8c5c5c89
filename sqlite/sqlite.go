// Package sqlite is camsd's system of record on one embedded SQLite file: the Store, the
// NonceStore and the simulator's Outbox.
//
// It uses modernc.org/sqlite, SQLite transpiled to pure Go, rather than a cgo binding: camsd
// then builds with CGO_ENABLED=0 into one static binary that cross-compiles and runs on a
// scratch image, which is most of what "self-hosted" asks of it.
//
// Every write is on stable storage before the method returns, or, when the context carries a
// camsd.Call, before its Wait returns (see durability.go), so a crash never loses what
// was acknowledged. To keep that affordable, writes go through one writer goroutine that makes
// many callers' writes in one group (group commit, see writer.go). Nonces, codes, their
// delivery status and captured messages go to a journal: one record per group appended to a
// log file beside the database (jlog.go), which a syncer goroutine fsyncs while the writer
// runs the next group (syncer.go), and applied to their tables in bulk, before any read of
// them (journal.go). Other writes run in a SQLite transaction that the writer commits and
// fsyncs itself. Reads use a separate read-only pool, which WAL lets
// run beside the writer, and the tenants every request reads are cached in memory (cache.go).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/seal"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

var (
	_ camsd.Store      = (*DB)(nil)
	_ camsd.NonceStore = (*DB)(nil)
	_ camsd.Outbox     = (*DB)(nil)
)

// ErrClosed is returned by writes made after Close.
var ErrClosed = errors.New("sqlite: database closed")

// busyTimeout bounds how long a connection waits for a lock another process holds (an admin
// command opening the same file); inside this process the writer is the only writer.
const busyTimeout = 5 * time.Second

// DB is the SQLite database. Set the exported fields before Open.
type DB struct {
	// Now is the clock for nonce expiry and pruning. Default time.Now.
	Now func() time.Time
	// MaxNonces is how many live nonces one AccessKey may hold. Default 1,000,000.
	MaxNonces int
	// Keys seal AccessKey secrets and PINs at rest (sealed.go); nil or empty: stored as
	// they come.
	Keys *seal.Keyring

	path     string
	maxBatch int // writes per group commit; a field so the benchmark can turn batching off
	// journalApplyAt is how many journaled writes wait before the writer applies them
	// (journal.go); 0: defaultApplyAt. A field so that tests can make it small.
	journalApplyAt int
	// fsync makes the write-ahead log and the journal's log durable; nil: syncLog. Tests hold it or make
	// it fail.
	fsync func(*os.File) error

	wdb     *sql.DB // the writer's single connection
	rdb     *sql.DB // read-only pool
	w       *writer
	rstmts  stmtCache
	tenants tenantCache
	nonces  *nonceIndex
	codes   codeGate

	closeMu sync.Mutex
	closed  bool
}

// NewDB returns a DB for the database file at path (for example ./camsd-data/camsd.db).
// Nothing is opened until Open.
func NewDB(path string) *DB {
	return &DB{
		Now:       time.Now,
		MaxNonces: 1_000_000,
		path:      path,
		maxBatch:  256,
		tenants:   tenantCache{max: 10_000},
	}
}

// Open creates the file and its directory if needed, brings the schema up to date, seals the
// secrets still in plaintext when Keys has a key (and refuses a database sealed with a key it
// lacks: *seal.MissingKeyError) and loads the live nonces.
func (db *DB) Open() (err error) {
	if db.path == "" {
		return errors.New("sqlite: database path required")
	}
	if strings.ContainsRune(db.path, '?') {
		// The driver splits the DSN at the first '?'.
		return fmt.Errorf("sqlite: database path %q must not contain '?'", db.path)
	}
	if err := os.MkdirAll(filepath.Dir(db.path), 0o700); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	// The file holds AccessKey secrets. SQLite would create it 0644; made first, 0600, it
	// keeps that mode, and SQLite gives the -wal and -shm files the mode of the database.
	f, err := os.OpenFile(db.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	f.Close()
	defer func() {
		if err != nil {
			db.closed = true // a failed DB is not opened again; Close has nothing left to do
			db.close()
		}
	}()

	if db.wdb, err = sql.Open("sqlite", writerDSN(db.path)); err != nil {
		return fmt.Errorf("sqlite: open writer: %w", err)
	}
	// One connection: SQLite has one writer per file anyway, and the writer goroutine owns it.
	db.wdb.SetMaxOpenConns(1)
	db.wdb.SetMaxIdleConns(1)
	conn, err := db.wdb.Conn(context.Background())
	if err != nil {
		return fmt.Errorf("sqlite: open writer: %w", err)
	}
	if err := migrate(context.Background(), conn, db.now()); err != nil {
		conn.Close()
		return err
	}
	if err := sealAtStart(context.Background(), conn, db.Keys); err != nil {
		conn.Close()
		return err
	}
	var applied int64
	if err := conn.QueryRowContext(context.Background(), `SELECT gen FROM journal_state`).Scan(&applied); err != nil {
		conn.Close()
		return fmt.Errorf("sqlite: journal state: %w", err)
	}
	l, replay, err := openJlog(db.path, uint64(applied))
	if err != nil {
		conn.Close()
		return fmt.Errorf("sqlite: %w", err)
	}
	applyAt := db.journalApplyAt
	if applyAt <= 0 {
		applyAt = defaultApplyAt
	}
	if db.w, err = startWriter(conn, db.path+"-wal", l, db.fsync, db.maxBatch, applyAt, func() int64 { return db.now().UnixNano() }, db.tenantsChanged); err != nil {
		l.close()
		conn.Close()
		return err
	}
	// What the log holds beyond the tables goes to them, durably, before anyone reads them;
	// then the log starts over empty.
	err = db.w.do(context.Background(), &op{fn: func(tx *wtx) error { return tx.w.jr.replay(tx, replay) }})
	if err != nil {
		return fmt.Errorf("sqlite: apply journal log: %w", err)
	}
	if err := db.w.do(context.Background(), &op{single: true, journalSafe: true, fn: func(tx *wtx) error { return tx.w.jr.log.truncate() }}); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}

	// The read pool is opened after the migrations so that it never sees a half-made schema.
	if db.rdb, err = sql.Open("sqlite", readerDSN(db.path)); err != nil {
		return fmt.Errorf("sqlite: open reader: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	db.rdb.SetMaxOpenConns(n)
	db.rdb.SetMaxIdleConns(n) // the default of 2 would reopen connections under load
	db.rstmts.prep = db.rdb.PrepareContext

	return db.loadNonces(context.Background())
}

// Close waits until every write queued before it is committed (a write queued under a
// Call is always made), then closes the database. Writes made after Close get ErrClosed.
func (db *DB) Close() error {
	db.closeMu.Lock()
	defer db.closeMu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	return db.close()
}

// close releases whatever Open got to. The fields stay set, so that a call after Close
// fails with an error (ErrClosed from the writer) instead of a nil dereference.
func (db *DB) close() error {
	var errs []error
	if db.w != nil {
		errs = append(errs, db.w.close())
	}
	db.rstmts.close()
	if db.rdb != nil {
		errs = append(errs, db.rdb.Close())
	}
	if db.wdb != nil {
		errs = append(errs, db.wdb.Close())
	}
	return errors.Join(errs...)
}

// Ping runs a statement on the writer, through its queue, and on the read pool.
func (db *DB) Ping(ctx context.Context) error {
	// journalSafe: a probe reads no code or message, so it need not apply the journal.
	err := db.w.do(ctx, &op{single: true, journalSafe: true, fn: func(tx *wtx) error {
		var one int
		return tx.get("SELECT 1", nil, &one)
	}})
	if err != nil {
		return fmt.Errorf("sqlite: ping writer: %w", err)
	}
	var one int
	if err := db.get(ctx, "SELECT 1", nil, &one); err != nil {
		return fmt.Errorf("sqlite: ping reader: %w", err)
	}
	return nil
}

func (db *DB) now() time.Time {
	if db.Now == nil {
		return time.Now()
	}
	return db.Now()
}

// writerDSN sets what durability rests on: WAL so that readers never block the writer and a
// commit is one append to the log, synchronous=NORMAL so that COMMIT returns without waiting
// for the disk (the writer's syncer fsyncs the log before any caller hears that its write is
// committed, see syncer.go; a checkpoint syncs the log before it copies it into the database
// and the database after), and BEGIN IMMEDIATE so that a lock held by another process is
// waited for at BEGIN, never half way through a batch.
func writerDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode()
}

// readerDSN makes connections that can only read, so a bug cannot write around the writer.
func readerDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "query_only(1)")
	return path + "?" + q.Encode()
}

// tenantsChanged is the writer's word that a group changed tenants: all of them (nil), or only
// the records of numbers.
func (db *DB) tenantsChanged(numbers []string) {
	if numbers == nil {
		db.tenants.invalidate()
		return
	}
	db.tenants.invalidateNumbers(numbers)
}
