package camsd

import (
	"errors"
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
