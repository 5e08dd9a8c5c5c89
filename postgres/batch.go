package postgres

import "context"

// send queues it on q, unless g is closing (errClosed) or ctx ends first. Under g's lock, so
// that whatever was queued before close is still taken by the loops that close waits for.
func send[T any](ctx context.Context, g *groups, q chan T, it T) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.done {
		return errClosed
	}
	select {
	case q <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// take appends whatever is queued on q to batch, up to maxGroup, without waiting.
func take[T any](q chan T, batch []T) []T {
	for len(batch) < maxGroup {
		select {
		case it := <-q:
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
}

// batchLoop runs until stop is closed: it waits for a first item on q, takes whatever else is
// queued, up to maxGroup, and hands the batch to run; once stop is closed it hands over what
// is still queued, then returns. The Limiter's decisions and PhoneNumber's reads are made so,
// one statement per batch: concurrent calls share a round trip, and PostgreSQL runs a few
// busy backends rather than one per caller.
func batchLoop[T any](q chan T, stop <-chan struct{}, run func([]T)) {
	batch := make([]T, 0, maxGroup)
	for {
		select {
		case first := <-q:
			run(take(q, append(batch[:0], first)))
		case <-stop:
			for batch = take(q, batch[:0]); len(batch) > 0; batch = take(q, batch[:0]) {
				run(batch)
			}
			return
		}
	}
}
