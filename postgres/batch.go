package postgres

import (
	"context"
	"errors"

	"github.com/camsd/camsd"
)

// enqueue queues it on q, unless ctx has ended (its error); errClosed once the DB is
// closing. Once queued, it is the loop's, whatever ctx does.
func enqueue[T comparable](ctx context.Context, q *camsd.Queue[T], it T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := q.Put(it); err != nil {
		if errors.Is(err, camsd.ErrQueueClosed) {
			return errClosed
		}
		return err
	}
	return nil
}

// serveBatches starts n loops that make q's items in batches until g closes: each takes
// whatever is queued when it is free, up to maxGroup, and hands the batch to run; once q is
// closed they hand over what is still queued, then return, and g's close waits for them. The
// Limiter's decisions and PhoneNumber's reads are made so, one statement per batch:
// concurrent calls share a round trip, and PostgreSQL runs a few busy backends rather than
// one per caller.
func serveBatches[T comparable](g *groups, n int, run func([]T)) *camsd.Queue[T] {
	q := camsd.NewQueue[T]()
	g.closeWith(q)
	for range n {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			batch := make([]T, 0, maxGroup)
			for {
				var closed bool
				if batch, closed = q.Take(batch[:0], maxGroup); len(batch) > 0 {
					run(batch)
					continue
				}
				if closed {
					return
				}
				<-q.Ready()
			}
		}()
	}
	return q
}
