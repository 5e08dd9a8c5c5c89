package sqlite

import (
	"errors"
	"sync"

	"github.com/camsd/camsd"
)

// codeGate lets SaveCode decide its compare-and-set in memory, so that a call does not wait
// for the writer to reach its write before it knows whether it may send a code.
//
// For each number it knows the newest sent_at of a code that did not fail, counting every
// SaveCode queued so far, not only those the writer has run: since the writer runs writes in
// the order they were queued, and a decision and its queuing happen under the gate's lock, the
// decisions made here are the ones the writer's own check would make in that order.
//
// What the gate knows about a number starts from the database: a SaveCode that finds nothing
// known takes the slow path, the check in SQL run by the writer, which then tells the gate
// what it found. Until every slow-path SaveCode queued for the number has run, the number
// stays on the slow path. Anything that may lower the newest sent_at (a code set to failed, a
// SaveCode whose write failed or was withdrawn) makes the gate forget the number, and a slow
// path SaveCode queued before that does not teach it back (gen). ChangeNumber writes only a
// code's attempts and use, which the check does not read.
type codeGate struct {
	mu   sync.Mutex
	keys map[codeKey]*gateEntry
}

type codeKey struct{ space, number string }

type gateEntry struct {
	known  bool   // newest is right
	newest int64  // unix ns; 0: no code that did not fail
	slow   int    // slow-path SaveCodes queued and not yet run
	gen    uint64 // counts forgets, so that a slow path queued before one does not undo it
}

// entry returns k's entry, making it. g.mu must be held.
func (g *codeGate) entry(k codeKey) *gateEntry {
	if g.keys == nil {
		g.keys = make(map[codeKey]*gateEntry)
	}
	e := g.keys[k]
	if e == nil {
		e = &gateEntry{}
		g.keys[k] = e
	}
	return e
}

// forget makes the gate send k's next SaveCodes to the slow path.
func (g *codeGate) forget(k codeKey) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.entry(k)
	e.known = false
	e.gen++
}

// learn is what a slow-path SaveCode queued at gen tells the gate once it has run in the
// writer (ok) or has failed or been withdrawn (!ok): newest, the newest sent_at of a code that
// did not fail, its own included.
func (g *codeGate) learn(k codeKey, gen uint64, newest int64, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.entry(k)
	e.slow--
	switch {
	case !ok:
		e.known = false
		e.gen++
	case e.gen == gen:
		e.known, e.newest = true, newest
	}
}

// settled passes on the final error of a SaveCode the gate decided, forgetting k if the code
// was not recorded, since the gate counted it.
func (g *codeGate) settled(k codeKey, err error) error {
	if err != nil && !errors.Is(err, camsd.ErrConflict) {
		g.forget(k)
	}
	return err
}
