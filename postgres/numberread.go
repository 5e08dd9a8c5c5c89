package postgres

import (
	"context"
	"fmt"

	"github.com/camsd/camsd"
)

// numberRead is one queued PhoneNumber and, once done is closed, its answer.
type numberRead struct {
	space, number string
	n             camsd.PhoneNumber
	found         bool
	err           error
	done          chan struct{}
}

// numberReaders is how many batches of PhoneNumber reads may run at once.
const numberReaders = 2

// startNumberReads starts the readers of db's PhoneNumber batches; they stop with the groups.
func (db *DB) startNumberReads() {
	db.numberReads = serveBatches(db.groups, numberReaders, db.readNumbers)
}

// readNumbers answers batch in one query: a lookup of the primary key for each.
func (db *DB) readNumbers(batch []*numberRead) {
	spaces, numbers := make([]string, len(batch)), make([]string, len(batch))
	for i, r := range batch {
		spaces[i], numbers[i] = r.space, r.number
	}
	err := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
		defer cancel()
		// LATERAL with LIMIT (a number is one row), which PostgreSQL does not flatten into a
		// join: one index lookup per number, whatever the planner guesses of unnest or of
		// phone_numbers (a plan made while it was small could hash all of it; migration 0015).
		rows, err := db.pool.Query(ctx, `
			SELECT u.o, p.id, p.status, p.verified_name, p.initiated_at, p.verified_at
			FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(s, n, o),
			LATERAL (
				SELECT id, status, verified_name, initiated_at, verified_at FROM phone_numbers
				WHERE cust_space_id = u.s AND number = u.n LIMIT 1) AS p`, spaces, numbers)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				o                   int
				id, status, name    string
				initiated, verified int64
			)
			if err := rows.Scan(&o, &id, &status, &name, &initiated, &verified); err != nil {
				return err
			}
			if o < 1 || o > len(batch) {
				return fmt.Errorf("unexpected row %d of %d", o, len(batch))
			}
			r := batch[o-1]
			r.found = true
			r.n = camsd.PhoneNumber{CustSpaceID: r.space, Number: r.number, ID: id, Status: camsd.NumberStatus(status),
				VerifiedName: name, InitiatedAt: fromNanos(initiated), VerifiedAt: fromNanos(verified)}
		}
		return rows.Err()
	}()
	for _, r := range batch {
		r.err = err
		close(r.done)
	}
}
