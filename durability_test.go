package camsd

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestCall_Wait(t *testing.T) {
	var none *Call
	if err := none.Wait(); err != nil {
		t.Fatalf("nil Call: %v", err)
	}
	ran := 0
	if err := none.Defer(func() error { ran++; return errors.New("x") }); err == nil || ran != 1 {
		t.Fatalf("nil Call's Defer did not wait at once: %v, ran %d", err, ran)
	}
	c := &Call{}
	var order []int
	boom := errors.New("boom")
	c.Defer(func() error { order = append(order, 1); return nil })
	c.Defer(func() error { order = append(order, 2); return boom })
	if len(order) != 0 {
		t.Fatal("Defer waited")
	}
	if err := c.Wait(); !errors.Is(err, boom) {
		t.Fatalf("Wait = %v, want boom", err)
	}
	if len(order) != 2 || order[0] != 1 {
		t.Fatalf("waited for %v, want 1 then 2", order)
	}
	if err := c.Wait(); err != nil || len(order) != 2 {
		t.Fatalf("second Wait waited again: %v %v", err, order)
	}
}

func TestCall_TakeNonce(t *testing.T) {
	var none *Call
	if none.TakeNonce() != nil {
		t.Fatal("nil Call has a nonce")
	}
	n := &CallNonce{AccessKeyID: "k", Nonce: "n", Expires: time.Now()}
	c := &Call{Nonce: n}
	if got := c.TakeNonce(); got != n {
		t.Fatalf("TakeNonce = %v, want %v", got, n)
	}
	if c.TakeNonce() != nil || c.Nonce != nil {
		t.Fatal("the nonce is still there after it was taken")
	}
}

// A Commit's waiters learn its outcome once the writer ends it; a Call that awaits it waits
// for it in Wait, through wrap; a nil Call waits at once.
func TestCommit(t *testing.T) {
	boom := errors.New("boom")
	c := NewCommit()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait before End with a canceled ctx = %v; want context.Canceled", err)
	}
	call := &Call{}
	if err := call.Await(c, func(err error) error { return fmt.Errorf("wrapped: %w", err) }); err != nil {
		t.Fatalf("Await returned %v before the commit ended", err)
	}
	done := make(chan error)
	go func() { done <- call.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("the call's Wait returned %v before the commit ended", err)
	case <-time.After(20 * time.Millisecond):
	}
	c.End(boom)
	if err := <-done; !errors.Is(err, boom) || err.Error() != "wrapped: boom" {
		t.Errorf("the call's Wait = %v; want wrapped: boom", err)
	}
	if err := c.Wait(context.Background()); err != boom {
		t.Errorf("Wait after End = %v; want boom", err)
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done is not closed after End")
	}

	ok := NewCommit()
	ok.End(nil)
	var none *Call
	if err := none.Await(ok, nil); err != nil {
		t.Errorf("nil Call's Await of a commit that ended well = %v", err)
	}
}

// A tracked call counts as running except while it waits (Blocked, or Wait with writes to
// wait for) and once it has ended; each time it stops counting, Stopped's channel closes.
func TestRunning(t *testing.T) {
	var r Running
	call := &Call{}
	stopsWhen := func(what string, f func(), wantCount int64) {
		t.Helper()
		stopped := r.Stopped()
		f()
		if n := r.Count(); n != wantCount {
			t.Fatalf("after %s: %d running; want %d", what, n, wantCount)
		}
		select {
		case <-stopped:
		default:
			t.Fatalf("after %s: Stopped's channel is open; want it closed", what)
		}
	}
	is := func(what string, want int64) {
		t.Helper()
		if n := r.Count(); n != want {
			t.Fatalf("%s: %d running; want %d", what, n, want)
		}
	}

	r.Track(call)
	r.Track(call) // once
	is("tracked", 1)
	stopsWhen("Blocked", call.Blocked, 0)
	call.Blocked()
	is("Blocked twice", 0)
	call.Unblocked()
	is("Unblocked", 1)
	if err := call.Wait(); err != nil { // nothing to wait for: it keeps running
		t.Fatal(err)
	}
	is("a Wait with nothing to wait for", 1)

	commit := NewCommit()
	if err := call.Await(commit, nil); err != nil {
		t.Fatal(err)
	}
	stopped := r.Stopped()
	waited := make(chan error)
	go func() { waited <- call.Wait() }()
	<-stopped
	is("waiting for a commit", 0)
	commit.End(nil)
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	is("after the commit", 1)

	stopsWhen("End", call.End, 0)
	call.Unblocked()
	is("Unblocked after End", 0)

	var none *Call
	r.Track(none)
	none.Blocked()
	none.Unblocked()
	none.End()
	is("a nil Call", 0)
}
