package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/camsd/camsd"
)

// codeIndex decides SaveCode's compare-and-set in memory, as the nonce index decides Use: for
// each number it knows the SentAt of the newest code that is not DeliveryFailed. It can,
// because one process owns the SQLite file and every write of verify_codes is made through
// it (SaveCode, SetCodeStatus), which changes memory and queues the write under one mutex,
// so that memory changes in the order the writer will make the writes.
//
// An entry is in one of three states:
//
//   - fresh: its codeWindow describes the number's codes as the table will hold them once
//     every write of the number queued so far has committed;
//   - loading: its codes are being read from the table; no write of the number is queued or
//     pending meanwhile, and everyone who needs the entry waits;
//   - stale: memory no longer knows the number's codes (a write of the number failed, or
//     changed a code older than memory holds, or the entry was made for a SetCodeStatus).
//     SetCodeStatus queues its write without looking; SaveCode waits until no write of the
//     number is pending, so that the table is the whole truth, and reads it again.
//
// An entry without pending writes can always be read again from the table, so memory is
// bounded: once max numbers are held, adding one drops every entry that has none (as the
// tenant cache does). Each entry holds at most keepCodes codes. At max = 100,000 and
// keepCodes = 4 that is about 30 MB at worst, more only while more than max numbers have
// writes in flight.
//
// A decision rests on writes queued before it that have not committed yet. When one of them
// fails (its transaction does not commit, its statement fails, or its caller withdraws it
// before the writer took it), the entry turns stale and its epoch changes, before any write
// queued after the failed one runs; a SaveCode decided under an older epoch then fails
// instead of inserting (errUndone). So a code is only ever inserted when the compare-and-set
// in memory gave the answer the table gives at the moment of the insert, as the
// compare-and-set in SQL did when it ran in the writer.
type codeIndex struct {
	max int // numbers held; see above

	mu      sync.Mutex
	numbers map[numberKey]*codeEntry
}

// keepCodes is how many of a number's newest codes an entry holds: a status change of an older
// code makes the entry stale. In practice a status is set on the code just saved.
const keepCodes = 4

// noCode is codeWindow.older when there is no live code below the window: older than any time.
const noCode = math.MinInt64

// errUndone fails a SaveCode whose compare-and-set was decided against a write of the same
// number that did not commit after all.
var errUndone = errors.New("decided against a write that did not commit; try again")

type codeEntry struct {
	codeWindow // fresh entries only

	loading chan struct{} // not nil while loading; closed when the load ends
	stale   bool
	pending int           // ops of the number queued and not settled (see op.done)
	idle    chan struct{} // if not nil, closed when pending falls to 0

	// epoch changes (under codeIndex.mu, together with stale) when a write of the number
	// fails; an op's fn reads it without the lock.
	epoch atomic.Uint64
}

// codeWindow is what memory knows of one number's codes.
type codeWindow struct {
	// codes are the newest codes of the number, at most keepCodes, in the order of the table:
	// by SentAt, then by insertion. Every code not held is older: it sorts before codes[0].
	codes []codeMark
	// truncated: the number may have codes that are not held.
	truncated bool
	// older is the SentAt of the newest live code not held, or noCode.
	older int64
}

type codeMark struct {
	sentAt int64 // unix ns
	failed bool  // status DeliveryFailed
}

// newestLive returns the SentAt of the newest code that is not failed, or noCode.
func (w *codeWindow) newestLive() int64 {
	for i := len(w.codes) - 1; i >= 0; i-- {
		if !w.codes[i].failed {
			return w.codes[i].sentAt // every code not held is older
		}
	}
	return w.older
}

// insert adds a code, after those with the same SentAt, as the table orders it (seq is given
// in the order inserts are made, which is the order they are queued).
func (w *codeWindow) insert(m codeMark) {
	if w.truncated && len(w.codes) > 0 && m.sentAt < w.codes[0].sentAt {
		// Older than every code held: it joins those that are not.
		if !m.failed {
			w.older = max(w.older, m.sentAt)
		}
		return
	}
	i := len(w.codes)
	for i > 0 && w.codes[i-1].sentAt > m.sentAt {
		i--
	}
	w.codes = append(w.codes, codeMark{})
	copy(w.codes[i+1:], w.codes[i:])
	w.codes[i] = m
	if len(w.codes) > keepCodes {
		if d := w.codes[0]; !d.failed {
			w.older = max(w.older, d.sentAt)
		}
		w.codes = append(w.codes[:0], w.codes[1:]...)
		w.truncated = true
	}
}

// find returns the index of the code that SetCodeStatus changes, the last inserted of those
// sent at sentAt; or -1, and whether the number certainly has no such code (when it is not
// certain, the code may be older than those held).
func (w *codeWindow) find(sentAt int64) (i int, absent bool) {
	for i := len(w.codes) - 1; i >= 0 && w.codes[i].sentAt >= sentAt; i-- {
		if w.codes[i].sentAt == sentAt {
			return i, false
		}
	}
	// A code sent after codes[0] would be held, and so would the last inserted of those sent
	// at codes[0].sentAt.
	return -1, !w.truncated || len(w.codes) == 0 || sentAt > w.codes[0].sentAt
}

// fresh returns k's entry, fresh, reading the number's codes with load if memory does not
// know them. It returns with x.mu held, unless it fails.
func (x *codeIndex) fresh(ctx context.Context, k numberKey, load func(context.Context, numberKey) (codeWindow, error)) (*codeEntry, error) {
	x.mu.Lock()
	for {
		e := x.numbers[k]
		if e == nil {
			e = &codeEntry{stale: true}
			x.add(k, e)
		}
		var wait chan struct{}
		switch {
		case e.loading != nil:
			wait = e.loading
		case e.stale && e.pending > 0:
			if e.idle == nil {
				e.idle = make(chan struct{})
			}
			wait = e.idle
		case e.stale:
			// Nothing of the number is pending, nor can be queued while loading: the
			// table, which reads see once committed, is the whole truth.
			loading := make(chan struct{})
			e.loading = loading
			x.mu.Unlock()
			w, err := load(ctx, k)
			x.mu.Lock()
			e.loading = nil
			close(loading)
			if err != nil {
				x.mu.Unlock()
				return nil, err
			}
			e.codeWindow, e.stale = w, false
			return e, nil // a loading entry is never dropped: e is still k's
		default:
			return e, nil
		}
		x.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		x.mu.Lock()
	}
}

// entry returns k's entry, fresh or stale but not loading, making a stale one if there is
// none. It returns with x.mu held, unless it fails.
func (x *codeIndex) entry(ctx context.Context, k numberKey) (*codeEntry, error) {
	x.mu.Lock()
	for {
		e := x.numbers[k]
		if e == nil {
			e = &codeEntry{stale: true}
			x.add(k, e)
			return e, nil
		}
		if e.loading == nil {
			return e, nil
		}
		wait := e.loading
		x.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		x.mu.Lock()
	}
}

// add holds e as k's entry, in strings of its own, first dropping every entry without pending
// writes if x holds max. x.mu must be held.
func (x *codeIndex) add(k numberKey, e *codeEntry) {
	if x.numbers == nil {
		x.numbers = make(map[numberKey]*codeEntry)
	}
	if len(x.numbers) >= x.max {
		// Amortized: what stays has writes in flight, a few per request being served.
		for old, oe := range x.numbers {
			if oe.pending == 0 && oe.loading == nil {
				delete(x.numbers, old)
			}
		}
	}
	x.numbers[numberKey{strings.Clone(k.space), strings.Clone(k.number)}] = e
}

// op returns a single op that runs fn on e's number, and that settles e when it is done.
// decided marks the write of a compare-and-set decided in memory: it fails with errUndone,
// writing nothing, if a write of the number failed since. x.mu must be held, and the caller
// must queue the op before it lets go of x.mu, then count it in e.pending.
func (x *codeIndex) op(e *codeEntry, decided bool, fn func(tx *wtx) error) *op {
	epoch := e.epoch.Load()
	return &op{
		single: true, // fn makes one change, with one statement
		fn: func(tx *wtx) error {
			err := errUndone
			if !decided || e.epoch.Load() == epoch {
				err = fn(tx)
			}
			if err != nil {
				// Before the writes queued after this one run, in this transaction too.
				x.mu.Lock()
				x.fail(e)
				x.mu.Unlock()
			}
			return err
		},
		done: func(err error) { x.settle(e, err) },
	}
}

// settle counts one of e's ops out: its transaction ended (err is its final error), or the
// writer dropped it, withdrawn.
func (x *codeIndex) settle(e *codeEntry, err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err != nil {
		x.fail(e)
	}
	e.pending--
	if e.pending == 0 && e.idle != nil {
		close(e.idle)
		e.idle = nil
	}
}

// fail makes e stale after one of its writes failed, and invalidates what was decided before.
// x.mu must be held.
func (x *codeIndex) fail(e *codeEntry) {
	e.stale = true
	e.epoch.Add(1)
}

func (x *codeIndex) len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.numbers)
}

// loadCodes reads what memory keeps of the number's codes from the table. It is called when
// no write of the number is pending, so its two reads see the same codes.
func (db *DB) loadCodes(ctx context.Context, k numberKey) (codeWindow, error) {
	w := codeWindow{older: noCode}
	rows, err := db.query(ctx, `
		SELECT seq, sent_at, status = ?
		FROM verify_codes
		WHERE cust_space_id = ? AND number = ?
		ORDER BY sent_at DESC, seq DESC
		LIMIT ?`,
		string(camsd.DeliveryFailed), k.space, k.number, keepCodes)
	if err != nil {
		return w, fmt.Errorf("load codes: %w", err)
	}
	defer rows.Close()
	var seq int64
	for rows.Next() {
		var m codeMark
		if err := rows.Scan(&seq, &m.sentAt, &m.failed); err != nil {
			return w, fmt.Errorf("load codes: %w", err)
		}
		w.codes = append(w.codes, m)
	}
	if err := rows.Err(); err != nil {
		return w, fmt.Errorf("load codes: %w", err)
	}
	for i, j := 0, len(w.codes)-1; i < j; i, j = i+1, j-1 {
		w.codes[i], w.codes[j] = w.codes[j], w.codes[i]
	}
	if len(w.codes) < keepCodes {
		return w, nil
	}
	w.truncated = true
	first := w.codes[0].sentAt
	var older sql.NullInt64
	err = db.get(ctx, `
		SELECT sent_at FROM verify_codes
		WHERE cust_space_id = ? AND number = ? AND status <> ?
			AND (sent_at < ? OR (sent_at = ? AND seq < ?))
		ORDER BY sent_at DESC
		LIMIT 1`,
		[]any{k.space, k.number, string(camsd.DeliveryFailed), first, first, seq}, &older)
	switch {
	case errors.Is(err, camsd.ErrNotFound):
	case err != nil:
		return w, fmt.Errorf("load codes: %w", err)
	case older.Valid:
		w.older = older.Int64
	}
	return w, nil
}
