package migration

import (
	"context"
	"errors"

	"github.com/camsd/camsd"
)

// errNotOwner takes the catalogue's message: a refusal that says no more than its Code.
var errNotOwner = &camsd.Error{Code: camsd.CodeUnknownResourceOwnerID}

// ownSpace returns the space if the caller's account owns it. A space that does not exist
// answers the same as another tenant's, so that tenants cannot probe each other.
func (s *Service) ownSpace(ctx context.Context, c Caller, p Params) (*camsd.Space, error) {
	uid := c.Principal.Account.UID
	if ro := p.Get("ResourceOwnerId"); ro != "" && ro != uid {
		return nil, errNotOwner
	}
	sp, err := s.Store.Space(ctx, p.Get("CustSpaceId"))
	if errors.Is(err, camsd.ErrNotFound) {
		return nil, errNotOwner
	} else if err != nil {
		return nil, err
	}
	if sp.UID != uid {
		return nil, errNotOwner
	}
	return sp, nil
}

// number returns the number in the space, or PhoneNumber.NotFound. On replicas its record may
// come from a cache that lags another replica's change by a moment (camsd.FreshNumbers).
func (s *Service) number(ctx context.Context, space, number string) (*camsd.PhoneNumber, error) {
	n, err := s.Store.PhoneNumber(ctx, space, number)
	return numberOrNotFound(n, err, space, number)
}

// currentNumber is number's current record, read past any cache: for a refusal that a
// lagging record could have caused, and for what a caller reads back after a change it made
// through another replica a moment ago.
func (s *Service) currentNumber(ctx context.Context, space, number string) (*camsd.PhoneNumber, error) {
	if f, ok := s.Store.(camsd.FreshNumbers); ok {
		n, err := f.PhoneNumberNow(ctx, space, number)
		return numberOrNotFound(n, err, space, number)
	}
	return s.number(ctx, space, number)
}

func numberOrNotFound(n *camsd.PhoneNumber, err error, space, number string) (*camsd.PhoneNumber, error) {
	if errors.Is(err, camsd.ErrNotFound) {
		return nil, notFound(number, space)
	}
	return n, err
}

func notFound(phone, space string) error {
	return camsd.Errorf(camsd.CodePhoneNumberNotFound, "The phone number %s is not in space %s.", phone, space)
}

func notMigrating(phone string, st camsd.NumberStatus) error {
	return camsd.Errorf(camsd.CodePhoneNumberNotMigrating, "The phone number %s is not being migrated (status %s).", phone, st)
}
