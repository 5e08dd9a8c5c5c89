package postgres

import (
	"context"
	"time"

	"github.com/camsd/camsd"
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
	db.groups.makeAll(batch)
	for _, w := range batch {
		verdicts, errs = append(verdicts, w.verdict), append(errs, w.commit.Wait(context.Background()))
	}
	return verdicts, errs
}
