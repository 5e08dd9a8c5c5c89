package main

import (
	"context"
	"fmt"

	"github.com/camsd/camsd/sts"
)

// stsService returns the STS service on the database's signing key, read once here: every
// call signed with temporary credentials is then verified in memory, on every replica alike
// (they share the database, so the key; see package sts).
func (m *Main) stsService(ctx context.Context) (*sts.Service, error) {
	candidate, err := sts.NewSigningKey()
	if err != nil {
		return nil, fmt.Errorf("sts signing key: %w", err)
	}
	k, err := m.DB.STSSigningKey(ctx, candidate)
	if err != nil {
		return nil, fmt.Errorf("sts signing key: %w", err)
	}
	key, err := sts.NewKey(k)
	if err != nil {
		return nil, fmt.Errorf("sts signing key in the database: %w", err)
	}
	return &sts.Service{Roles: m.DB, Key: key}, nil
}
