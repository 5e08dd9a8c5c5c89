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
	Provider camsd.Provider // delivers the codes camsd makes; unused with an Upstream

	// Upstream, when set, is the platform that holds the numbers and makes, sends and checks
	// the codes (WhatsApp's Graph API); each action calls it after camsd's own checks pass
	// and changes state only once it accepted.
	Upstream camsd.Upstream

	Now  func() time.Time // default time.Now
	Rand io.Reader        // default crypto/rand.Reader; codes must be unpredictable

	CodeTTL        time.Duration // how long a code can be checked (default 10m)
	ResendInterval time.Duration // minimum time between two codes for a number; 0 turns it off

	VerificationValidity time.Duration // how long a verification lets the number register (default 14 days)
	MaxCheckAttempts     int           // wrong values that kill a code (default 5)
	RegisterLimit        int           // registrations of a number per RegisterWindow (default 10)
	RegisterWindow       time.Duration // default 72h
}

// Caller is who asks, as the protocol layer authenticated them.
type Caller struct {
	Principal   *camsd.Principal
	RequestID   string
	AccessKeyID string

	// Call is the API call's handle on the stores: its writes share commits, and the nonce
	// it may still have to record goes with its first change. Nil outside an API call.
	Call *camsd.Call
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

func (s *Service) validity() time.Duration {
	if s.VerificationValidity > 0 {
		return s.VerificationValidity
	}
	return 14 * 24 * time.Hour
}

func (s *Service) maxAttempts() int {
	if s.MaxCheckAttempts > 0 {
		return s.MaxCheckAttempts
	}
	return 5
}

func (s *Service) registerLimit() (int, time.Duration) {
	n, w := s.RegisterLimit, s.RegisterWindow
	if n <= 0 {
		n = 10
	}
	if w <= 0 {
		w = 72 * time.Hour
	}
	return n, w
}

// audit returns an audit record of the call about number in space.
func (c Caller) audit(at time.Time, action, space, number, outcome, detail string) camsd.AuditRecord {
	r := camsd.AuditRecord{
		At: at, Action: action, CustSpaceID: space, PhoneNumber: number,
		AccessKeyID: c.AccessKeyID, RequestID: c.RequestID, Outcome: outcome, Detail: detail,
	}
	if c.Principal != nil {
		r.UID = c.Principal.Account.UID
		if c.Principal.User != nil {
			r.UserName = c.Principal.User.Name
		}
	}
	return r
}
