package httpapi

import (
	"fmt"
	"sync"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/acs"
	"github.com/camsd/camsd/ram"
)

// authorize evaluates the RAM user's policies; the account's own keys are never limited by
// RAM, as the account owns every resource.
func (s *Server) authorize(p *camsd.Principal, req *acs.Request) error {
	if p.User == nil {
		return nil
	}
	policies, err := s.policies.parse(p.User.Policies)
	if err != nil {
		return err
	}
	c := ram.Context{
		Action:          "cams:" + req.Action,
		Resource:        "acs:cams:*:" + p.Account.UID + ":*",
		SourceIP:        req.SourceIP,
		CurrentTime:     s.now(),
		SecureTransport: req.Secure,
		AccessID:        p.Key.ID,
	}
	res := ram.Evaluate(policies, c)
	if res.Allowed {
		return nil
	}
	return &camsd.Error{Code: camsd.CodeRAMPermissionDeny, Denied: ram.Detail(res, c, p.Account.UID, p.User.Name)}
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
