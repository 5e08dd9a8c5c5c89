package sqlite

import (
	"slices"
	"sync"

	"github.com/camsd/camsd"
)

// tenantCache keeps the tenants that every request reads (its key, its space, its number) in
// memory. It can, because one process owns the SQLite file and every write goes through the
// writer, which invalidates the cache whenever a transaction that may have written tenants
// ends (ops with touchesTenants), before it tells anyone that the transaction committed.
//
// A read that misses notes the generation, reads the database and keeps what it read only if
// no invalidation came in between: otherwise it may have read a snapshot from before the
// change and would keep it for good.
//
// Only what exists is kept. Caching "not found" would be as correct (a tenant is created only
// by a write that invalidates), but unknown keys come from whoever sends requests, and they
// would crowd out the known ones.
type tenantCache struct {
	max int // entries; past it the cache starts again empty

	mu         sync.Mutex
	gen        uint64 // counts invalidations
	principals map[string]*camsd.Principal
	spaces     map[string]camsd.Space
	numbers    map[numberKey]camsd.PhoneNumber
	roles      map[roleKey]accountRole
}

type numberKey struct{ space, number string }

// invalidate forgets everything and makes reads in progress keep nothing.
func (c *tenantCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.clear()
}

// invalidateNumbers forgets the numbers' records in every space, and makes reads in progress
// keep nothing: a change of numbers alone (ChangeNumber) leaves the keys and spaces cached.
func (c *tenantCache) invalidateNumbers(numbers []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k := range c.numbers {
		if slices.Contains(numbers, k.number) {
			delete(c.numbers, k)
		}
	}
}

// clear empties the maps. c.mu must be held.
func (c *tenantCache) clear() {
	clear(c.principals)
	clear(c.spaces)
	clear(c.numbers)
	clear(c.roles)
}

func (c *tenantCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.principals) + len(c.spaces) + len(c.numbers) + len(c.roles)
}

// cached returns (*m)[k], or reads it with read and keeps it, in c. m is one of c's maps.
// read returns the value and the key to keep it under: k again, but in strings of its own,
// so that a key sliced from a large request does not keep the request alive.
func cached[K comparable, V any](c *tenantCache, m *map[K]V, k K, read func() (K, V, error)) (V, error) {
	c.mu.Lock()
	v, ok := (*m)[k]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	k, v, err := read()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return v, nil
	}
	if len(c.principals)+len(c.spaces)+len(c.numbers)+len(c.roles) >= c.max {
		// Simpler than an LRU and as good here: the working set of tenants is small, and
		// past max something is sweeping through keys that will not come back.
		c.clear()
	}
	if *m == nil {
		*m = make(map[K]V)
	}
	(*m)[k] = v
	return v, nil
}
