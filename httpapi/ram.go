package httpapi

import (
	"fmt"
	"sync"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/acs"
	"github.com/camsd/camsd/ram"
)

// authorize evaluates the RAM user's policies, or a role session's; the account's own keys are
// never limited by RAM, as the account owns every resource.
func (s *Server) authorize(p *camsd.Principal, req *acs.Request) error {
	if p.Session != nil {
		return s.authorizeSession(p, req)
	}
	if p.User == nil {
		return nil
	}
	policies, err := s.policies.parse(p.User.Policies)
	if err != nil {
		return err
	}
	c := s.ramContext(p, req)
	res := ram.Evaluate(policies, c)
	if res.Allowed {
		return nil
	}
	return &camsd.Error{Code: camsd.CodeRAMPermissionDeny, Denied: ram.Detail(res, c, p.Account.UID, p.User.Name)}
}

// authorizeSession allows what both the role's policies and the session policy (AssumeRole's
// Policy, when it was given) allow: a session policy only narrows. An explicit Deny in either
// answers first; then the role's implicit deny; then the session policy's. The denial's
// AccessDeniedDetail names an AssumedRoleUser, <role>:<session>, and which policies denied.
func (s *Server) authorizeSession(p *camsd.Principal, req *acs.Request) error {
	sess := p.Session
	policies, err := s.policies.parse(sess.Role.Policies)
	if err != nil {
		return err
	}
	c := s.ramContext(p, req)
	role := ram.Evaluate(policies, c)
	session := ram.Result{Allowed: true}
	if sess.Policy != "" {
		pol, err := s.policies.parse([]string{sess.Policy})
		if err != nil {
			return err
		}
		session = ram.Evaluate(pol, c)
	}
	var res ram.Result
	policyType := ram.PolicyIdentity
	switch {
	case role.NoPermissionType == ram.ExplicitDeny:
		res = role
	case session.NoPermissionType == ram.ExplicitDeny:
		res, policyType = session, ram.PolicySession
	case !role.Allowed:
		res = role
	case !session.Allowed:
		res, policyType = session, ram.PolicySession
	default:
		return nil
	}
	return &camsd.Error{Code: camsd.CodeRAMPermissionDeny, Denied: ram.SessionDetail(res, c, p.Account.UID, sess.AssumedRoleID(), policyType)}
}

func (s *Server) ramContext(p *camsd.Principal, req *acs.Request) ram.Context {
	return ram.Context{
		Action:          "cams:" + req.Action,
		Resource:        "acs:cams:*:" + p.Account.UID + ":*",
		SourceIP:        req.SourceIP,
		CurrentTime:     s.now(),
		SecureTransport: req.Secure,
		AccessID:        p.Key.ID,
	}
}

// policyCache keeps parsed policy documents by their text: documents change only through the
// seed or the admin API, and parsing on every call would dominate the RAM check.
type policyCache struct{ m sync.Map } // string -> *ram.Policy

func (c *policyCache) parse(docs []string) ([]*ram.Policy, error) {
	out := make([]*ram.Policy, 0, len(docs))
	for _, d := range docs {
		if v, ok := c.m.Load(d); ok {
			out = append(out, v.(*ram.Policy))
			continue
		}
		pol, err := ram.Parse([]byte(d))
		if err != nil {
			// Stored policies were validated when they were written.
			return nil, fmt.Errorf("stored policy does not parse: %w", err)
		}
		c.m.Store(d, pol)
		out = append(out, pol)
	}
	return out, nil
}
