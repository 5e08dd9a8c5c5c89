package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
)

// resend is the interval the tests pretend the business rule asks for between two codes.
const resend = time.Minute

// farFuture as notSentAfter lets SaveCode record a code whatever came before it.
var farFuture = T0.Add(24 * time.Hour)

func testLastCode(t *testing.T, open func(t *testing.T) camsd.Store) {
	t.Run("none recorded", func(t *testing.T) {
		s := seeded(t, open)
		if c, err := s.LastCode(t.Context(), AcmeSpace, Number1); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("LastCode = %v, %v; want ErrNotFound", c, err)
		}
	})
	t.Run("returns every field as saved", func(t *testing.T) {
		s := seeded(t, open)
		c := Code(AcmeSpace, Number1, "123456", T0)
		c.Method, c.Locale, c.AccessKeyID, c.Status = "voice", "zh_CN", DevKey, camsd.DeliverySent
		save(t, s, c, farFuture)
		wantLast(t, s, AcmeSpace, Number1, c)
	})
	t.Run("newest by SentAt, not by insertion", func(t *testing.T) {
		s := seeded(t, open)
		newer := Code(AcmeSpace, Number1, "222222", T0.Add(2*time.Minute))
		save(t, s, newer, farFuture)
		save(t, s, Code(AcmeSpace, Number1, "111111", T0), farFuture)
		wantLast(t, s, AcmeSpace, Number1, newer)
	})
	t.Run("equal SentAt: the last inserted", func(t *testing.T) {
		s := seeded(t, open)
		save(t, s, Code(AcmeSpace, Number1, "111111", T0), farFuture)
		second := Code(AcmeSpace, Number1, "222222", T0)
		save(t, s, second, farFuture)
		wantLast(t, s, AcmeSpace, Number1, second)
	})
	t.Run("whatever its status", func(t *testing.T) {
		s := seeded(t, open)
		save(t, s, Code(AcmeSpace, Number1, "111111", T0), farFuture)
		failed := Code(AcmeSpace, Number1, "222222", T0.Add(time.Minute))
		failed.Status = camsd.DeliveryFailed
		save(t, s, failed, farFuture)
		wantLast(t, s, AcmeSpace, Number1, failed)
	})
	t.Run("per number and per space", func(t *testing.T) {
		s := seeded(t, open)
		c := Code(AcmeSpace, Number1, "111111", T0)
		save(t, s, c, farFuture)
		for _, k := range [][2]string{{AcmeSpace, Number2}, {BetaSpace, Number1}} {
			if got, err := s.LastCode(t.Context(), k[0], k[1]); !errors.Is(err, camsd.ErrNotFound) {
				t.Errorf("LastCode(%q, %q) = %v, %v; want ErrNotFound", k[0], k[1], got, err)
			}
		}
		wantLast(t, s, AcmeSpace, Number1, c)
	})
}

func testSaveCode(t *testing.T, open func(t *testing.T) camsd.Store) {
	first := Code(AcmeSpace, Number1, "111111", T0)
	for _, tc := range []struct {
		name         string
		status       camsd.DeliveryStatus // of the first code
		space        string
		number       string
		sentAt       time.Time
		notSentAfter time.Time
		wantErr      error
	}{
		{"a pending code sent after notSentAfter conflicts", camsd.DeliveryPending, AcmeSpace, Number1, T0.Add(30 * time.Second), T0.Add(30*time.Second - resend), camsd.ErrConflict},
		{"a sent code sent after notSentAfter conflicts", camsd.DeliverySent, AcmeSpace, Number1, T0.Add(30 * time.Second), T0.Add(30*time.Second - resend), camsd.ErrConflict},
		{"a failed code does not block", camsd.DeliveryFailed, AcmeSpace, Number1, T0.Add(30 * time.Second), T0.Add(30*time.Second - resend), nil},
		{"a code sent exactly at notSentAfter does not block", camsd.DeliveryPending, AcmeSpace, Number1, T0.Add(resend), T0, nil},
		{"a code sent before notSentAfter does not block", camsd.DeliveryPending, AcmeSpace, Number1, T0.Add(resend + time.Second), T0.Add(time.Second), nil},
		{"another number is not blocked", camsd.DeliveryPending, AcmeSpace, Number2, T0.Add(time.Second), T0.Add(time.Second - resend), nil},
		{"the number in another space is not blocked", camsd.DeliveryPending, BetaSpace, Number1, T0.Add(time.Second), T0.Add(time.Second - resend), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := seeded(t, open)
			c := first
			c.Status = tc.status
			save(t, s, c, farFuture)
			next := Code(tc.space, tc.number, "222222", tc.sentAt)
			err := s.SaveCode(t.Context(), nil, next, tc.notSentAfter)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("SaveCode = %v; want %v", err, tc.wantErr)
			}
			// A store may say what the conflict was with (SendTooFrequent's Retry-After runs
			// from it); if it does, it must be the code that blocks.
			if cc := (*camsd.CodeConflict)(nil); errors.As(err, &cc) && !cc.Newest.Equal(c.SentAt) {
				t.Errorf("conflict with a code sent at %v; want %v", cc.Newest, c.SentAt)
			}
			want := next
			if tc.wantErr != nil {
				want = c // nothing recorded
			}
			wantLast(t, s, tc.space, tc.number, want)
		})
	}
	t.Run("unknown number is ErrNotFound (silent in the contract)", func(t *testing.T) {
		s := seeded(t, open)
		err := s.SaveCode(t.Context(), nil, Code(AcmeSpace, "8613899999999", "111111", T0), farFuture)
		if !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("SaveCode(unknown number) = %v; want ErrNotFound", err)
		}
	})
	t.Run("concurrent callers: exactly one wins", func(t *testing.T) {
		s := seeded(t, open)
		errs := concurrently(50, func(i int) error {
			return s.SaveCode(t.Context(), nil, Code(AcmeSpace, Number1, fmt.Sprintf("%06d", i), T0), T0.Add(-resend))
		})
		winner := onlyWinner(t, errs, camsd.ErrConflict)
		wantLast(t, s, AcmeSpace, Number1, Code(AcmeSpace, Number1, fmt.Sprintf("%06d", winner), T0))
	})
}

// testSaveCodeMessage: a code and the message that delivers it are recorded by one write,
// the message only if the code is; both are there once the call's Wait returns.
func testSaveCodeMessage(t *testing.T, open func(t *testing.T) camsd.Store) {
	// saveWithMessage records c, sent, with its message (code c.Code), with a Call, and
	// returns SaveCodeMessage's error, or Wait's.
	saveWithMessage := func(t *testing.T, s camsd.Store, c camsd.VerifyCode, notSentAfter time.Time, keep int) error {
		t.Helper()
		call := &camsd.Call{}
		m := camsd.Message{PhoneNumber: c.PhoneNumber, Method: c.Method, Locale: c.Locale, Code: c.Code,
			Text: "Your verification code is " + c.Code + ".", CreatedAt: c.SentAt}
		err := s.SaveCodeMessage(t.Context(), call, c, notSentAfter, m, keep)
		if werr := call.Wait(); err == nil {
			err = werr
		}
		return err
	}
	codes := func(t *testing.T, s camsd.Store) []string {
		t.Helper()
		ms, err := s.(camsd.Outbox).Messages(t.Context(), "", 0)
		if err != nil {
			t.Fatalf("Messages: %v", err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.PhoneNumber+":"+m.Code)
		}
		return got
	}
	sent := func(c camsd.VerifyCode) camsd.VerifyCode {
		c.Status = camsd.DeliverySent
		return c
	}
	t.Run("the code, as sent, and its message; none for a code refused", func(t *testing.T) {
		s := seeded(t, open)
		first := sent(Code(AcmeSpace, Number1, "111111", T0))
		if err := saveWithMessage(t, s, first, farFuture, 0); err != nil {
			t.Fatalf("SaveCodeMessage: %v", err)
		}
		check := func(when string) {
			t.Helper()
			wantLast(t, s, AcmeSpace, Number1, first)
			if got, want := codes(t, s), []string{Number1 + ":111111"}; !cmp.Equal(got, want) {
				t.Errorf("%s: messages %v; want only the first code's %v", when, got, want)
			}
		}
		check("recorded")
		again := sent(Code(AcmeSpace, Number1, "222222", T0.Add(time.Second)))
		if err := saveWithMessage(t, s, again, again.SentAt.Add(-resend), 0); !errors.Is(err, camsd.ErrConflict) {
			t.Errorf("SaveCodeMessage within the interval = %v; want ErrConflict", err)
		}
		unknown := sent(Code(AcmeSpace, "8613899999999", "333333", T0))
		if err := saveWithMessage(t, s, unknown, farFuture, 0); !errors.Is(err, camsd.ErrNotFound) {
			t.Errorf("SaveCodeMessage(unknown number) = %v; want ErrNotFound", err)
		}
		check("refused")
	})
	t.Run("the outbox keeps its newest keep", func(t *testing.T) {
		s := seeded(t, open)
		for i, sn := range [][2]string{{AcmeSpace, Number1}, {AcmeSpace, Number2}, {BetaSpace, Number1}} {
			c := sent(Code(sn[0], sn[1], fmt.Sprintf("%06d", i), T0.Add(time.Duration(i)*time.Second)))
			if err := saveWithMessage(t, s, c, farFuture, 2); err != nil {
				t.Fatalf("SaveCodeMessage(%d): %v", i, err)
			}
		}
		if got, want := codes(t, s), []string{Number1 + ":000002", Number2 + ":000001"}; !cmp.Equal(got, want) {
			t.Errorf("messages %v; want %v", got, want)
		}
	})
	t.Run("concurrent callers: one code, one message", func(t *testing.T) {
		s := seeded(t, open)
		errs := concurrently(50, func(i int) error {
			return saveWithMessage(t, s, sent(Code(AcmeSpace, Number1, fmt.Sprintf("%06d", i), T0)), T0.Add(-resend), 0)
		})
		winner := onlyWinner(t, errs, camsd.ErrConflict)
		wantLast(t, s, AcmeSpace, Number1, sent(Code(AcmeSpace, Number1, fmt.Sprintf("%06d", winner), T0)))
		if got, want := codes(t, s), []string{fmt.Sprintf("%s:%06d", Number1, winner)}; !cmp.Equal(got, want) {
			t.Errorf("messages %v; want only the winner's %v", got, want)
		}
	})
}

func testSetCodeStatus(t *testing.T, open func(t *testing.T) camsd.Store) {
	t.Run("sets the status of the code sent at sentAt", func(t *testing.T) {
		s := seeded(t, open)
		older := Code(AcmeSpace, Number1, "111111", T0)
		newer := Code(AcmeSpace, Number1, "222222", T0.Add(2*resend))
		save(t, s, older, farFuture)
		save(t, s, newer, farFuture)
		if err := s.SetCodeStatus(t.Context(), nil, AcmeSpace, Number1, older.SentAt, camsd.DeliverySent); err != nil {
			t.Fatalf("SetCodeStatus(older): %v", err)
		}
		wantLast(t, s, AcmeSpace, Number1, newer) // untouched
		if err := s.SetCodeStatus(t.Context(), nil, AcmeSpace, Number1, newer.SentAt, camsd.DeliverySent); err != nil {
			t.Fatalf("SetCodeStatus(newer): %v", err)
		}
		newer.Status = camsd.DeliverySent
		wantLast(t, s, AcmeSpace, Number1, newer)
	})
	t.Run("a code set to failed stops blocking", func(t *testing.T) {
		s := seeded(t, open)
		c := Code(AcmeSpace, Number1, "111111", T0)
		save(t, s, c, farFuture)
		retry := Code(AcmeSpace, Number1, "222222", T0.Add(time.Second))
		if err := s.SaveCode(t.Context(), nil, retry, retry.SentAt.Add(-resend)); !errors.Is(err, camsd.ErrConflict) {
			t.Fatalf("SaveCode before failure = %v; want ErrConflict", err)
		}
		if err := s.SetCodeStatus(t.Context(), nil, AcmeSpace, Number1, c.SentAt, camsd.DeliveryFailed); err != nil {
			t.Fatalf("SetCodeStatus: %v", err)
		}
		if err := s.SaveCode(t.Context(), nil, retry, retry.SentAt.Add(-resend)); err != nil {
			t.Fatalf("SaveCode after failure: %v", err)
		}
		wantLast(t, s, AcmeSpace, Number1, retry)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := seeded(t, open)
		save(t, s, Code(AcmeSpace, Number1, "111111", T0), farFuture)
		for _, tc := range []struct {
			name          string
			space, number string
			sentAt        time.Time
		}{
			{"other sentAt", AcmeSpace, Number1, T0.Add(time.Nanosecond)},
			{"other number", AcmeSpace, Number2, T0},
			{"other space", BetaSpace, Number1, T0},
		} {
			if err := s.SetCodeStatus(t.Context(), nil, tc.space, tc.number, tc.sentAt, camsd.DeliverySent); !errors.Is(err, camsd.ErrNotFound) {
				t.Errorf("%s: SetCodeStatus = %v; want ErrNotFound", tc.name, err)
			}
		}
	})
}

func save(t *testing.T, s camsd.Store, c camsd.VerifyCode, notSentAfter time.Time) {
	t.Helper()
	if err := s.SaveCode(t.Context(), nil, c, notSentAfter); err != nil {
		t.Fatalf("SaveCode(%s at %v): %v", c.Code, c.SentAt, err)
	}
}

func wantLast(t *testing.T, s camsd.Store, space, number string, want camsd.VerifyCode) {
	t.Helper()
	got, err := s.LastCode(t.Context(), space, number)
	if err != nil {
		t.Fatalf("LastCode(%q, %q): %v", space, number, err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("LastCode(%q, %q) (-want +got):\n%s", space, number, diff)
	}
}
