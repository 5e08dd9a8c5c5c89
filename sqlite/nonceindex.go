package sqlite

import (
	"container/heap"
	"strings"
	"sync"

	"github.com/camsd/camsd"
)

// nonceIndex is the authority on which nonces are live. It can be, in memory, because one
// process owns the SQLite file: the table only lets the index survive a restart.
//
// Expired nonces leave through a min-heap on expiry, so that forgetting them costs work in
// proportion to what expired and never a scan of every key.
type nonceIndex struct {
	mu     sync.Mutex
	keys   map[string]map[string]int64 // AccessKey id → nonce → expiry, unix ns
	expiry expiryHeap
	max    int // live nonces per AccessKey
}

func newNonceIndex(max int) *nonceIndex {
	return &nonceIndex{keys: make(map[string]map[string]int64), max: max}
}

// reserve records the nonce until exp, or returns ErrNonceUsed if it is live, or
// ErrNonceStoreFull if the key holds max live nonces. A live nonce is never evicted to make
// room: that would let it be replayed.
func (x *nonceIndex) reserve(akid, nonce string, exp, now int64) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.expire(now, 16) // a little every call keeps memory in step with time
	nonces := x.keys[akid]
	if e, ok := nonces[nonce]; ok && e > now {
		return camsd.ErrNonceUsed
	}
	if len(nonces) >= x.max {
		// Amortized: every entry leaves the heap once, whoever pays for it.
		x.expire(now, -1)
		nonces = x.keys[akid]
		if len(nonces) >= x.max {
			return camsd.ErrNonceStoreFull
		}
	}
	if nonces == nil {
		nonces = make(map[string]int64)
		x.keys[akid] = nonces
	}
	// Clones, so that a nonce sliced from a large request does not keep the request alive.
	akid, nonce = strings.Clone(akid), strings.Clone(nonce)
	nonces[nonce] = exp
	heap.Push(&x.expiry, nonceExpiry{at: exp, akid: akid, nonce: nonce})
	return nil
}

// unreserve forgets a nonce whose durable write failed, unless it has been reserved again since.
func (x *nonceIndex) unreserve(akid, nonce string, exp int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	nonces := x.keys[akid]
	if e, ok := nonces[nonce]; ok && e == exp {
		x.forget(akid, nonces, nonce)
	}
}

// load adds a nonce read back from the table.
func (x *nonceIndex) load(akid, nonce string, exp int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	nonces := x.keys[akid]
	if nonces == nil {
		nonces = make(map[string]int64)
		x.keys[akid] = nonces
	}
	nonces[nonce] = exp
	heap.Push(&x.expiry, nonceExpiry{at: exp, akid: akid, nonce: nonce})
}

// expire forgets up to limit nonces (limit < 0: all) that expired at or before now.
// x.mu must be held.
func (x *nonceIndex) expire(now int64, limit int) {
	for n := 0; (limit < 0 || n < limit) && len(x.expiry) > 0 && x.expiry[0].at <= now; n++ {
		e := heap.Pop(&x.expiry).(nonceExpiry)
		// The heap entry is stale when the nonce was unreserved, or used again after it
		// expired (it then has a later expiry and its own entry).
		nonces := x.keys[e.akid]
		if at, ok := nonces[e.nonce]; ok && at == e.at {
			x.forget(e.akid, nonces, e.nonce)
		}
	}
}

func (x *nonceIndex) forget(akid string, nonces map[string]int64, nonce string) {
	delete(nonces, nonce)
	if len(nonces) == 0 {
		delete(x.keys, akid)
	}
}

func (x *nonceIndex) len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for _, nonces := range x.keys {
		n += len(nonces)
	}
	return n
}

type nonceExpiry struct {
	at          int64
	akid, nonce string
}

// expiryHeap is a min-heap of nonceExpiry by at (container/heap).
type expiryHeap []nonceExpiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(v any)        { *h = append(*h, v.(nonceExpiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	old[len(old)-1] = nonceExpiry{} // let the strings go
	*h = old[:len(old)-1]
	return v
}
