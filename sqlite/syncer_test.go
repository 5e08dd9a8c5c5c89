package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camsd/camsd"
)

// heldSync is an fsync that a test holds: each call waits until the test releases it.
type heldSync struct {
	calls   atomic.Int64
	held    atomic.Bool
	release chan struct{}
}

func newHeldSync() *heldSync { return &heldSync{release: make(chan struct{})} }

func (h *heldSync) fsync(f *os.File) error {
	h.calls.Add(1)
	if h.held.Load() {
		<-h.release
	}
	return f.Sync()
}

// TestSyncer_acknowledgesOnlyAfterSync checks that no write is reported committed before the
// write-ahead log holding it has been synced, and that the writes committed while one sync
// runs share the next one.
func TestSyncer_acknowledgesOnlyAfterSync(t *testing.T) {
	h := newHeldSync()
	db := openTemp(t, func(db *DB) { db.fsync = h.fsync })
	h.held.Store(true)
	var releaseOnce sync.Once
	release := func() {
		releaseOnce.Do(func() {
			h.held.Store(false)
			close(h.release)
		})
	}
	t.Cleanup(release)       // before Close, which waits for the held sync, even if the test fails
	before := h.calls.Load() // Open's own writes were synced
	add := func(phone string) *camsd.Call {
		ctx, d := t.Context(), &camsd.Call{}
		if err := db.AddMessage(ctx, d, camsd.Message{PhoneNumber: phone, CreatedAt: time.Now()}, 0); err != nil {
			t.Fatalf("AddMessage(%s): %v", phone, err)
		}
		return d
	}
	first := add("first")
	waitFor(t, "the first write's sync to start", func() bool { return h.calls.Load() == before+1 })
	commits := db.w.commits.Load()

	// While that sync is held, more writes are made behind it.
	const n = 16
	var ds []*camsd.Call
	for i := range n {
		ds = append(ds, add(strconv.Itoa(i)))
	}
	waitFor(t, "the writer to take every write", func() bool {
		return db.w.queue.Len() == 0
	})
	waits := make(chan error, n+1)
	for _, d := range append(ds, first) {
		go func() { waits <- d.Wait() }()
	}
	time.Sleep(20 * time.Millisecond)
	select {
	case err := <-waits:
		t.Fatalf("a write was reported durable (%v) while the sync it needs was held", err)
	default:
	}

	release()
	for range n + 1 {
		if err := <-waits; err != nil {
			t.Errorf("Wait: %v", err)
		}
	}
	// The n writes waited in one open transaction for the held sync, and then shared one
	// commit and one sync.
	if got := db.w.commits.Load() - commits; got != 1 {
		t.Errorf("%d commits for the %d writes made during a sync; want 1", got, n)
	}
	if got := h.calls.Load() - before; got != 2 {
		t.Errorf("%d syncs for 1+%d writes; want 2", got, n)
	}
	if got := len(phones(t, db)); got != n+1 {
		t.Errorf("%d messages; want %d", got, n+1)
	}
}

// TestSyncer_failedSync checks that a failed sync fails the writes it was to make durable
// and every write after it, since nothing then says what reached the disk.
func TestSyncer_failedSync(t *testing.T) {
	errDisk := errors.New("input/output error")
	var fail atomic.Bool
	db := NewDB(filepath.Join(t.TempDir(), "camsd.db"))
	db.fsync = func(f *os.File) error {
		if fail.Load() {
			return errDisk
		}
		return f.Sync()
	}
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := db.Use(ctx, nil, "AK", "before", time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("Use before the failure: %v", err)
	}
	fail.Store(true)
	if err := db.Use(ctx, nil, "AK", "during", time.Now().Add(time.Hour)); !errors.Is(err, errDisk) {
		t.Errorf("Use whose sync failed = %v; want the sync's error", err)
	}
	fail.Store(false)
	if err := db.Use(ctx, nil, "AK", "after", time.Now().Add(time.Hour)); !errors.Is(err, errDisk) {
		t.Errorf("Use after a failed sync = %v; want the sync's error (no write is taken)", err)
	}
	if err := db.Ping(ctx); err == nil {
		t.Error("Ping after a failed sync = nil; want an error, so that readiness fails")
	}
	// The refused nonces are not held in memory: a client may retry them after a restart.
	for _, nonce := range []string{"during", "after"} {
		if err := db.nonces.reserve("AK", nonce, time.Now().Add(time.Hour).UnixNano(), time.Now().UnixNano()); err != nil {
			t.Errorf("nonce %q still reserved after its write failed: %v", nonce, err)
		}
	}
	if err := db.Close(); !errors.Is(err, errDisk) {
		t.Errorf("Close = %v; want the sync's error", err)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSyncer_commitDelay checks that the syncer spaces its fsyncs only when one served
// several calls: a lone caller is never delayed.
func TestSyncer_commitDelay(t *testing.T) {
	h := newHeldSync()
	db := openTemp(t, func(db *DB) { db.fsync = h.fsync })
	var mu sync.Mutex
	var slept []time.Duration
	db.w.sync.sleep = func(d time.Duration) {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
	}
	// The syncer's clock held still: on a busy machine the fsync after the held one could
	// otherwise take longer than commitDelay itself, leaving nothing to wait.
	frozen := time.Now()
	db.w.sync.now = func() time.Time { return frozen }
	sleeps := func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(slept)
	}
	call := func(phone string) *camsd.Call {
		ctx, d := t.Context(), &camsd.Call{}
		for range 4 { // the writes of one call share its fsyncs
			if err := db.AddMessage(ctx, d, camsd.Message{PhoneNumber: phone, CreatedAt: time.Now()}, 0); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}

	for i := range 5 {
		if err := call("lone" + strconv.Itoa(i)).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if s := sleeps(); len(s) != 0 {
		t.Fatalf("a lone caller's fsyncs were spaced: slept %v", s)
	}

	// Two calls made while an fsync is held share the next one, which is then spaced.
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { h.held.Store(false); close(h.release) }) }
	t.Cleanup(release)
	h.held.Store(true)
	before := h.calls.Load()
	first := call("first")
	waitFor(t, "the first call's fsync to start", func() bool { return h.calls.Load() == before+1 })
	a, b := call("a"), call("b")
	waitFor(t, "the writer to take both calls", func() bool {
		return db.w.queue.Len() == 0
	})
	release()
	for _, d := range []*camsd.Call{first, a, b} {
		if err := d.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the spacing after the shared fsync", func() bool { return len(sleeps()) > 0 })
	if s := sleeps(); len(s) != 1 || s[0] <= 0 || s[0] > commitDelay {
		t.Errorf("slept %v; want one wait in (0, %v] after the fsync that served two calls", s, commitDelay)
	}
}
