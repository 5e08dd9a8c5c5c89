package postgres

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camsd/camsd"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Group commit. The durable writes of the hot path (a nonce, a code's compare-and-set, its
// delivery status, a captured message) do not each take a transaction: they are queued (on a
// camsd.Queue, the queue SQLite's writer takes from too), and each of a few writer goroutines
// takes everything queued when it is free, up to maxGroup (waiting a moment, first, for the
// writes of the calls still running: gather), and makes all of it in one call of write_group
// (migrations 0005, 0010, 0012, 0014, 0015 and 0016): one statement, so one transaction, one
// round trip and one WAL flush for the group. A group holds at most one write of each thing
// (a nonce, a number's code, a code's status); a second one waits for the next group
// (split), so that no write in a group depends on another. A write's method returns once its
// group has committed, with the write's own outcome, so nothing is acknowledged before it is
// durable and a call waits for no more commits than it makes writes, however many calls
// share them.
//
// One write that fails never fails the rest of its group: when the group's statement fails,
// each of its writes is made again alone, and only the failing one returns the error.
//
// Every kind of write shares the writers, so that the writes a call leaves to its Wait (a
// status, a message) ride in the groups of other calls' nonces and codes instead of groups of
// their own: at 32 clients on PostgreSQL + Redis that made about 35% more calls a second and
// cost PostgreSQL a quarter less CPU per call than one writer of their own did. Writes that
// a caller waits for share one queue, which every writer takes from when it is free; the
// writes a call leaves to its Wait all go to the queue of one writer, the one its Call picks,
// so that they are made in the order it made them (one writer's groups are made one after
// the other). The locks write_group takes, in one global order, keep concurrent groups of
// several replicas exact and free of deadlock.

const (
	// writers is how many groups may run at once: while one waits for its commit, the next
	// runs, and PostgreSQL's own group commit lets their flushes meet.
	writers = 2
	// secondFrom is how many writes must wait on the shared queue before a writer starts a
	// group of them while another writer's group is being made; fewer wait for the next group
	// of whichever writer is free first. A group's cost is mostly fixed (its statement,
	// commit, round trip and their system calls), so groups of one or two made beside another
	// cost more than they save in waiting: with three replicas on one 2-core machine, whose
	// groups are a third as large as one replica's, this made 19% more calls a second at 32
	// clients and 4% more at 256 (camsd bench, PostgreSQL + Redis), and one replica 5% more
	// at 32 and 3% fewer at 256, within this machine's noise.
	secondFrom = 4
	// gatherFor bounds how long a writer that holds writes waits for those of the calls still
	// running (gather). A call's way from its request to its write (the signature, Redis's
	// nonce and flow-control script, the code) takes a few hundred microseconds on an idle
	// machine and milliseconds on a saturated one, where the bound ends most gathers: with 3
	// ms rather than 1, three replicas on one 2-core machine made groups of 7.6 writes rather
	// than 5.4 at 32 clients (camsd bench, PostgreSQL + Redis), and more calls a second in 5
	// of 6 alternating pairs (one replica: 3 better, 3 within noise). It is the most a write
	// waits for calls that never write (refused, reads) while they run.
	gatherFor = 3 * time.Millisecond
	// maxGroup bounds one group's writes, so that one statement's locks and work stay short.
	maxGroup = 512
	// groupTimeout bounds one group's statement.
	groupTimeout = 30 * time.Second
	// trimSweepEvery is how often the outbox's trim also deletes below where the last one
	// ended, for messages committed after keep newer ones were numbered (write_group).
	trimSweepEvery = 1024
)

// Kinds of grouped writes, as write_group names them.
const (
	kindNonce   = 'n'
	kindCode    = 'c'
	kindStatus  = 's'
	kindMessage = 'm'
)

// write is one grouped write and, once its commit has ended, its outcome.
type write struct {
	kind byte

	// kindNonce; kindCode when the code carries its call's nonce (accessKeyID not "")
	accessKeyID, nonce string
	expires, now       int64
	// kindCode: code; kindStatus: code.CustSpaceID, PhoneNumber, SentAt and Status
	code         camsd.VerifyCode
	notSentAfter int64
	// kindMessage; kindCode when the code carries its message (withMsg)
	msg     camsd.Message
	keep    int
	withMsg bool

	commit  *camsd.Commit // ended with the write's error once its group is made
	verdict string
	newest  int64 // kindCode's conflict: sent_at of the code it lost to
}

// groups is the queue of grouped writes and its writers.
type groups struct {
	pool       *pgxpool.Pool
	maxNonces  int
	outboxLock int64 // outboxLockOf the DB's schema

	shared    *camsd.Queue[*write]          // writes their callers wait for, taken by every writer
	own       [writers]*camsd.Queue[*write] // writes left to a call's Wait, one queue per writer
	groups    atomic.Uint64                 // groups made
	writes    atomic.Uint64                 // writes made in them
	fallbacks atomic.Uint64                 // groups whose statement failed, so each write was made alone
	gathered  atomic.Int64                  // nanoseconds writers spent in gather
	made      atomic.Int64                  // nanoseconds spent in make
	trimmed   atomic.Int64                  // the outbox's ids up to this one are trimmed (write_group's p_trim_from)
	trims     atomic.Uint64                 // trims made
	busy      atomic.Int32                  // writers gathering or making a group
	running   *camsd.Running                // calls that may yet queue a write (gather)
	gatherFor time.Duration                 // gatherFor, but for tests
	mu        sync.Mutex                    // guards queues and closed
	queues    []interface{ Close() }        // closed by close: these and the Limiter's and number reads' queues
	closed    bool
	wg        sync.WaitGroup // the loops that take from queues
}

var errClosed = errors.New("postgres: closed")

func newGroups(pool *pgxpool.Pool, maxNonces int, schema string) *groups {
	g := &groups{pool: pool, maxNonces: maxNonces, outboxLock: outboxLockOf(schema), shared: camsd.NewQueue[*write]()}
	g.running, g.gatherFor = new(camsd.Running), gatherFor
	g.closeWith(g.shared)
	for i := range g.own {
		g.own[i] = camsd.NewQueue[*write]()
		g.closeWith(g.own[i])
		g.wg.Add(1)
		go g.writer(g.own[i])
	}
	return g
}

// closeWith has close close q, before it waits for the loops that take from it; after close,
// it closes q at once.
func (g *groups) closeWith(q interface{ Close() }) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		q.Close()
	}
	g.queues = append(g.queues, q)
}

// do queues w and waits for its group to commit. Should ctx end first, do returns its error,
// and w is still made: a queued write is never dropped.
func (g *groups) do(ctx context.Context, call *camsd.Call, w *write) error {
	if err := g.start(ctx, g.shared, w); err != nil {
		return err
	}
	call.Blocked() // after the Put: a writer that waits for call finds its write queued
	defer call.Unblocked()
	return w.commit.Wait(ctx)
}

// later queues w for a write whose caller needs nothing from it but its commit: without a
// call it waits for the commit, like do; with one it returns once w is queued and registers
// the wait with call, so that w's commit may be the one its call's next writes share.
func (g *groups) later(ctx context.Context, call *camsd.Call, w *write, wrap func(error) error) error {
	q := g.shared // without a call, w is waited for at once
	if call != nil {
		q = g.own[callQueue(call)]
	}
	if err := g.start(ctx, q, w); err != nil {
		return wrap(err)
	}
	if call == nil {
		return wrap(w.commit.Wait(ctx))
	}
	return call.Await(w.commit, wrap)
}

// callQueue is the writer whose queue takes the writes call leaves to its Wait: one for all of
// them, picked by the Call's address (Go's heap objects do not move), so that calls spread
// over the writers.
func callQueue(call *camsd.Call) int {
	return int(reflect.ValueOf(call).Pointer()>>4) % writers
}

// start queues w on q.
func (g *groups) start(ctx context.Context, q *camsd.Queue[*write], w *write) error {
	w.commit = camsd.NewCommit()
	return enqueue(ctx, q, w)
}

// close makes everything queued so far (writes, flow-control decisions, number reads), then
// stops the loops that take them. What is queued after it fails with errClosed.
func (g *groups) close() {
	g.mu.Lock()
	qs := g.queues
	g.closed = true
	g.mu.Unlock()
	for _, q := range qs {
		q.Close()
	}
	g.wg.Wait()
}

// writer makes groups until close: when it is free it takes what is queued, on the shared
// queue (unless another writer's group is being made and fewer than secondFrom wait there)
// and then on its own, up to maxGroup, and makes it; a write of something the group
// already writes (a second code of a number, say) waits for this writer's next group, ahead
// of what is queued after it. Once both queues are closed and it has made what they held, it
// returns.
func (g *groups) writer(own *camsd.Queue[*write]) {
	defer g.wg.Done()
	var carry []*write
	for {
		batch, sharedClosed := carry, false
		if g.busy.Load() == 0 || g.shared.Len() >= secondFrom || g.shared.Closed() {
			batch, sharedClosed = g.shared.Take(carry, maxGroup)
		}
		batch, ownClosed := own.Take(batch, maxGroup)
		if len(batch) == 0 {
			if sharedClosed && ownClosed {
				return
			}
			select {
			case <-g.shared.Ready():
			case <-own.Ready():
			}
			continue
		}
		g.busy.Add(1)
		start := time.Now()
		batch = g.gather(batch, own)
		g.gathered.Add(int64(time.Since(start)))
		var group []*write
		group, carry = split(batch)
		g.make(group)
		g.busy.Add(-1)
	}
}

// gather adds to batch what is queued while calls still run (g.running), until none does, the
// group is full or gatherFor has passed: a writer that holds a few writes waits a moment for
// the writes of the calls on their way instead of making a group without them.
func (g *groups) gather(batch []*write, own *camsd.Queue[*write]) []*write {
	if g.running.Count() == 0 {
		return batch
	}
	t := time.NewTimer(g.gatherFor)
	defer t.Stop()
	for len(batch) < maxGroup {
		stopped := g.running.Stopped() // before Count: a call that stops after it closes it
		if g.running.Count() == 0 {
			break
		}
		select {
		case <-stopped:
		case <-g.shared.Ready():
		case <-own.Ready():
		case <-t.C:
			return batch
		}
		var sharedClosed, ownClosed bool
		batch, sharedClosed = g.shared.Take(batch, maxGroup)
		batch, ownClosed = own.Take(batch, maxGroup)
		if sharedClosed || ownClosed {
			break
		}
	}
	return batch
}

// makeAll makes batch in as many groups as split needs.
func (g *groups) makeAll(batch []*write) {
	for len(batch) > 0 {
		var group []*write
		group, batch = split(batch)
		g.make(group)
	}
}

// split returns the writes of batch that one group can make, at most one write of each
// thing (a nonce of an AccessKey, a code of a number in a space, a status of a code), and
// the others, in their order.
func split(batch []*write) (group, rest []*write) {
	seen := make(map[string]bool, len(batch))
	for _, w := range batch {
		var things [2]string
		switch w.kind {
		case kindNonce:
			things[0] = "n\x00" + w.accessKeyID + "\x00" + w.nonce
		case kindCode:
			things[0] = "c\x00" + w.code.CustSpaceID + "\x00" + w.code.PhoneNumber
			if w.accessKeyID != "" {
				things[1] = "n\x00" + w.accessKeyID + "\x00" + w.nonce
			}
		case kindStatus:
			things[0] = fmt.Sprintf("s\x00%s\x00%s\x00%d", w.code.CustSpaceID, w.code.PhoneNumber, toNanos(w.code.SentAt))
		}
		if (things[0] != "" && seen[things[0]]) || (things[1] != "" && seen[things[1]]) {
			rest = append(rest, w)
			continue
		}
		for _, t := range things {
			if t != "" {
				seen[t] = true
			}
		}
		group = append(group, w)
	}
	return group, rest
}

// make makes batch as one group; if the group fails, each write alone. Its time is counted
// before a write's commit ends, so that the write's caller finds it in GroupStats.
func (g *groups) make(batch []*write) {
	start := time.Now()
	count := func() { // the time since start, made
		now := time.Now()
		g.made.Add(int64(now.Sub(start)))
		start = now
	}
	g.groups.Add(1)
	g.writes.Add(uint64(len(batch)))
	err := g.exec(batch)
	if err != nil && len(batch) > 1 {
		g.fallbacks.Add(1)
		for _, w := range batch {
			err := g.exec([]*write{w})
			count()
			w.commit.End(err)
		}
		return
	}
	count()
	for _, w := range batch {
		w.commit.End(err)
	}
}

// groupSQL calls write_group with groups.args.
const groupSQL = `SELECT kind, idx, verdict, newest FROM write_group(
	$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
	$17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35)`

// args returns groupSQL's arguments for batch, and batch's writes by kind, in their order.
func (g *groups) args(batch []*write) ([]any, map[byte][]*write) {
	var a groupArgs
	byKind := map[byte][]*write{}
	for _, w := range batch {
		a.add(w)
		byKind[w.kind] = append(byKind[w.kind], w)
	}
	a.addCodeMessages()
	return []any{a.nKey, a.nNonce, a.nExpires, a.nNow, g.maxNonces,
		a.cSpace, a.cNumber, a.cCode, a.cMethod, a.cLocale, a.cSent, a.cExpires, a.cRequest,
		a.cAccessKey, a.cStatus, a.cNotAfter, a.cNonceKey, a.cNonce, a.cNonceExpires, a.cNonceNow,
		a.sSpace, a.sNumber, a.sSent, a.sStatus,
		a.mPhone, a.mMethod, a.mLocale, a.mCode, a.mText, a.mCreated, a.mOf, a.keep, g.outboxLock,
		g.trimmed.Load(), g.trims.Load()%trimSweepEvery == trimSweepEvery-1}, byKind
}

// exec runs write_group for batch and records each write's verdict.
func (g *groups) exec(batch []*write) error {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	return g.execOn(ctx, g.pool, batch)
}

// querier runs a statement: the pool, or one connection of it (a benchmark's).
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// execOn runs write_group for batch on q, and records each write's verdict and the outbox's
// trim.
func (g *groups) execOn(ctx context.Context, q querier, batch []*write) error {
	args, byKind := g.args(batch)
	rows, err := q.Query(ctx, groupSQL, args...)
	if err != nil {
		return fmt.Errorf("postgres: write group: %w", err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var (
			kind, verdict string
			idx           int
			newest        int64
		)
		if err := rows.Scan(&kind, &idx, &verdict, &newest); err != nil {
			return fmt.Errorf("postgres: write group: %w", err)
		}
		if kind == "t" { // the group trimmed the outbox up to newest
			g.trims.Add(1)
			for old := g.trimmed.Load(); newest > old && !g.trimmed.CompareAndSwap(old, newest); old = g.trimmed.Load() {
			}
			continue
		}
		ws := byKind[kind[0]]
		if len(kind) != 1 || idx < 1 || idx > len(ws) {
			return fmt.Errorf("postgres: write group: unexpected row %q %d", kind, idx)
		}
		ws[idx-1].verdict, ws[idx-1].newest = verdict, newest
		seen++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: write group: %w", err)
	}
	if seen != len(batch) {
		return fmt.Errorf("postgres: write group: %d verdicts for %d writes", seen, len(batch))
	}
	return nil
}

// groupArgs are write_group's arrays.
type groupArgs struct {
	nKey, nNonce    []string
	nExpires, nNow  []int64
	cSpace, cNumber []string
	cCode, cMethod  []string
	cLocale         []string
	cSent, cExpires []int64
	cRequest        []string
	cAccessKey      []string
	cStatus         []string
	cNotAfter       []int64
	cNonceKey       []string
	cNonce          []string
	cNonceExpires   []int64
	cNonceNow       []int64
	sSpace, sNumber []string
	sSent           []int64
	sStatus         []string
	mPhone, mMethod []string
	mLocale, mCode  []string
	mText           []string
	mCreated        []int64
	mOf             []int32 // the code a message belongs to (its index, from 1), or 0
	keep            int

	// codeMessages are the messages codes carry, with their code's index: they follow the
	// messages of their own in the m arrays (addCodeMessages).
	codeMessages []codeMessage
}

type codeMessage struct {
	code int32
	w    *write
}

func (a *groupArgs) add(w *write) {
	switch w.kind {
	case kindNonce:
		a.nKey, a.nNonce = append(a.nKey, w.accessKeyID), append(a.nNonce, w.nonce)
		a.nExpires, a.nNow = append(a.nExpires, w.expires), append(a.nNow, w.now)
	case kindCode:
		c := &w.code
		a.cSpace, a.cNumber = append(a.cSpace, c.CustSpaceID), append(a.cNumber, c.PhoneNumber)
		a.cCode, a.cMethod = append(a.cCode, c.Code), append(a.cMethod, c.Method)
		a.cLocale = append(a.cLocale, c.Locale)
		a.cSent, a.cExpires = append(a.cSent, toNanos(c.SentAt)), append(a.cExpires, toNanos(c.ExpiresAt))
		a.cRequest, a.cAccessKey = append(a.cRequest, c.RequestID), append(a.cAccessKey, c.AccessKeyID)
		a.cStatus, a.cNotAfter = append(a.cStatus, string(c.Status)), append(a.cNotAfter, w.notSentAfter)
		a.cNonceKey, a.cNonce = append(a.cNonceKey, w.accessKeyID), append(a.cNonce, w.nonce)
		a.cNonceExpires, a.cNonceNow = append(a.cNonceExpires, w.expires), append(a.cNonceNow, w.now)
		if w.withMsg {
			a.codeMessages = append(a.codeMessages, codeMessage{int32(len(a.cSpace)), w})
		}
	case kindStatus:
		c := &w.code
		a.sSpace, a.sNumber = append(a.sSpace, c.CustSpaceID), append(a.sNumber, c.PhoneNumber)
		a.sSent, a.sStatus = append(a.sSent, toNanos(c.SentAt)), append(a.sStatus, string(c.Status))
	case kindMessage:
		a.addMessage(w, 0)
	}
}

// addMessage adds w's message, of the code of index code (from 1), or of its own (0).
func (a *groupArgs) addMessage(w *write, code int32) {
	m := &w.msg
	a.mPhone, a.mMethod = append(a.mPhone, m.PhoneNumber), append(a.mMethod, m.Method)
	a.mLocale, a.mCode = append(a.mLocale, m.Locale), append(a.mCode, m.Code)
	a.mText, a.mCreated = append(a.mText, m.Text), append(a.mCreated, toNanos(m.CreatedAt))
	a.mOf = append(a.mOf, code)
	// Every caller passes the simulator's retention; the smallest positive one wins.
	if w.keep > 0 && (a.keep == 0 || w.keep < a.keep) {
		a.keep = w.keep
	}
}

// addCodeMessages adds the messages codes carry, after every message of its own.
func (a *groupArgs) addCodeMessages() {
	for _, cm := range a.codeMessages {
		a.addMessage(cm.w, cm.code)
	}
}

// GroupStats says how the grouped writes went since Open.
type GroupStats struct {
	Groups    uint64 // groups made, each one statement and one commit
	Writes    uint64 // writes made in them
	Fallbacks uint64 // groups whose statement failed, so that each write was made alone
	// Gathering is the time writers spent waiting for the writes of calls still running
	// before they made their groups; Making, the time they spent making them (statement,
	// commit and, should a group fail, its writes one by one).
	Gathering, Making time.Duration
}

// GroupStats returns the counts of grouped writes since Open.
func (db *DB) GroupStats() GroupStats {
	g := db.groups
	return GroupStats{Groups: g.groups.Load(), Writes: g.writes.Load(), Fallbacks: g.fallbacks.Load(),
		Gathering: time.Duration(g.gathered.Load()), Making: time.Duration(g.made.Load())}
}
