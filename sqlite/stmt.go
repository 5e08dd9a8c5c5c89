package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache prepares each statement once and keeps it. Preparing a small statement costs
// about as much as running it, and the request path runs the same handful again and again.
type stmtCache struct {
	prep func(ctx context.Context, query string) (*sql.Stmt, error)

	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[query]; ok {
		return s, nil
	}
	s, err := c.prep(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	c.m[query] = s
	return s, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.m {
		s.Close()
	}
	c.m = nil
}

// get scans the single row query returns into dest; ErrNotFound when there is none.
func (db *DB) get(ctx context.Context, query string, args []any, dest ...any) error {
	s, err := db.rstmts.stmt(ctx, query)
	if err != nil {
		return err
	}
	return notFound(s.QueryRowContext(ctx, args...).Scan(dest...))
}

// query runs a read on the pool.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := db.rstmts.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}
