package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd"
)

// testDurability checks the Store's writes made with a camsd.Call: a
// store may then return before the commit, but each write's outcome is final when it
// returns, and once Wait returns every write is there.
func testDurability(t *testing.T, open func(t *testing.T) camsd.Store) {
	t.Run("SaveCode outcomes are final when it returns", func(t *testing.T) {
		s := seeded(t, open)
		ctx, d := t.Context(), &camsd.Call{}
		c := Code(AcmeSpace, Number1, "111111", T0)
		if err := s.SaveCode(ctx, d, c, farFuture); err != nil {
			t.Fatalf("SaveCode: %v", err)
		}
		again := Code(AcmeSpace, Number1, "222222", T0.Add(time.Second))
		if err := s.SaveCode(ctx, d, again, again.SentAt.Add(-resend)); !errors.Is(err, camsd.ErrConflict) {
			t.Errorf("SaveCode within the interval = %v; want ErrConflict", err)
		}
		if err := s.SaveCode(ctx, d, Code(AcmeSpace, "8613899999999", "333333", T0), farFuture); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("SaveCode(unknown number) = %v; want ErrNotFound", err)
		}
		if err := d.Wait(); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		wantLast(t, s, AcmeSpace, Number1, c)
	})
	t.Run("concurrent callers: exactly one wins", func(t *testing.T) {
		s := seeded(t, open)
		const n = 50
		var mu sync.Mutex
		var waits []*camsd.Call
		errs := concurrently(n, func(i int) error {
			ctx, d := t.Context(), &camsd.Call{}
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			return s.SaveCode(ctx, d, Code(AcmeSpace, Number1, fmt.Sprintf("%06d", i), T0), T0.Add(-resend))
		})
		for _, d := range waits {
			if err := d.Wait(); err != nil {
				t.Errorf("Wait: %v", err)
			}
		}
		winner := onlyWinner(t, errs, camsd.ErrConflict)
		wantLast(t, s, AcmeSpace, Number1, Code(AcmeSpace, Number1, fmt.Sprintf("%06d", winner), T0))
	})
	t.Run("a caller's writes are made in the order it made them", func(t *testing.T) {
		s := seeded(t, open)
		ctx, d := t.Context(), &camsd.Call{}
		c := Code(AcmeSpace, Number1, "111111", T0)
		if err := s.SaveCode(ctx, d, c, farFuture); err != nil {
			t.Fatalf("SaveCode: %v", err)
		}
		for _, st := range []camsd.DeliveryStatus{camsd.DeliverySent, camsd.DeliveryFailed} {
			if err := s.SetCodeStatus(ctx, d, AcmeSpace, Number1, c.SentAt, st); err != nil {
				t.Fatalf("SetCodeStatus(%s): %v", st, err)
			}
		}
		if err := d.Wait(); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		c.Status = camsd.DeliveryFailed
		wantLast(t, s, AcmeSpace, Number1, c)
	})
	t.Run("later writes see earlier ones before Wait", func(t *testing.T) {
		s := seeded(t, open)
		ctx, d := t.Context(), &camsd.Call{}
		c := Code(AcmeSpace, Number1, "111111", T0)
		if err := s.SaveCode(ctx, d, c, farFuture); err != nil {
			t.Fatalf("SaveCode: %v", err)
		}
		// Another caller, without a Call, while the first has not waited.
		retry := Code(AcmeSpace, Number1, "222222", T0.Add(time.Second))
		if err := s.SaveCode(t.Context(), nil, retry, retry.SentAt.Add(-resend)); !errors.Is(err, camsd.ErrConflict) {
			t.Errorf("SaveCode of another caller = %v; want ErrConflict", err)
		}
		if err := s.SetCodeStatus(t.Context(), nil, AcmeSpace, Number1, c.SentAt, camsd.DeliverySent); err != nil {
			t.Errorf("SetCodeStatus of another caller = %v; want nil", err)
		}
		if err := d.Wait(); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		c.Status = camsd.DeliverySent
		wantLast(t, s, AcmeSpace, Number1, c)
	})
	t.Run("SetCodeStatus: ErrNotFound from the call or from Wait", func(t *testing.T) {
		s := seeded(t, open)
		ctx, d := t.Context(), &camsd.Call{}
		err := s.SetCodeStatus(ctx, d, AcmeSpace, Number1, T0, camsd.DeliverySent)
		if err := errors.Join(err, d.Wait()); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("SetCodeStatus(no code), then Wait = %v; want ErrNotFound", err)
		}
	})
}
