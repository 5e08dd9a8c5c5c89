package ram

import (
	"slices"
	"time"
)

// Context is what a request offers to policy evaluation.
type Context struct {
	Action          string    // "cams:GetMigrationVerifyCode"
	Resource        string    // "acs:cams:*:<account uid>:*"
	SourceIP        string    // the client's address; "" when unknown (then acs:SourceIp is absent)
	CurrentTime     time.Time // zero: acs:CurrentTime is absent
	SecureTransport bool      // whether the request came over HTTPS
	AccessID        string    // the AccessKey id that signed the request
}

// Values of Result.NoPermissionType and AccessDeniedDetail.NoPermissionType.
const (
	ImplicitDeny = "ImplicitDeny" // no statement allows the request
	ExplicitDeny = "ExplicitDeny" // a Deny statement matches it
)

// Result is the verdict on a request.
type Result struct {
	Allowed          bool
	NoPermissionType string // "" when allowed, else ImplicitDeny or ExplicitDeny
}

// Evaluate decides a request against a RAM user's identity policies: it is allowed when a
// statement allows it and no statement denies it. Nil policies are skipped.
func Evaluate(policies []*Policy, c Context) Result {
	return decide(policies, func(s *statement) bool { return s.applies(&c) })
}

// decide is the verdict of the statements of policies that applies says cover the request:
// an explicit Deny wins over any Allow, an Allow allows, and nothing is an implicit deny.
// Nil policies are skipped.
func decide(policies []*Policy, applies func(*statement) bool) Result {
	allowed := false
	for _, p := range policies {
		if p == nil {
			continue
		}
		for i := range p.statements {
			s := &p.statements[i]
			if !applies(s) {
				continue
			}
			if s.deny {
				// An explicit Deny wins over any Allow, so there is no need to look further.
				return Result{NoPermissionType: ExplicitDeny}
			}
			allowed = true
		}
	}
	if !allowed {
		return Result{NoPermissionType: ImplicitDeny}
	}
	return Result{Allowed: true}
}

// applies reports whether the statement covers the request: its action, its resource and
// every condition.
func (s *statement) applies(c *Context) bool {
	// Resources are compared as written.
	if !slices.ContainsFunc(s.resources, func(p string) bool { return wildcard(p, c.Resource, false) }) {
		return false
	}
	return s.appliesToAction(c)
}

// appliesToAction reports whether the statement covers the request's action and meets every
// condition (a trust policy's statements have no resource).
func (s *statement) appliesToAction(c *Context) bool {
	// Action names are case-insensitive in RAM.
	listed := slices.ContainsFunc(s.actions, func(p string) bool { return wildcard(p, c.Action, true) })
	if listed == s.notAction {
		return false
	}
	for i := range s.conditions {
		if !s.conditions[i].match(c) {
			return false
		}
	}
	return true
}
