package camsd

import (
	"context"
	"errors"
	"testing"
)

func TestDurability_Wait(t *testing.T) {
	if err := DurabilityFrom(context.Background()).Wait(); err != nil {
		t.Fatalf("nil Durability: %v", err)
	}
	ctx, d := WithDurability(context.Background())
	if DurabilityFrom(ctx) != d {
		t.Fatal("DurabilityFrom does not return the context's Durability")
	}
	var ran []int
	boom := errors.New("boom")
	d.Defer(func() error { ran = append(ran, 1); return nil })
	d.Defer(func() error { ran = append(ran, 2); return boom })
	if err := d.Wait(); !errors.Is(err, boom) {
		t.Fatalf("Wait = %v, want boom", err)
	}
	if len(ran) != 2 {
		t.Fatalf("waited for %v, want both", ran)
	}
	if err := d.Wait(); err != nil || len(ran) != 2 {
		t.Fatalf("second Wait waited again: %v %v", err, ran)
	}
}
