package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/camsd/camsd"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// GroupWrite is one write of a group made by MakeGroup: a nonce (Nonce set), a code (Code set,
// with NotSentAfter; with Message, the message it carries; with Nonce, its call's nonce), a status (Status set:
// Code names the code) or a message (Message set alone).
type GroupWrite struct {
	AccessKeyID, Nonce string
	Expires, Now       time.Time

	Code         *camsd.VerifyCode
	NotSentAfter time.Time
	Status       camsd.DeliveryStatus

	Message *camsd.Message
	Keep    int
}

// MakeGroup makes ws as a writer makes what it took from the queue (in one group, or more when
// two of them write one thing), and returns each write's verdict and error.
func MakeGroup(db *DB, ws ...GroupWrite) (verdicts []string, errs []error) {
	batch := writesOf(ws)
	db.groups.makeAll(batch)
	for _, w := range batch {
		verdicts, errs = append(verdicts, w.verdict), append(errs, w.commit.Wait(context.Background()))
	}
	return verdicts, errs
}

// RunGroup runs write_group for ws (one group: no two may write one thing) on conn, whose
// session keeps the function's plans, made the first time it runs there, as a writer runs it:
// it returns the writes' verdicts and records the outbox's trim, so that the next group trims
// from where this one ended (not from the outbox's first id, over every row deleted since).
func RunGroup(ctx context.Context, db *DB, conn *pgx.Conn, ws ...GroupWrite) ([]string, error) {
	batch := writesOf(ws)
	if err := db.groups.execOn(ctx, conn, batch); err != nil {
		return nil, err
	}
	verdicts := make([]string, len(batch))
	for i, w := range batch {
		verdicts[i] = w.verdict
	}
	return verdicts, nil
}

// ExplainGroup is RunGroup under EXPLAIN (ANALYZE, BUFFERS): it returns how many shared
// buffers write_group touched, its nested statements' included.
func ExplainGroup(ctx context.Context, db *DB, conn *pgx.Conn, ws ...GroupWrite) (int, error) {
	args, _ := db.groups.args(writesOf(ws))
	var plan []struct {
		Plan struct {
			Hit  int `json:"Shared Hit Blocks"`
			Read int `json:"Shared Read Blocks"`
		}
	}
	if err := conn.QueryRow(ctx, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+groupSQL, args...).Scan(&plan); err != nil {
		return 0, err
	}
	if len(plan) != 1 {
		return 0, fmt.Errorf("EXPLAIN returned %d plans", len(plan))
	}
	return plan[0].Plan.Hit + plan[0].Plan.Read, nil
}

// Acquire returns a connection of db's pool, in db's schema.
func Acquire(ctx context.Context, db *DB) (*pgxpool.Conn, error) { return db.pool.Acquire(ctx) }

func writesOf(ws []GroupWrite) []*write {
	batch := make([]*write, len(ws))
	for i, g := range ws {
		w := &write{commit: camsd.NewCommit()}
		switch {
		case g.Code == nil && g.Nonce != "":
			w.kind, w.accessKeyID, w.nonce, w.expires, w.now = kindNonce, g.AccessKeyID, g.Nonce, toNanos(g.Expires), toNanos(g.Now)
		case g.Code != nil && g.Status != "":
			w.kind, w.code = kindStatus, *g.Code
			w.code.Status = g.Status
		case g.Code != nil:
			w.kind, w.code, w.notSentAfter = kindCode, *g.Code, toNanos(g.NotSentAfter)
			if g.Message != nil {
				w.msg, w.keep, w.withMsg = *g.Message, g.Keep, true
			}
			if g.Nonce != "" { // the nonce of the code's call
				w.accessKeyID, w.nonce, w.expires, w.now = g.AccessKeyID, g.Nonce, toNanos(g.Expires), toNanos(g.Now)
			}
		case g.Message != nil:
			w.kind, w.msg, w.keep = kindMessage, *g.Message, g.Keep
		}
		batch[i] = w
	}
	return batch
}
