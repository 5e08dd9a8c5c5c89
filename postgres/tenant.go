package postgres

import (
	"context"
	"strings"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/seal"
)

// Principal, Space and PhoneNumber answer from the tenant cache (cache.go) while its listener
// (listen.go) vouches for it. That is safe although replicas share the tables: every change
// of a tenant table, by any replica or by psql, is notified to every replica, which drops what
// it cached as soon as it reads the notification; and when the notification connection is
// lost, or goes quiet for a second, the cache stops answering until it listens again, then
// starts empty. So a disabled key stops signing on every replica within a second, and at once
// on the replica that disabled it. A number's state read from the cache may lag a change made through
// another replica by as long (normally milliseconds): the rules that change a number decide
// inside ChangeNumber, on its current record, a code's compare-and-set reads the codes table
// itself, and a refusal for the number's state, or its status read back, takes the current
// record (PhoneNumberNow).

// principalQuery reads a key, its account, its user and the user's policies in one statement,
// so that one snapshot answers (an ApplySeed between two queries cannot mix old and new).
// There is one row per policy, or one row with a NULL document when there is none.
const principalQuery = `
SELECT k.id, k.secret, k.uid, k.user_name, k.status, a.name, a.subscribed, a.qps, p.document
FROM access_keys k
JOIN accounts a ON a.uid = k.uid
LEFT JOIN user_policies p ON p.uid = k.uid AND p.user_name = k.user_name
WHERE k.id = $1
ORDER BY p.position`

// Principal returns the key, its account and its RAM user with policies. Returns ErrNotFound,
// also for an id PostgreSQL's text could not hold (see validText). The caller owns the
// result; it comes from the tenant cache when it can.
func (db *DB) Principal(ctx context.Context, accessKeyID string) (*camsd.Principal, error) {
	if !validText(accessKeyID) {
		return nil, camsd.ErrNotFound
	}
	p, err := cached(&db.tenants, &db.tenants.principals, accessKeyID, func() (*camsd.Principal, error) {
		return db.readPrincipal(ctx, accessKeyID)
	})
	if err != nil {
		return nil, err
	}
	return p.Clone(), nil
}

func (db *DB) readPrincipal(ctx context.Context, accessKeyID string) (*camsd.Principal, error) {
	rows, err := db.pool.Query(ctx, principalQuery, accessKeyID)
	if err != nil {
		return nil, wrap("principal", err)
	}
	defer rows.Close()

	var p *camsd.Principal
	for rows.Next() {
		var (
			k                  camsd.AccessKey
			a                  camsd.Account
			userName, document *string
			status             string
		)
		if err := rows.Scan(&k.ID, &k.Secret, &k.UID, &userName, &status,
			&a.Name, &a.Subscribed, &a.QPS, &document); err != nil {
			return nil, wrap("principal", err)
		}
		if p == nil {
			k.Status, a.UID = camsd.KeyStatus(status), k.UID
			p = &camsd.Principal{Key: k, Account: a}
			if userName != nil {
				p.Key.UserName = *userName
				p.User = &camsd.User{UID: k.UID, Name: *userName}
			}
		}
		if p.User != nil && document != nil {
			p.User.Policies = append(p.User.Policies, *document)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("principal", err)
	}
	if p == nil {
		return nil, camsd.ErrNotFound
	}
	if p.Key.Secret, err = db.open(seal.AccessKeySecret, p.Key.ID, p.Key.Secret); err != nil {
		return nil, err
	}
	return p, nil
}

// Space returns the space. Returns ErrNotFound, also for an id PostgreSQL's text could not
// hold (see validText). It comes from the tenant cache when it can.
func (db *DB) Space(ctx context.Context, custSpaceID string) (*camsd.Space, error) {
	if !validText(custSpaceID) {
		return nil, camsd.ErrNotFound
	}
	s, err := cached(&db.tenants, &db.tenants.spaces, custSpaceID, func() (camsd.Space, error) {
		s := camsd.Space{CustSpaceID: strings.Clone(custSpaceID)}
		err := db.pool.QueryRow(ctx, `SELECT uid, name, waba_id, pin FROM spaces WHERE cust_space_id = $1`,
			custSpaceID).Scan(&s.UID, &s.Name, &s.WabaID, &s.Pin)
		if err != nil {
			return s, wrap("space", err)
		}
		s.Pin, err = db.open(seal.SpacePIN, s.CustSpaceID, s.Pin)
		return s, err
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// PhoneNumber returns the number in the space. Returns ErrNotFound, also for ids PostgreSQL's
// text could not hold (see validText). Numbers are not cached: ChangeNumber changes them on
// the hot path. Concurrent reads are batched (numberread.go): a read queued after a commit
// sees it, since its batch's query starts after.
func (db *DB) PhoneNumber(ctx context.Context, custSpaceID, number string) (*camsd.PhoneNumber, error) {
	if !validText(custSpaceID) || !validText(number) {
		return nil, camsd.ErrNotFound
	}
	n, err := cached(&db.tenants, &db.tenants.numbers, numberKey(custSpaceID, number), func() (camsd.PhoneNumber, error) {
		return db.readNumber(ctx, custSpaceID, number)
	})
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// PhoneNumberNow returns the number's current record, read from PostgreSQL past the cache
// (camsd.FreshNumbers): PhoneNumber's may lag another replica's change by a moment.
func (db *DB) PhoneNumberNow(ctx context.Context, custSpaceID, number string) (*camsd.PhoneNumber, error) {
	if !validText(custSpaceID) || !validText(number) {
		return nil, camsd.ErrNotFound
	}
	n, err := db.readNumber(ctx, custSpaceID, number)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// readNumber reads the number in the space from PostgreSQL, in a batch with other calls'.
func (db *DB) readNumber(ctx context.Context, custSpaceID, number string) (camsd.PhoneNumber, error) {
	r := &numberRead{space: custSpaceID, number: number, done: make(chan struct{})}
	if err := enqueue(ctx, db.numberReads, r); err != nil {
		return camsd.PhoneNumber{}, err
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return camsd.PhoneNumber{}, ctx.Err()
	}
	switch {
	case r.err != nil:
		return camsd.PhoneNumber{}, wrap("phone number", r.err)
	case !r.found:
		return camsd.PhoneNumber{}, camsd.ErrNotFound
	}
	return r.n, nil
}
