package sqlite

import (
	"context"
	"database/sql"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/seal"
)

// ApplySeed makes the database hold what the seed declares, in one transaction: it creates
// what is missing; updates accounts (name, subscription, QPS), keys (secret, status, owner) and
// replaces each user's policy list; sets a space's WABA id and PIN when the seed gives them;
// updates a pre-validated number's code and owner, never its id (a new one without an id gets
// camsd.NewNumberID); it leaves existing spaces' owner and name, numbers (status, id and
// verified name) and all codes as they are, because those change through the API and the
// seed must not undo that.
// Nothing that the seed no longer names is deleted. Validating the seed is the parser's job.
// It returns once committed.
func (db *DB) ApplySeed(ctx context.Context, s *camsd.Seed) error {
	err := db.w.do(ctx, &op{touchesTenants: true, fn: func(tx *wtx) error {
		for i := range s.Accounts {
			if err := applyAccount(tx, db.Keys, &s.Accounts[i]); err != nil {
				return err
			}
		}
		return nil
	}})
	return wrap("apply seed", err)
}

// applyAccount seals the secrets and PINs it writes with keys.
func applyAccount(tx *wtx, keys *seal.Keyring, a *camsd.SeedAccount) error {
	if _, err := tx.exec(`
		INSERT INTO accounts (uid, name, subscribed, qps) VALUES (?, ?, ?, ?)
		ON CONFLICT (uid) DO UPDATE SET
			name = excluded.name, subscribed = excluded.subscribed, qps = excluded.qps`,
		a.UID, a.Name, a.Subscribed, a.QPS); err != nil {
		return err
	}
	for _, k := range a.AccessKeys {
		if err := applyKey(tx, keys, k, a.UID, ""); err != nil {
			return err
		}
	}
	for _, u := range a.Users {
		if err := applyUser(tx, keys, a.UID, u); err != nil {
			return err
		}
	}
	for _, sp := range a.Spaces {
		pin, err := keys.Seal(seal.SpacePIN, sp.CustSpaceID, sp.Pin)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`
			INSERT INTO spaces (cust_space_id, uid, name, waba_id, pin) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (cust_space_id) DO UPDATE SET
				waba_id = CASE WHEN excluded.waba_id <> '' THEN excluded.waba_id ELSE spaces.waba_id END,
				pin     = CASE WHEN excluded.pin <> '' THEN excluded.pin ELSE spaces.pin END`,
			sp.CustSpaceID, a.UID, sp.Name, sp.WabaID, pin); err != nil {
			return err
		}
		for _, n := range sp.PhoneNumbers {
			if _, err := tx.exec(`
				INSERT INTO phone_numbers (cust_space_id, number, id, status, verified_name) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (cust_space_id, number) DO NOTHING`,
				sp.CustSpaceID, n.Number, n.ID, string(n.Status), n.VerifiedName); err != nil {
				return err
			}
		}
	}
	for _, r := range a.Roles {
		if err := applyRole(tx, a.UID, r); err != nil {
			return err
		}
	}
	for _, n := range a.PreValidated {
		id, err := preValidatedID(n)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`
			INSERT INTO prevalidated_numbers (number, uid, verify_code, id) VALUES (?, ?, ?, ?)
			ON CONFLICT (number) DO UPDATE SET uid = excluded.uid, verify_code = excluded.verify_code`,
			n.Number, a.UID, n.VerifyCode, id); err != nil {
			return err
		}
	}
	return nil
}

// preValidatedID is the id a pre-validated number gets if it is new: the seed's, or a new
// one. A number that exists keeps its id whatever this says.
func preValidatedID(n camsd.PreValidatedNumber) (string, error) {
	if n.ID != "" {
		return n.ID, nil
	}
	return camsd.NewNumberID()
}

func applyUser(tx *wtx, keys *seal.Keyring, uid string, u camsd.SeedUser) error {
	if _, err := tx.exec(`INSERT INTO users (uid, name) VALUES (?, ?) ON CONFLICT DO NOTHING`,
		uid, u.Name); err != nil {
		return err
	}
	if _, err := tx.exec(`DELETE FROM user_policies WHERE uid = ? AND user_name = ?`,
		uid, u.Name); err != nil {
		return err
	}
	for i, doc := range u.Policies {
		if _, err := tx.exec(`
			INSERT INTO user_policies (uid, user_name, position, document) VALUES (?, ?, ?, ?)`,
			uid, u.Name, i, doc); err != nil {
			return err
		}
	}
	for _, k := range u.AccessKeys {
		if err := applyKey(tx, keys, k, uid, u.Name); err != nil {
			return err
		}
	}
	return nil
}

// applyKey takes the owner from where the key sits in the seed rather than from k.UID and
// k.UserName, so that the structure of the file is the one source of truth.
func applyKey(tx *wtx, keys *seal.Keyring, k camsd.AccessKey, uid, userName string) error {
	secret, err := keys.Seal(seal.AccessKeySecret, k.ID, k.Secret)
	if err != nil {
		return err
	}
	_, err = tx.exec(`
		INSERT INTO access_keys (id, secret, uid, user_name, status) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			secret = excluded.secret, uid = excluded.uid,
			user_name = excluded.user_name, status = excluded.status`,
		k.ID, secret, uid, sql.NullString{String: userName, Valid: userName != ""}, string(k.Status))
	return err
}
