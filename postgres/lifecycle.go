package postgres

import (
	"context"
	"errors"

	"github.com/camsd/camsd"
)

// Numbers is not built yet.
func (db *DB) Numbers(ctx context.Context, custSpaceID string) ([]camsd.PhoneNumber, error) {
	return nil, errors.New("not implemented")
}

// PreValidated is not built yet.
func (db *DB) PreValidated(ctx context.Context, uid string) ([]camsd.PreValidatedNumber, error) {
	return nil, errors.New("not implemented")
}
