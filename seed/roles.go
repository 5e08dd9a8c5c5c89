package seed

import (
	"fmt"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/ram"
)

// roles checks the RAM roles of account uid: names as RAM allows them, once each in the
// account; max_session_duration in RAM's range (3600 when omitted, as RAM's default); a trust
// policy (ram.ParseTrust) and permission policies (ram.Parse) that parse.
func roles(rs []rawRole, path, uid string) ([]camsd.Role, error) {
	var out []camsd.Role
	names := make(map[string]string)
	for i := range rs {
		r, rolePath := &rs[i], index(path, i)
		role := camsd.Role{UID: uid, Name: string(r.Name), MaxSessionDuration: camsd.DefaultMaxSessionDuration}
		if msg := camsd.RoleNameProblem(role.Name); msg != "" {
			return nil, &problem{path: rolePath + ".name", msg: msg}
		}
		if first, dup := names[role.Name]; dup {
			return nil, &problem{path: rolePath + ".name", msg: fmt.Sprintf("duplicate RAM role %q in this account", role.Name), first: first}
		}
		names[role.Name] = rolePath + ".name"
		if r.MaxSessionDuration != nil {
			role.MaxSessionDuration = int(*r.MaxSessionDuration)
			if msg := camsd.MaxSessionDurationProblem(role.MaxSessionDuration); msg != "" {
				return nil, &problem{path: rolePath + ".max_session_duration", msg: msg}
			}
		}
		if r.TrustPolicy == "" {
			return nil, &problem{path: rolePath + ".trust_policy", msg: "missing (a role no one may assume is of no use)"}
		}
		if _, err := ram.ParseTrust([]byte(r.TrustPolicy)); err != nil {
			return nil, &problem{path: rolePath + ".trust_policy", msg: err.Error()}
		}
		role.TrustPolicy = string(r.TrustPolicy)
		for j, doc := range r.Policies {
			policyPath := index(rolePath+".policies", j)
			if doc == "" {
				return nil, &problem{path: policyPath, msg: "missing policy document"}
			}
			if _, err := ram.Parse([]byte(doc)); err != nil {
				return nil, &problem{path: policyPath, msg: err.Error()}
			}
			role.Policies = append(role.Policies, string(doc))
		}
		out = append(out, role)
	}
	return out, nil
}
