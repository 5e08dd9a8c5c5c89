package sqlite

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/camsd/camsd"
)

// syncer makes the writer's groups durable: it fsyncs the journal's log (jlog.go) and only
// then reports the ops of every group written before that fsync began as committed.
//
// The writer appends a group's journal entries to the log without waiting for the disk, and
// hands the group's ops to the syncer. One fsync covers every record written before it, so
// while one runs, the groups that the writer ends meanwhile wait together for the next. The
// writer never waits for the disk for them, and a caller waits for one fsync after its group
// ends, not for the group in progress and then its own. (A group that also ran a SQLite
// transaction had the writer commit and fsync it before it wrote its record.)
//
// Readers never see a journaled write before it is applied to the tables, which happens in
// a SQLite transaction that the writer fsyncs itself, after every record it applies was
// written; a record that a crash cuts short was never acknowledged.
//
// Under load the syncer spaces its fsyncs (commitDelay): an fsync costs about the same CPU
// for one write as for a hundred (some 130 µs of a core here, most of it in the kernel), so
// calls that share fewer fsyncs leave more CPU to the calls themselves. After an fsync that
// served at least commitSiblings calls, it waits until commitDelay has passed since that
// fsync began before it tells the writer it is idle; the writer's open group meanwhile
// takes more writes. After an fsync that served one call it does not wait, so a lone caller
// is never delayed. This is PostgreSQL's commit_delay and commit_siblings, decided from the
// fsync before rather than from the groups in flight.
//
// After a failed fsync nothing says which writes reached the disk (Linux may report the
// failure once and then forget it), so the syncer reports the failure to every op it holds
// and the writer takes no more writes: camsd must be restarted, and Open then applies what
// the log holds.
type syncer struct {
	fsync func(*os.File) error

	commitDelay    time.Duration
	commitSiblings int
	sleep          func(time.Duration) // time.Sleep; tests watch it
	now            func() time.Time    // time.Now; tests hold it still

	// idle holds a token when the syncer has finished an fsync with nothing left to sync,
	// for a writer that waits for that to commit.
	idle chan struct{}

	mu      sync.Mutex
	cond    *sync.Cond
	pending []*op
	files   []*os.File // the log files that pending's groups were written to
	syncing bool       // an fsync is running
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
// (without a Call) is a call of its own.
func calls(ops []*op, limit int) int {
	var seen []*camsd.Call
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

// startSyncer starts a syncer that makes files durable with fsync.
func startSyncer(fsync func(*os.File) error) *syncer {
	s := &syncer{fsync: fsync, commitDelay: commitDelay, commitSiblings: commitSiblings, sleep: time.Sleep, now: time.Now, idle: make(chan struct{}, 1), done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	go s.run()
	return s
}

// add hands over the ops of a group that has ended, whose record went to f (nil: none);
// their err is set, and the syncer ends their commits once f is durable.
func (s *syncer) add(ops []*op, f *os.File) {
	s.mu.Lock()
	s.pending = append(s.pending, ops...)
	if f != nil && !slices.Contains(s.files, f) {
		s.files = append(s.files, f)
	}
	s.mu.Unlock()
	s.cond.Signal()
}

// busy reports whether an fsync is running or groups wait for one.
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
	var files []*os.File
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
		files, s.files = s.files, files[:0]
		s.syncing = len(ops) > 0
		closing := s.closing
		failed := s.err
		s.mu.Unlock()
		if len(ops) == 0 && closing {
			return
		}
		start := s.now()
		err := failed
		for _, f := range files {
			if err != nil {
				break
			}
			if err = s.fsync(f); err != nil {
				err = fmt.Errorf("sync journal log: %w", err)
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
			}
		}
		for _, o := range ops {
			if err != nil {
				o.err = err
			}
			o.commit.End(o.err)
		}
		if err == nil && calls(ops, s.commitSiblings) >= s.commitSiblings {
			if d := s.commitDelay - s.now().Sub(start); d > 0 {
				s.sleep(d)
			}
		}
		clear(ops)
		clear(files)
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
	return s.failed()
}
