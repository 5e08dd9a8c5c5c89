package camsd_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
)

func TestQueue_takesOldestFirstUpToRoom(t *testing.T) {
	q := camsd.NewQueue[int]()
	for i := 1; i <= 5; i++ {
		if err := q.Put(i); err != nil {
			t.Fatal(err)
		}
	}
	// A batch that holds a carried item already has room for two more.
	batch, closed := q.Take([]int{0}, 3)
	if !slices.Equal(batch, []int{0, 1, 2}) || closed {
		t.Fatalf("Take = %v, %v; want [0 1 2], open", batch, closed)
	}
	if n := q.Len(); n != 3 {
		t.Fatalf("Len = %d after taking 2 of 5; want 3", n)
	}
	batch, _ = q.Take(nil, 0) // no bound: all of it
	if !slices.Equal(batch, []int{3, 4, 5}) {
		t.Fatalf("Take = %v; want [3 4 5]", batch)
	}
	if batch, _ = q.Take(nil, 10); len(batch) != 0 {
		t.Fatalf("Take of an empty queue = %v", batch)
	}
}

func TestQueue_withdrawOnlyWhatIsNotTaken(t *testing.T) {
	q := camsd.NewQueue[string]()
	for _, s := range []string{"a", "b", "c"} {
		q.Put(s)
	}
	q.Take(nil, 1) // a is the writer's now
	if q.Withdraw("a") {
		t.Error("Withdraw of a taken item reported it withdrawn")
	}
	if !q.Withdraw("b") {
		t.Error("Withdraw of a queued item reported it taken")
	}
	if batch, _ := q.Take(nil, 0); !slices.Equal(batch, []string{"c"}) {
		t.Errorf("after withdrawing b, Take = %v; want [c]", batch)
	}
}

func TestQueue_readyAfterPutAndNudge(t *testing.T) {
	q := camsd.NewQueue[int]()
	if ready(q) {
		t.Fatal("a new queue is ready")
	}
	q.Put(1)
	q.Put(2)
	if !ready(q) {
		t.Fatal("not ready after Put")
	}
	if ready(q) {
		t.Fatal("two Puts left two tokens; one stands for both")
	}
	q.Nudge()
	if !ready(q) {
		t.Fatal("not ready after Nudge")
	}
}

func TestQueue_closeKeepsWhatIsQueued(t *testing.T) {
	q := camsd.NewQueue[int]()
	q.Put(1)
	q.Close()
	q.Close() // twice is harmless
	q.Nudge() // and so is a nudge after it
	if err := q.Put(2); !errors.Is(err, camsd.ErrQueueClosed) {
		t.Fatalf("Put after Close = %v; want ErrQueueClosed", err)
	}
	for range 3 {
		if !ready(q) {
			t.Fatal("a closed queue is not ready")
		}
	}
	batch, closed := q.Take(nil, 0)
	if !slices.Equal(batch, []int{1}) || !closed || !q.Closed() {
		t.Fatalf("Take after Close = %v, %v; want [1], closed", batch, closed)
	}
}

// Writers that wait on Ready and Take, as the stores' do, take every item put by concurrent
// callers exactly once, and all of them return once the queue is closed and empty.
func TestQueue_concurrentWritersTakeEachItemOnce(t *testing.T) {
	const putters, each, writers = 8, 500, 3
	q := camsd.NewQueue[int]()
	var mu sync.Mutex
	seen := map[int]int{}
	var ws sync.WaitGroup
	for range writers {
		ws.Add(1)
		go func() {
			defer ws.Done()
			var batch []int
			for {
				var closed bool
				if batch, closed = q.Take(batch[:0], 16); len(batch) > 0 {
					mu.Lock()
					for _, x := range batch {
						seen[x]++
					}
					mu.Unlock()
					continue
				}
				if closed {
					return
				}
				<-q.Ready()
			}
		}()
	}
	var ps sync.WaitGroup
	for p := range putters {
		ps.Add(1)
		go func() {
			defer ps.Done()
			for i := range each {
				if err := q.Put(p*each + i); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	ps.Wait()
	q.Close()
	done := make(chan struct{})
	go func() { ws.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("writers did not return after Close")
	}
	if len(seen) != putters*each {
		t.Fatalf("%d distinct items taken; want %d", len(seen), putters*each)
	}
	for x, n := range seen {
		if n != 1 {
			t.Fatalf("item %d taken %d times", x, n)
		}
	}
}

func ready[T comparable](q *camsd.Queue[T]) bool {
	select {
	case <-q.Ready():
		return true
	default:
		return false
	}
}
