package postgres

import (
	"context"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/seal"
	"github.com/jackc/pgx/v5"
)

// seedLock is the key of the transaction-level advisory lock that ApplySeed holds: replicas
// that start at once with the same seed apply it one after the other, each to what the one
// before committed. Without it two could both delete a user's policies and both insert them
// again, and one would fail on the primary key.
const seedLock int64 = 0x63616d73_64536564 // "camsdSed"

// ApplySeed makes the database hold what the seed declares, in one transaction sent as one
// batch: it creates what is missing; updates accounts (name, subscription, QPS), keys (secret,
// status, owner) and replaces each user's policy list; sets a space's WABA id and PIN when the
// seed gives them; updates a pre-validated number's code and owner, never its id (a new one
// without an id gets camsd.NewNumberID); it leaves existing spaces' owner and name, numbers
// (status, id and verified name) and all codes as they are, because those change through the
// API and the seed must not undo that. Nothing that the seed no longer names is deleted. The
// numbers are added under their locks (lockNumbers), so that a ChangeNumber of one on another
// replica comes before or after, never in between. It returns once committed, and its changes are then
// visible to this DB's reads at once and to other replicas' within a second (see cache.go).
func (db *DB) ApplySeed(ctx context.Context, s *camsd.Seed) error {
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, seedLock)
	// Every number's lock at once, in the order write_group takes them (by their keys): taken
	// one by one in the seed's order, a replica applying its seed at start deadlocked with
	// another replica's groups of the same numbers.
	var numbers []string
	for _, a := range s.Accounts {
		for _, sp := range a.Spaces {
			for _, n := range sp.PhoneNumbers {
				numbers = append(numbers, n.Number)
			}
		}
	}
	if len(numbers) > 0 {
		b.Queue(lockNumbers, numbers)
	}
	for i := range s.Accounts {
		if err := queueAccount(b, db.keys, &s.Accounts[i]); err != nil {
			return wrap("apply seed", err)
		}
	}
	// Once committed (or perhaps committed: a failed commit may have reached the server), this
	// replica's next read must see the seed, without waiting for the notification.
	defer db.tenants.invalidateAll()
	br := db.pool.SendBatch(ctx, b)
	tx := br.Tx()
	defer tx.Rollback(ctx) // after Commit, nothing
	if err := br.Close(); err != nil {
		return wrap("apply seed", err)
	}
	return wrap("apply seed", tx.Commit(ctx))
}

// queueAccount seals the secrets and PINs it writes with keys.
func queueAccount(b *pgx.Batch, keys *seal.Keyring, a *camsd.SeedAccount) error {
	b.Queue(`
		INSERT INTO accounts (uid, name, subscribed, qps) VALUES ($1, $2, $3, $4)
		ON CONFLICT (uid) DO UPDATE SET
			name = excluded.name, subscribed = excluded.subscribed, qps = excluded.qps`,
		a.UID, a.Name, a.Subscribed, a.QPS)
	for _, k := range a.AccessKeys {
		if err := queueKey(b, keys, k, a.UID, nil); err != nil {
			return err
		}
	}
	for _, u := range a.Users {
		if err := queueUser(b, keys, a.UID, u); err != nil {
			return err
		}
	}
	for _, sp := range a.Spaces {
		pin, err := keys.Seal(seal.SpacePIN, sp.CustSpaceID, sp.Pin)
		if err != nil {
			return err
		}
		b.Queue(`
			INSERT INTO spaces (cust_space_id, uid, name, waba_id, pin) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (cust_space_id) DO UPDATE SET
				waba_id = CASE WHEN excluded.waba_id <> '' THEN excluded.waba_id ELSE spaces.waba_id END,
				pin     = CASE WHEN excluded.pin <> '' THEN excluded.pin ELSE spaces.pin END`,
			sp.CustSpaceID, a.UID, sp.Name, sp.WabaID, pin)
		for _, n := range sp.PhoneNumbers {
			b.Queue(`
				INSERT INTO phone_numbers (cust_space_id, number, id, status, verified_name) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (cust_space_id, number) DO NOTHING`,
				sp.CustSpaceID, n.Number, n.ID, string(n.Status), n.VerifiedName)
		}
	}
	for _, r := range a.Roles {
		queueRole(b, a.UID, r)
	}
	for _, n := range a.PreValidated {
		// The id of a number that is new: the seed's, or a new one. One that exists keeps its.
		id := n.ID
		if id == "" {
			var err error
			if id, err = camsd.NewNumberID(); err != nil {
				return err
			}
		}
		b.Queue(`
			INSERT INTO prevalidated_numbers (number, uid, verify_code, id) VALUES ($1, $2, $3, $4)
			ON CONFLICT (number) DO UPDATE SET uid = excluded.uid, verify_code = excluded.verify_code`,
			n.Number, a.UID, n.VerifyCode, id)
	}
	return nil
}

func queueUser(b *pgx.Batch, keys *seal.Keyring, uid string, u camsd.SeedUser) error {
	b.Queue(`INSERT INTO users (uid, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, uid, u.Name)
	b.Queue(`DELETE FROM user_policies WHERE uid = $1 AND user_name = $2`, uid, u.Name)
	for i, doc := range u.Policies {
		b.Queue(`
			INSERT INTO user_policies (uid, user_name, position, document) VALUES ($1, $2, $3, $4)`,
			uid, u.Name, i, doc)
	}
	for _, k := range u.AccessKeys {
		if err := queueKey(b, keys, k, uid, &u.Name); err != nil {
			return err
		}
	}
	return nil
}

// queueKey takes the owner from where the key sits in the seed rather than from k.UID and
// k.UserName, so that the structure of the file is the one source of truth. userName is nil
// for the account's own keys.
func queueKey(b *pgx.Batch, keys *seal.Keyring, k camsd.AccessKey, uid string, userName *string) error {
	secret, err := keys.Seal(seal.AccessKeySecret, k.ID, k.Secret)
	if err != nil {
		return err
	}
	b.Queue(`
		INSERT INTO access_keys (id, secret, uid, user_name, status) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET
			secret = excluded.secret, uid = excluded.uid,
			user_name = excluded.user_name, status = excluded.status`,
		k.ID, secret, uid, userName, string(k.Status))
	return nil
}
