package postgres

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camsd/camsd"
)

// maxCached is how many entries each of the cache's maps holds; past it that map starts again
// empty. Simpler than an LRU and as good here: the working set of tenants is small, and past
// it something is sweeping through ids that will not come back.
const maxCached = 10_000

// tenantCache keeps, in this replica's memory, the AccessKeys (with their account, user and
// policies) and the spaces that every request reads, and which keys and spaces do not exist;
// and the phone numbers that every code sent reads (only those found: a number not found may
// be initiated on another replica a moment later, and is read again).
// Other replicas, and psql, change the same tables, so the cache trusts only what the listener
// (listen.go) vouches for:
//
//   - Triggers on the tenant tables NOTIFY a channel of the schema on every change (migration
//     0004); the listener drops the table's entries as each notification is read.
//   - The cache answers only until its lease runs out (until). The listener sets it to one
//     second after the start of its last round trip that succeeded on the notification
//     connection: LISTEN, and then a heartbeat every listenHeartbeat. A connection that died
//     without a word therefore stops the cache within a second, and a lost one (an error) at
//     once: then everything is dropped, and reads go to PostgreSQL until the listener is back
//     and listening, when everything is dropped again (what changed in between was not told).
//   - A replica's own ApplySeed and DeleteKey drop everything once committed, so that its next
//     read sees the change without waiting for the notification; its own ChangeNumber drops
//     that number's records. (A number's row change notifies the number: migration 0011.)
//
// A read that misses notes the generation, reads PostgreSQL and keeps what it read only if no
// invalidation came in between (it may have read a snapshot from before the change) and the
// lease still holds.
type tenantCache struct {
	mu         sync.Mutex
	gen        uint64    // counts invalidations
	until      time.Time // the lease: the cache answers before it; zero when not listening
	principals entries[*camsd.Principal]
	spaces     entries[camsd.Space]
	roles      entries[accountRole]       // by uid NUL name
	numbers    entries[camsd.PhoneNumber] // by number NUL space; found ones only

	hits, misses atomic.Uint64
}

// entries are what the cache knows of one kind of tenant: those found, and ids known not to
// exist (kept apart, so that unknown ids, which come from whoever sends requests, cannot crowd
// out the known ones).
type entries[V any] struct {
	found  map[string]V
	absent map[string]struct{}
	// foundOnly: absent is not kept.
	foundOnly bool
}

func (e *entries[V]) clear() {
	clear(e.found)
	clear(e.absent)
}

// put sets m[k] = v, emptying m first when it is full.
func put[V any](m *map[string]V, k string, v V) {
	if len(*m) >= maxCached {
		clear(*m)
	}
	if *m == nil {
		*m = make(map[string]V)
	}
	(*m)[k] = v
}

// cached returns e's value for k, or camsd.ErrNotFound when e knows k does not exist, while the
// lease holds; otherwise it reads with read (which returns camsd.ErrNotFound for none) and
// keeps the answer if it may. Other errors are returned and not kept.
func cached[V any](c *tenantCache, e *entries[V], k string, read func() (V, error)) (V, error) {
	var zero V
	c.mu.Lock()
	gen, live := c.gen, time.Now().Before(c.until)
	if live {
		if v, ok := e.found[k]; ok {
			c.mu.Unlock()
			c.hits.Add(1)
			return v, nil
		}
		if _, ok := e.absent[k]; ok {
			c.mu.Unlock()
			c.hits.Add(1)
			return zero, camsd.ErrNotFound
		}
	}
	c.mu.Unlock()

	c.misses.Add(1)
	v, err := read()
	if !live || (err != nil && err != camsd.ErrNotFound) {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || !time.Now().Before(c.until) {
		return v, err
	}
	k = strings.Clone(k) // not a slice of a large request
	if err == nil {
		put(&e.found, k, v)
	} else if !e.foundOnly {
		put(&e.absent, k, struct{}{})
	}
	return v, err
}

// numberKey is the numbers' key of the number in the space.
func numberKey(custSpaceID, number string) string { return number + "\x00" + custSpaceID }

// forgetNumber forgets number's records in every space and makes reads in progress keep
// nothing.
func (c *tenantCache) forgetNumber(number string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	prefix := number + "\x00"
	for k := range c.numbers.found {
		if strings.HasPrefix(k, prefix) {
			delete(c.numbers.found, k)
		}
	}
}

// invalidate forgets what came from table (a table's name, as the triggers send it; anything
// else forgets everything) and makes reads in progress keep nothing.
func (c *tenantCache) invalidate(table string) {
	if number, ok := strings.CutPrefix(table, "phone_numbers "); ok {
		c.forgetNumber(number)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	switch table {
	case "phone_numbers":
		c.numbers.clear()
	case "spaces":
		c.spaces.clear()
	case "users", "access_keys", "user_policies":
		c.principals.clear()
	case "accounts":
		c.principals.clear()
		c.roles.clear()
	case "roles", "role_policies":
		c.roles.clear()
	default:
		c.clear()
	}
}

// clear forgets everything; c.mu is held.
func (c *tenantCache) clear() {
	c.principals.clear()
	c.spaces.clear()
	c.roles.clear()
	c.numbers.clear()
}

// invalidateAll forgets everything.
func (c *tenantCache) invalidateAll() { c.invalidate("") }

// start forgets everything and lets the cache answer until until: the listener has just begun
// to listen, and what changed before may not have been told.
func (c *tenantCache) start(until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.clear()
	c.until = until
}

// renew extends the lease to until: the notification connection has just answered.
func (c *tenantCache) renew(until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.until = until
}

// stop forgets everything and stops the cache: the listener lost its connection, or the DB is
// closing.
func (c *tenantCache) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.clear()
	c.until = time.Time{}
}

// CacheHits returns how many Principal, Space and PhoneNumber calls this DB answered from its tenant cache.
func (db *DB) CacheHits() uint64 { return db.tenants.hits.Load() }

// CacheMisses returns how many Principal, Space and PhoneNumber calls this DB answered by reading
// PostgreSQL, because the cache did not hold the answer or was not in use.
func (db *DB) CacheMisses() uint64 { return db.tenants.misses.Load() }
