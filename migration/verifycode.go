package migration

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/camsd/camsd"
)

// NumberData is the Data of replies that name a number.
type NumberData struct {
	PhoneNumber string
	Id          string //nolint:revive // wire name
}

// GetMigrationVerifyCode sends a new 6-digit code to a MIGRATING number by SMS or voice.
//
// The code is recorded (pending) before the provider is called, so that a crash between the
// two leaves a trace and the resend interval still holds; the record's compare-and-set is
// what makes the interval hold when two requests race.
func (s *Service) GetMigrationVerifyCode(ctx context.Context, c Caller, p Params) (*NumberData, error) {
	return s.sendCode(ctx, c, p, func(num *camsd.PhoneNumber) error {
		if num.Status != camsd.StatusMigrating {
			return notMigrating(num.Number, num.Status)
		}
		return nil
	})
}

// sendCode is the rule GetMigrationVerifyCode and GetChatappVerifyCode share: the number's
// state (which may asks), then a new code recorded, sent and marked.
func (s *Service) sendCode(ctx context.Context, c Caller, p Params, may func(*camsd.PhoneNumber) error) (*NumberData, error) {
	if err := requirePresent(p, "CustSpaceId", "PhoneNumber", "Locale", "Method"); err != nil {
		return nil, err
	}
	method, err := checkMethod(p.Get("Method"))
	if err != nil {
		return nil, err
	}
	phone := p.Get("PhoneNumber")
	if err := checkPhoneNumber("PhoneNumber", phone); err != nil {
		return nil, err
	}
	locale, err := checkLocale(p.Get("Locale"))
	if err != nil {
		return nil, err
	}
	space, err := s.ownSpace(ctx, c, p)
	if err != nil {
		return nil, err
	}
	num, err := s.number(ctx, space.CustSpaceID, phone)
	if err != nil {
		return nil, err
	}
	if may(num) != nil {
		// Refused on a record that may lag a change made through another replica a moment
		// ago (a number initiated there): decided again on the current one.
		if num, err = s.currentNumber(ctx, space.CustSpaceID, phone); err != nil {
			return nil, err
		}
		if err := may(num); err != nil {
			return nil, err
		}
	}

	code := "" // with an Upstream the platform makes the code, and camsd never sees it
	if s.Upstream == nil {
		if code, err = s.newCode(); err != nil {
			return nil, err
		}
	}
	now := s.now()
	vc := camsd.VerifyCode{
		CustSpaceID: space.CustSpaceID,
		PhoneNumber: phone,
		Code:        code,
		Method:      method,
		Locale:      locale,
		SentAt:      now,
		ExpiresAt:   now.Add(s.codeTTL()),
		RequestID:   c.RequestID,
		AccessKeyID: c.AccessKeyID,
		Status:      camsd.DeliveryPending,
	}
	// A code sent after notSentAfter holds this one back. With the interval off, none does,
	// not even one a concurrent call sent with a later clock reading than this call's.
	notSentAfter := now.Add(-s.ResendInterval)
	if s.ResendInterval <= 0 {
		notSentAfter = time.Unix(0, math.MaxInt64)
	}
	cm := camsd.CodeMessage{PhoneNumber: phone, Method: method, Locale: locale, Code: code}
	if rec := s.recorder(); rec != nil {
		// Delivery is a record in the store: the code is recorded as sent, with its
		// message, in one write.
		msg, keep := rec.Record(cm)
		vc.Status = camsd.DeliverySent
		err := s.Store.SaveCodeMessage(ctx, c.Call, vc, notSentAfter, msg, keep)
		if err == nil {
			// The message is durable before anyone hears of it.
			err = c.Call.Wait()
		}
		if !errors.Is(err, camsd.ErrConflict) && !errors.Is(err, camsd.ErrNotFound) && !errors.Is(err, camsd.ErrNonceUsed) {
			rec.Recorded(msg, err) // a delivery, made or failed
		}
		if err != nil {
			return nil, s.codeNotRecorded(ctx, err, space.CustSpaceID, phone, now)
		}
		return &NumberData{PhoneNumber: phone, Id: num.ID}, nil
	}
	if err := s.Store.SaveCode(ctx, c.Call, vc, notSentAfter); err != nil {
		return nil, s.codeNotRecorded(ctx, err, space.CustSpaceID, phone, now)
	}

	send := func(ctx context.Context) error {
		return s.Provider.SendCode(ctx, c.Call, cm)
	}
	if s.Upstream != nil {
		send = func(ctx context.Context) error {
			// The pending record is durable before the platform is asked, so a crash while
			// it is being asked leaves a trace.
			if err := c.Call.Wait(); err != nil {
				return err
			}
			return s.Upstream.RequestCode(ctx, num.ID, method, locale)
		}
	}
	c.Call.Blocked() // the provider may go outside the process: the call is not on its way to a write
	err = send(ctx)
	c.Call.Unblocked()
	if err != nil {
		// A failed send must not hold the number to the resend interval, nor be checkable.
		_ = s.Store.SetCodeStatus(context.WithoutCancel(ctx), c.Call, space.CustSpaceID, phone, now, camsd.DeliveryFailed)
		var wire *camsd.Error
		if errors.As(err, &wire) {
			return nil, wire // the platform's refusal, as the caller should see it
		}
		return nil, fmt.Errorf("send code: %w", err)
	}
	if err := s.Store.SetCodeStatus(context.WithoutCancel(ctx), c.Call, space.CustSpaceID, phone, now, camsd.DeliverySent); err != nil {
		return nil, fmt.Errorf("mark code sent: %w", err)
	}
	return &NumberData{PhoneNumber: phone, Id: num.ID}, nil
}

// recorder is the Provider as a Recorder whose messages go to the Store, or nil: codes the
// platform sends, or a Provider that delivers elsewhere, take the pending, sent, marked path.
func (s *Service) recorder() camsd.Recorder {
	rec, ok := s.Provider.(camsd.Recorder)
	if !ok || s.Upstream != nil {
		return nil
	}
	if o, ok := s.Store.(camsd.Outbox); ok && rec.RecordsIn(o) {
		return rec
	}
	return nil
}

// codeNotRecorded is the caller's error for a code the store did not record.
func (s *Service) codeNotRecorded(ctx context.Context, err error, space, phone string, now time.Time) error {
	if errors.Is(err, camsd.ErrConflict) {
		return s.tooFrequent(ctx, err, space, phone, now)
	}
	return fmt.Errorf("record code: %w", err)
}

// tooFrequent builds VerifyCode.SendTooFrequent with the time left until a new code may go:
// from the code that conflict says SaveCode lost to, or, when the store does not say, from
// the number's last code.
func (s *Service) tooFrequent(ctx context.Context, conflict error, space, phone string, now time.Time) error {
	e := camsd.Errorf(camsd.CodeVerifyCodeSendTooFreq, "A verification code was sent to %s less than %s ago; wait before requesting another.", phone, seconds(s.ResendInterval))
	e.RetryAfter = s.ResendInterval
	var sentAt time.Time
	var cc *camsd.CodeConflict
	if errors.As(conflict, &cc) {
		sentAt = cc.Newest
	} else if last, err := s.Store.LastCode(ctx, space, phone); err == nil {
		sentAt = last.SentAt
	}
	if left := sentAt.Add(s.ResendInterval).Sub(now); !sentAt.IsZero() && left > 0 {
		e.RetryAfter = left
	}
	return e
}

var million = big.NewInt(1_000_000)

// newCode returns six uniformly random decimal digits.
func (s *Service) newCode() (string, error) {
	n, err := rand.Int(s.rand(), million)
	if err != nil {
		return "", fmt.Errorf("code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// seconds writes d for people: "60 seconds", "1.5 seconds".
func seconds(d time.Duration) string {
	if d == time.Second {
		return "1 second"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " seconds"
}
