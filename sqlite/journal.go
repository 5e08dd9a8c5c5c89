package sqlite

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/camsd/camsd"
)

// journal holds the writes to verify_codes, messages and nonce_log that the writer has not
// applied to those tables yet: codes sent, their delivery status, captured messages, nonces.
// A call that sends a code makes four such writes; applied one by one they cost an insert
// with an index entry at a random place, an insert, an update and a nonce, and a SQLite
// commit that writes every page they touched. Journaled, they cost one record per group of
// writes, appended to a file of their own (jlog.go) and fsynced by the syncer, and they are
// applied many groups' worth at once: by a job beside the writer once applyAt of them wait
// (writer.startJob), or by the writer itself before an op that is not journalSafe runs or
// when a read asks (DB.settle), each time in a transaction that also records which
// generation of the log it applied, fsynced before that generation's file is reused. So
// every acknowledged write is in one of the two places, whatever crashes when; Open applies
// what the log holds beyond the tables.
//
// Entries keep the order in which their ops ran. A delivery status set on a code that is
// still in the journal is folded into the code's entry when the code was journaled in the
// open group, and journaled as an entry of its own otherwise, so that a group that fails
// never leaves a change in an entry that a written record holds.
//
// Only the writer's goroutine touches a journal, except unapplied, and a job's reads of the
// entries it applies, which nothing changes while it runs.
type journal struct {
	entries []jentry
	durable int // entries[:durable] are in records of the log
	applied int // entries[:applied] were applied inside the open group's transaction
	applyAt int // apply once this many entries wait at the end of a group

	log *jlog        // nil: entries are applied at the end of every group
	now func() int64 // unix ns, for the nonces' expiry

	// unapplied is len(entries) as of the end of the last group: a reader that finds it 0
	// finds in the tables every write acknowledged before it looked.
	unapplied atomic.Int64
}

// defaultApplyAt bounds the journal: about 11,000 calls' nonces, codes and messages, applied
// in one transaction of some 100 ms beside the writer. Larger, it costs less per call: the
// transaction writes each page it changes once, and the codes of a busy server land all over
// verify_codes' index, so a job rewrites most of its leaf pages however few codes it brings
// (and fewer messages are inserted only to be trimmed). Measured with `camsd bench` (2 cores,
// 256 clients, 3 alternations): 32768 entries instead of 8192 took camsd from 138-144 to
// 112-119 µs of CPU per call. Smaller, a read that must wait for the journal to be applied
// (settle) waits less under load.
const defaultApplyAt = 32768

type jkind byte

const (
	jCode    jkind = 'c' // a row of verify_codes
	jStatus  jkind = 's' // the delivery status of the last code recorded for (space, number, at)
	jMessage jkind = 'm' // a row of messages, and the outbox's bound
	jNonce   jkind = 'n' // a nonce of an AccessKey until it expires
)

// jentry is one journaled write. Times are unix nanoseconds.
type jentry struct {
	kind jkind
	// jCode and jStatus: the number's space.
	space string
	// jCode, jStatus, jMessage: the phone number.
	number string
	// jCode and jMessage; jNonce: the nonce in code.
	code, method, locale string
	// jCode: sent_at; jStatus: the code's sent_at; jMessage: created_at.
	at int64
	// jCode; jNonce: expiresAt and accessKeyID.
	expiresAt              int64
	requestID, accessKeyID string
	// jCode and jStatus.
	status string
	// jMessage: the text, and how many messages the outbox keeps (0: all).
	text string
	keep int64
}

// pending reports whether entries wait to be applied.
func (j *journal) pending() bool { return len(j.entries) > j.applied }

func (j *journal) add(e jentry) { j.entries = append(j.entries, e) }

// setStatus sets the status of the last code journaled for (space, number, at) and reports
// whether there was one. With none, the code, if any, is in verify_codes.
func (j *journal) setStatus(space, number string, at int64, status string) bool {
	for i := len(j.entries) - 1; i >= j.applied; i-- {
		e := &j.entries[i]
		if e.kind != jCode || e.at != at || e.number != number || e.space != space {
			continue
		}
		if i >= j.durable {
			e.status = status // the open group's own entry
		} else {
			j.add(jentry{kind: jStatus, space: space, number: number, at: at, status: status})
		}
		return true
	}
	return false
}

// write appends what the group journaled and did not apply to the log, as one record, and
// returns the file it went to (nil: there was nothing to write).
func (j *journal) write() (*os.File, error) {
	from := max(j.applied, j.durable)
	if from == len(j.entries) {
		return nil, nil
	}
	f := j.log.file()
	return f, j.log.append(j.entries[from:])
}

// apply writes every waiting entry to the tables inside tx, in order, and records that the
// tables have every record of the log's current generation. A failure leaves tx half done:
// the caller must roll it back.
func (j *journal) apply(tx *wtx) error {
	es := j.entries[j.applied:]
	if len(es) == 0 {
		return nil
	}
	var gen uint64
	if j.log != nil {
		gen = j.log.gen
	}
	if err := applyAll(tx, es, j.now(), gen); err != nil {
		return err
	}
	j.applied = len(j.entries)
	return nil
}

// applyAll writes es to the tables inside tx and, unless gen is 0, records that the tables
// have every record of the log up to generation gen.
func applyAll(tx *wtx, es []jentry, now int64, gen uint64) error {
	if err := applyJEntries(tx, es); err != nil {
		return err
	}
	if err := applyNonces(tx, es, now); err != nil {
		return err
	}
	if gen > 0 {
		if _, err := tx.exec(`UPDATE journal_state SET gen = ?`, int64(gen)); err != nil {
			return fmt.Errorf("record the journal's generation: %w", err)
		}
	}
	return nil
}

// applyNonces writes the live nonces of es as one row of nonce_log, and deletes the rows
// whose nonces have all expired.
func applyNonces(tx *wtx, es []jentry, now int64) error {
	var nonces nonceLog
	for i := range es {
		if e := &es[i]; e.kind == jNonce && e.expiresAt > now {
			nonces.add(e.accessKeyID, e.code, e.expiresAt)
		}
	}
	if err := nonces.flush(tx); err != nil {
		return fmt.Errorf("write nonces: %w", err)
	}
	if _, err := tx.exec(`DELETE FROM nonce_log WHERE expires_at <= ?`, now); err != nil {
		return fmt.Errorf("prune nonces: %w", err)
	}
	return nil
}

// applyJEntries writes es to the tables: codes with their last status, and the messages that
// the outbox keeps, trimming it to its bound.
func applyJEntries(tx *wtx, es []jentry) error {
	status := make([]string, len(es))
	var keep int64
	nmsg := 0
	for i, e := range es {
		switch e.kind {
		case jCode:
			status[i] = e.status
		case jStatus:
			found := false
			for k := i - 1; k >= 0 && !found; k-- {
				if c := es[k]; c.kind == jCode && c.at == e.at && c.number == e.number && c.space == e.space {
					status[k], found = e.status, true
				}
			}
			if !found {
				// Its code was applied before es (by a job that began after the status
				// was set): it is in verify_codes, before any code of es. Or, replaying
				// after a power cut, its code's record may be lost while this one was
				// not: that code was never acknowledged, and its status goes with it.
				err := updateCodeStatus(tx, e.space, e.number, e.at, e.status)
				if err != nil && !errors.Is(err, camsd.ErrNotFound) {
					return fmt.Errorf("apply journaled status: %w", err)
				}
			}
		case jMessage:
			keep = e.keep
			nmsg++
		}
	}
	skip := 0 // messages that the outbox would drop at once
	if keep > 0 && int64(nmsg) > keep {
		skip = nmsg - int(keep)
	}
	var newest int64
	for i, e := range es {
		switch e.kind {
		case jCode:
			if _, err := tx.exec(`
				INSERT INTO verify_codes (cust_space_id, number, code, method, locale, sent_at,
					expires_at, request_id, access_key_id, status)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				e.space, e.number, e.code, e.method, e.locale, e.at,
				e.expiresAt, e.requestID, e.accessKeyID, status[i]); err != nil {
				return fmt.Errorf("apply journaled code: %w", err)
			}
		case jMessage:
			if skip > 0 {
				skip--
				continue
			}
			res, err := tx.exec(`
				INSERT INTO messages (phone_number, method, locale, code, text, created_at)
				VALUES (?, ?, ?, ?, ?, ?)`,
				e.number, e.method, e.locale, e.code, e.text, e.at)
			if err != nil {
				return fmt.Errorf("apply journaled message: %w", err)
			}
			if newest, err = res.LastInsertId(); err != nil {
				return err
			}
		}
	}
	if keep > 0 && newest > 0 {
		// AUTOINCREMENT ids are dense here (a rolled-back insert takes its id back with it),
		// so this keeps exactly keep rows, with a range delete on the primary key.
		if _, err := tx.exec(`DELETE FROM messages WHERE id <= ?`, newest-keep); err != nil {
			return fmt.Errorf("trim outbox: %w", err)
		}
	}
	return nil
}

// dropApplied forgets entries[:n], which an application beside the writer has put in the
// tables, durably.
func (j *journal) dropApplied(n int) {
	m := copy(j.entries, j.entries[n:])
	clear(j.entries[m:])
	j.entries = j.entries[:m]
	j.durable -= n
	j.unapplied.Store(int64(m))
}

// committed is told that the group ended well: what it applied is in the tables, durably,
// and the rest in the log.
func (j *journal) committed() {
	if j.applied > 0 { // (then no application runs beside the writer to read entries)
		n := copy(j.entries, j.entries[j.applied:])
		clear(j.entries[n:])
		j.entries = j.entries[:n]
	}
	j.durable, j.applied = len(j.entries), 0
	j.unapplied.Store(int64(len(j.entries)))
}

// rolledBack is told that the group failed: what it journaled is gone, and what it applied
// is back in the journal.
func (j *journal) rolledBack() {
	clear(j.entries[j.durable:])
	j.entries = j.entries[:j.durable]
	j.applied = 0
	j.unapplied.Store(int64(len(j.entries)))
}

// replay takes es, what the log held beyond the tables at Open, as waiting entries and
// applies them inside the writer's transaction.
func (j *journal) replay(tx *wtx, es []jentry) error {
	if len(j.entries) > 0 {
		return errors.New("journal replayed while it holds entries")
	}
	j.entries, j.durable, j.applied = es, len(es), 0
	return j.apply(tx)
}

// The format of a log record's entries: a version byte, then entries, each a kind byte and its fields,
// strings as a uvarint length and the bytes, integers as varints.
const jVersion = 1

var errJournalEntry = errors.New("malformed journal entries")

func appendJEntries(b []byte, es []jentry) []byte {
	b = append(b, jVersion)
	for i := range es {
		e := &es[i]
		b = append(b, byte(e.kind))
		switch e.kind {
		case jCode:
			b = appendStrings(b, e.space, e.number, e.code, e.method, e.locale)
			b = binary.AppendVarint(b, e.at)
			b = binary.AppendVarint(b, e.expiresAt)
			b = appendStrings(b, e.requestID, e.accessKeyID, e.status)
		case jStatus:
			b = appendStrings(b, e.space, e.number)
			b = binary.AppendVarint(b, e.at)
			b = appendStrings(b, e.status)
		case jMessage:
			b = appendStrings(b, e.number, e.method, e.locale, e.code, e.text)
			b = binary.AppendVarint(b, e.at)
			b = binary.AppendVarint(b, e.keep)
		case jNonce:
			b = appendStrings(b, e.accessKeyID, e.code)
			b = binary.AppendVarint(b, e.expiresAt)
		}
	}
	return b
}

func appendStrings(b []byte, ss ...string) []byte {
	for _, s := range ss {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// decodeJEntries appends the entries of one log record to es.
func decodeJEntries(es []jentry, b []byte) ([]jentry, error) {
	d := jdecoder{b: b}
	if v := d.byte(); d.err == nil && v != jVersion {
		return es, fmt.Errorf("%w: version %d", errJournalEntry, v)
	}
	for d.err == nil && len(d.b) > 0 {
		e := jentry{kind: jkind(d.byte())}
		switch e.kind {
		case jCode:
			e.space, e.number, e.code, e.method, e.locale = d.str(), d.str(), d.str(), d.str(), d.str()
			e.at, e.expiresAt = d.varint(), d.varint()
			e.requestID, e.accessKeyID, e.status = d.str(), d.str(), d.str()
		case jStatus:
			e.space, e.number = d.str(), d.str()
			e.at = d.varint()
			e.status = d.str()
		case jMessage:
			e.number, e.method, e.locale, e.code, e.text = d.str(), d.str(), d.str(), d.str(), d.str()
			e.at, e.keep = d.varint(), d.varint()
		case jNonce:
			e.accessKeyID, e.code = d.str(), d.str()
			e.expiresAt = d.varint()
		default:
			d.fail(fmt.Sprintf("entry kind %q", byte(e.kind)))
		}
		if d.err == nil {
			es = append(es, e)
		}
	}
	return es, d.err
}

type jdecoder struct {
	b   []byte
	err error
	tmp [binary.MaxVarintLen64]byte
}

func (d *jdecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at %d bytes from the end", errJournalEntry, what, len(d.b))
	}
	d.b = nil
}

func (d *jdecoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("missing byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// Integers must be in their shortest form, so that a row has one encoding.

func (d *jdecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 || n != len(binary.AppendVarint(d.tmp[:0], v)) {
		d.fail("bad integer")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *jdecoder) str() string {
	l, n := binary.Uvarint(d.b)
	if n <= 0 || n != len(binary.AppendUvarint(d.tmp[:0], l)) || l > uint64(len(d.b)-n) {
		d.fail("bad string")
		return ""
	}
	s := string(d.b[n : n+int(l)])
	d.b = d.b[n+int(l):]
	return s
}

// settle returns once every write to verify_codes, messages and nonce_log acknowledged
// before it was called is in those tables, for a read of them. It waits for the writer only
// when the journal holds entries.
func (db *DB) settle(ctx context.Context) error { return db.w.settle(ctx) }

// settle returns once the journal holds nothing acknowledged before it was called.
func (w *writer) settle(ctx context.Context) error {
	if w.jr.unapplied.Load() == 0 {
		return nil
	}
	// An op that is not journalSafe: the writer applies the journal before it runs.
	return w.do(ctx, &op{single: true, fn: func(*wtx) error { return nil }})
}
