package httpapi

import (
	"context"
	"errors"
	"time"

	"github.com/camsd/camsd"
)

// errNotStubbed is what a fake's method answers when the test did not set its function: an
// unexpected error, so that a call nobody planned for surfaces as InternalError.
var errNotStubbed = errors.New("fake: method not stubbed")

// fakeStore is a camsd.Store whose methods call the function fields of the same name.
type fakeStore struct {
	PrincipalFn     func(ctx context.Context, accessKeyID string) (*camsd.Principal, error)
	SpaceFn         func(ctx context.Context, custSpaceID string) (*camsd.Space, error)
	PhoneNumberFn   func(ctx context.Context, custSpaceID, number string) (*camsd.PhoneNumber, error)
	LastCodeFn      func(ctx context.Context, custSpaceID, number string) (*camsd.VerifyCode, error)
	SaveCodeFn      func(ctx context.Context, call *camsd.Call, c camsd.VerifyCode, notSentAfter time.Time) error
	SetCodeStatusFn func(ctx context.Context, custSpaceID, number string, sentAt time.Time, s camsd.DeliveryStatus) error
	ChangeNumberFn  func(ctx context.Context, custSpaceID, number string, since time.Time, change func(*camsd.NumberTxn) error) error
	PingFn          func(ctx context.Context) error
}

var _ camsd.Store = (*fakeStore)(nil)

func (s *fakeStore) Principal(ctx context.Context, accessKeyID string) (*camsd.Principal, error) {
	if s.PrincipalFn == nil {
		return nil, errNotStubbed
	}
	return s.PrincipalFn(ctx, accessKeyID)
}

func (s *fakeStore) Space(ctx context.Context, custSpaceID string) (*camsd.Space, error) {
	if s.SpaceFn == nil {
		return nil, errNotStubbed
	}
	return s.SpaceFn(ctx, custSpaceID)
}

func (s *fakeStore) PhoneNumber(ctx context.Context, custSpaceID, number string) (*camsd.PhoneNumber, error) {
	if s.PhoneNumberFn == nil {
		return nil, errNotStubbed
	}
	return s.PhoneNumberFn(ctx, custSpaceID, number)
}

func (s *fakeStore) LastCode(ctx context.Context, custSpaceID, number string) (*camsd.VerifyCode, error) {
	if s.LastCodeFn == nil {
		return nil, errNotStubbed
	}
	return s.LastCodeFn(ctx, custSpaceID, number)
}

func (s *fakeStore) SaveCode(ctx context.Context, call *camsd.Call, c camsd.VerifyCode, notSentAfter time.Time) error {
	if s.SaveCodeFn == nil {
		return errNotStubbed
	}
	return s.SaveCodeFn(ctx, call, c, notSentAfter)
}

// SaveCodeMessage is never called: fakeStore is not an Outbox, so no Provider records in it.
func (s *fakeStore) SaveCodeMessage(context.Context, *camsd.Call, camsd.VerifyCode, time.Time, camsd.Message, int) error {
	return errNotStubbed
}

func (s *fakeStore) SetCodeStatus(ctx context.Context, _ *camsd.Call, custSpaceID, number string, sentAt time.Time, st camsd.DeliveryStatus) error {
	if s.SetCodeStatusFn == nil {
		return errNotStubbed
	}
	return s.SetCodeStatusFn(ctx, custSpaceID, number, sentAt, st)
}

func (s *fakeStore) ChangeNumber(ctx context.Context, _ *camsd.Call, custSpaceID, number string, since time.Time, change func(*camsd.NumberTxn) error) error {
	if s.ChangeNumberFn == nil {
		return errNotStubbed
	}
	return s.ChangeNumberFn(ctx, custSpaceID, number, since, change)
}

func (s *fakeStore) Ping(ctx context.Context) error {
	if s.PingFn == nil {
		return errNotStubbed
	}
	return s.PingFn(ctx)
}

// The server never seeds, lists, audits or closes the store.
func (*fakeStore) ApplySeed(context.Context, *camsd.Seed) error { return errNotStubbed }
func (*fakeStore) Audit(context.Context, camsd.AuditQuery) ([]camsd.AuditRecord, error) {
	return nil, errNotStubbed
}
func (*fakeStore) Empty(context.Context) (bool, error) { return false, errNotStubbed }
func (*fakeStore) Close() error                        { return nil }

// fakeNonces is a camsd.NonceStore.
type fakeNonces struct {
	UseFn func(ctx context.Context, accessKeyID, nonce string, expires time.Time) error
}

var _ camsd.NonceStore = (*fakeNonces)(nil)

func (n *fakeNonces) Use(ctx context.Context, _ *camsd.Call, accessKeyID, nonce string, expires time.Time) error {
	if n.UseFn == nil {
		return errNotStubbed
	}
	return n.UseFn(ctx, accessKeyID, nonce, expires)
}

// fakeLimiter is a camsd.Limiter.
type fakeLimiter struct {
	AllowFn func(ctx context.Context, key string, limit int) (camsd.Decision, error)
}

var _ camsd.Limiter = (*fakeLimiter)(nil)

func (l *fakeLimiter) Allow(ctx context.Context, key string, limit int) (camsd.Decision, error) {
	if l.AllowFn == nil {
		return camsd.Decision{}, errNotStubbed
	}
	return l.AllowFn(ctx, key, limit)
}

// fakeProvider is a camsd.Provider.
type fakeProvider struct {
	SendCodeFn func(ctx context.Context, m camsd.CodeMessage) error
}

var _ camsd.Provider = (*fakeProvider)(nil)

func (p *fakeProvider) SendCode(ctx context.Context, _ *camsd.Call, m camsd.CodeMessage) error {
	if p.SendCodeFn == nil {
		return errNotStubbed
	}
	return p.SendCodeFn(ctx, m)
}

func (s *fakeStore) Numbers(ctx context.Context, custSpaceID string) ([]camsd.PhoneNumber, error) {
	return nil, errNotStubbed
}

func (s *fakeStore) PreValidated(ctx context.Context, uid string) ([]camsd.PreValidatedNumber, error) {
	return nil, errNotStubbed
}

func (s *fakeStore) Role(ctx context.Context, uid, name string) (*camsd.Account, *camsd.Role, error) {
	return nil, nil, errNotStubbed
}

func (s *fakeStore) STSSigningKey(ctx context.Context, candidate []byte) ([]byte, error) {
	return nil, errNotStubbed
}
