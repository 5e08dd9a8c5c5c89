package migration

import (
	cryptorand "crypto/rand"
	"io"
	"time"

	"github.com/camsd/camsd"
)

// Service runs the migration actions for an authenticated caller.
type Service struct {
	Store    camsd.Store
	Provider camsd.Provider

	Now  func() time.Time // default time.Now
	Rand io.Reader        // default crypto/rand.Reader; codes must be unpredictable

	CodeTTL        time.Duration // how long a code can be checked (default 10m)
	ResendInterval time.Duration // minimum time between two codes for a number; 0 turns it off
}

// Caller is who asks, as the protocol layer authenticated them.
type Caller struct {
	Principal   *camsd.Principal
	RequestID   string
	AccessKeyID string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return cryptorand.Reader
}

func (s *Service) codeTTL() time.Duration {
	if s.CodeTTL > 0 {
		return s.CodeTTL
	}
	return 10 * time.Minute
}
