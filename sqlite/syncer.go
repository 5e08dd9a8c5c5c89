package sqlite

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/camsd/camsd"
)

// syncer makes committed transactions durable: it fsyncs the write-ahead log and only then
// reports the ops of every transaction committed before that fsync began as committed.
//
// The writer commits with synchronous=NORMAL, so COMMIT appends the transaction's frames to
// the log without waiting for the disk, and hands the transaction's ops to the syncer. One
// fsync covers every frame written before it, so while one runs, the transactions that the
// writer commits meanwhile wait together for the next. The writer never waits for the disk,
// and a caller waits for one fsync after its commit, not for the whole commit of the
// transaction in progress and then its own.
//
// What SQLite does with the log keeps that sound: it appends frames, and it overwrites them
// (restarting the log after a checkpoint) only once a checkpoint has copied them into the
// database and synced it. A fsync of the log's file through a descriptor of our own flushes
// what SQLite wrote through its own, since both name the same file.
//
// Readers may see a transaction between its COMMIT and its fsync. What they read may then
// be lost in a power cut, as may the write itself, but no caller has been told that the
// write is durable, and any later write that rests on it is in a later transaction, which
// no fsync can make durable without making this one durable too.
//
// Under load the syncer spaces its fsyncs (commitDelay): an fsync costs about the same CPU
// for one write as for a hundred (some 130 µs of a core here, most of it in the kernel), so
// calls that share fewer fsyncs leave more CPU to the calls themselves. After an fsync that
// served at least commitSiblings calls, it waits until commitDelay has passed since that
// fsync began before it tells the writer it is idle; the writer's open transaction meanwhile
// takes more writes. After an fsync that served one call it does not wait, so a lone caller
// is never delayed. This is PostgreSQL's commit_delay and commit_siblings, decided from the
// fsync before rather than from the transactions in flight.
//
// After a failed fsync nothing says which writes reached the disk (Linux may report the
// failure once and then forget it), so the syncer reports the failure to every op it holds
// and the writer takes no more writes: camsd must be restarted, and SQLite's recovery then
// keeps what the log holds.
type syncer struct {
	wal   *os.File
	fsync func(*os.File) error

	commitDelay    time.Duration
	commitSiblings int
	sleep          func(time.Duration) // time.Sleep; tests watch it

	// idle holds a token when the syncer has finished an fsync with nothing left to sync,
	// for a writer that waits for that to commit.
	idle chan struct{}

	mu      sync.Mutex
	cond    *sync.Cond
	pending []*op
	syncing bool // an fsync is running
	closing bool
	err     error // sticky: the first failed fsync
	done    chan struct{}
}

// The syncer's spacing of fsyncs under load (see syncer). Measured with `camsd bench` on 2
// cores, 32 clients: the limited path (one write per call) went from 0.32-0.37 of bare to
// 0.45-0.52 with a 1 ms delay.
const (
	commitDelay    = time.Millisecond
	commitSiblings = 2 // calls
)

// calls counts the calls whose ops are in ops, up to limit; an op made outside a call
// (without a Durability) is a call of its own.
func calls(ops []*op, limit int) int {
	var seen []*camsd.Durability
	n := 0
	for _, o := range ops {
		if o.call == nil {
			n++
		} else if !slices.Contains(seen, o.call) {
			seen = append(seen, o.call)
			n++
		}
		if n >= limit {
			break
		}
	}
	return n
}

// startSyncer opens the log at walPath, which must exist (SQLite made it when the writer's
// connection switched to WAL), and starts syncing it with fsync (nil: syncLog).
func startSyncer(walPath string, fsync func(*os.File) error) (*syncer, error) {
	f, err := os.Open(walPath)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open write-ahead log to sync it: %w", err)
	}
	if fsync == nil {
		fsync = syncLog
	}
	s := &syncer{wal: f, fsync: fsync, commitDelay: commitDelay, commitSiblings: commitSiblings, sleep: time.Sleep, idle: make(chan struct{}, 1), done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	go s.run()
	return s, nil
}

// add hands over ops of a transaction that has committed; their err is set, and the syncer
// closes their committed channels once their transaction is durable.
func (s *syncer) add(ops []*op) {
	s.mu.Lock()
	s.pending = append(s.pending, ops...)
	s.mu.Unlock()
	s.cond.Signal()
}

// busy reports whether an fsync is running or transactions wait for one.
func (s *syncer) busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncing || len(s.pending) > 0
}

// failed returns the error of a failed fsync, after which no write may be taken.
func (s *syncer) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *syncer) run() {
	defer close(s.done)
	var ops []*op
	for {
		s.mu.Lock()
		s.syncing = false
		for len(s.pending) == 0 && !s.closing {
			select {
			case s.idle <- struct{}{}:
			default: // a token is already there
			}
			s.cond.Wait()
		}
		ops, s.pending = s.pending, ops[:0]
		s.syncing = len(ops) > 0
		closing := s.closing
		failed := s.err
		s.mu.Unlock()
		if len(ops) == 0 && closing {
			return
		}
		start := time.Now()
		err := failed
		if err == nil {
			if err = s.fsync(s.wal); err != nil {
				err = fmt.Errorf("sync write-ahead log: %w", err)
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
			}
		}
		for _, o := range ops {
			if err != nil {
				o.err = err
			}
			close(o.committed)
		}
		if err == nil && calls(ops, s.commitSiblings) >= s.commitSiblings {
			if d := s.commitDelay - time.Since(start); d > 0 {
				s.sleep(d)
			}
		}
		clear(ops)
	}
}

// close syncs what is pending, stops and closes the log's file; the writer has stopped
// committing.
func (s *syncer) close() error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.cond.Signal()
	<-s.done
	return errors.Join(s.failed(), s.wal.Close())
}
