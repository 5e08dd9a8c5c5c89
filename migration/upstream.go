package migration

import (
	"context"
	"errors"
	"time"

	"github.com/camsd/camsd"
)

// errPeek makes ChangeNumber write nothing: peek's way to run a rule only for its refusals.
var errPeek = errors.New("peek: write nothing")

// peek runs rule on the number's state, as ChangeNumber would, and writes nothing. It
// returns the rule's refusal, if any. It takes no call: the nonce a call may still have to
// record goes with its first write, not with a look.
func (s *Service) peek(ctx context.Context, space, number string, since time.Time, rule func(*camsd.NumberTxn) error) error {
	err := s.Store.ChangeNumber(ctx, nil, space, number, since, func(tx *camsd.NumberTxn) error {
		if err := rule(tx); err != nil {
			return err
		}
		return errPeek
	})
	if errors.Is(err, errPeek) {
		return nil
	}
	return err
}

// change runs rule as the action's change of the number in space. With an Upstream it
// first runs rule without writing, for camsd's own refusals; then asks the platform (ask,
// given the number's id in space) through callUpstream, naming what it asks; and only once
// the platform accepted, runs rule again inside ChangeNumber.
func (s *Service) change(ctx context.Context, c Caller, action, space, number string, since time.Time, rule func(*camsd.NumberTxn) error, what string, ask func(ctx context.Context, id string) error) error {
	if s.Upstream != nil {
		id, err := s.peekID(ctx, space, number, since, rule)
		if err != nil {
			return err
		}
		err = s.callUpstream(ctx, c, action, space, number, what, func(ctx context.Context) error { return ask(ctx, id) })
		if err != nil {
			return err
		}
	}
	return s.Store.ChangeNumber(ctx, c.Call, space, number, since, rule)
}

// peekID runs rule as peek does and returns the number's id in space, which the platform
// knows it by.
func (s *Service) peekID(ctx context.Context, space, number string, since time.Time, rule func(*camsd.NumberTxn) error) (string, error) {
	var id string
	err := s.peek(ctx, space, number, since, func(tx *camsd.NumberTxn) error {
		if err := rule(tx); err != nil {
			return err
		}
		id = tx.Record(space).ID
		return nil
	})
	return id, err
}

// platformVerifies has the platform check the code given for the number: first camsd's own
// refusals (rule, a code check that takes any value as right, run without writing), then the
// platform's word. It returns the number's id and whether the platform accepted the code; the
// platform's VerifyCode.Invalid is a wrong try for the change to count, not an error.
func (s *Service) platformVerifies(ctx context.Context, c Caller, action, space, number, given string, since time.Time, rule func(*camsd.NumberTxn) error) (id string, accepted bool, err error) {
	if id, err = s.peekID(ctx, space, number, since, rule); err != nil {
		return "", false, err
	}
	err = s.callUpstream(ctx, c, action, space, number, "verify_code", func(ctx context.Context) error {
		return s.Upstream.VerifyCode(ctx, id, given)
	})
	if err != nil && camsd.ErrorCode(err) != camsd.CodeVerifyCodeInvalid {
		return "", false, err
	}
	return id, err == nil, nil
}

// callUpstream makes one call to the platform with a durable record before it (Pending) and
// after it (its outcome) in the audit trail, so that a crash between the two shows: a
// Pending record with nothing after it. The request's writes so far are made durable before
// the call goes out.
func (s *Service) callUpstream(ctx context.Context, c Caller, action, space, number, what string, call func(context.Context) error) error {
	record := func(ctx context.Context, outcome, detail string) error {
		return s.Store.ChangeNumber(ctx, c.Call, space, number, time.Time{}, func(tx *camsd.NumberTxn) error {
			tx.Audit = append(tx.Audit, c.audit(s.now(), action, space, number, outcome, detail))
			return nil
		})
	}
	if err := record(ctx, "Pending", "calling the platform: "+what); err != nil {
		return err
	}
	if err := c.Call.Wait(); err != nil {
		return err
	}
	c.Call.Blocked() // outside the process: the call is not on its way to a write
	err := call(ctx)
	c.Call.Unblocked()
	outcome, detail := camsd.CodeOK, "the platform accepted "+what
	if err != nil {
		outcome, detail = camsd.ErrorCode(err), "the platform refused "+what+": "+truncate(err.Error(), 300)
	}
	// Recorded even when the caller has gone: the call happened.
	if rerr := record(context.WithoutCancel(ctx), outcome, detail); rerr != nil && err == nil {
		return rerr
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
