package camsd

// SeedBuilder puts together the Seed that TenantAdmin.Tenants returns from a store's rows,
// fed in this order: accounts, users, policies, keys, spaces, numbers, pre-validated numbers,
// roles, role policies, each in the order Tenants promises. A row whose owner was not fed first is dropped.
type SeedBuilder struct {
	seed     Seed
	accounts map[string]int       // uid -> index in seed.Accounts
	users    map[[2]string][2]int // uid, user -> account index, user index
	spaces   map[string][2]int    // space -> account index, space index
}

func (b *SeedBuilder) init() {
	if b.accounts == nil {
		b.accounts, b.users, b.spaces = map[string]int{}, map[[2]string][2]int{}, map[string][2]int{}
	}
}

// Account adds an account.
func (b *SeedBuilder) Account(a Account) {
	b.init()
	b.accounts[a.UID] = len(b.seed.Accounts)
	b.seed.Accounts = append(b.seed.Accounts, SeedAccount{Account: a})
}

// User adds a RAM user of account uid.
func (b *SeedBuilder) User(uid, name string) {
	b.init()
	if i, ok := b.accounts[uid]; ok {
		a := &b.seed.Accounts[i]
		b.users[[2]string{uid, name}] = [2]int{i, len(a.Users)}
		a.Users = append(a.Users, SeedUser{Name: name})
	}
}

func (b *SeedBuilder) user(uid, name string) *SeedUser {
	if ix, ok := b.users[[2]string{uid, name}]; ok {
		return &b.seed.Accounts[ix[0]].Users[ix[1]]
	}
	return nil
}

// Policy adds a policy document to a user's list.
func (b *SeedBuilder) Policy(uid, user, document string) {
	b.init()
	if u := b.user(uid, user); u != nil {
		u.Policies = append(u.Policies, document)
	}
}

// Key adds an AccessKey: to its user when it has one, else to its account.
func (b *SeedBuilder) Key(k AccessKey) {
	b.init()
	if k.UserName != "" {
		if u := b.user(k.UID, k.UserName); u != nil {
			u.AccessKeys = append(u.AccessKeys, k)
		}
		return
	}
	if i, ok := b.accounts[k.UID]; ok {
		b.seed.Accounts[i].AccessKeys = append(b.seed.Accounts[i].AccessKeys, k)
	}
}

// Space adds a space to its account.
func (b *SeedBuilder) Space(sp Space) {
	b.init()
	if i, ok := b.accounts[sp.UID]; ok {
		a := &b.seed.Accounts[i]
		b.spaces[sp.CustSpaceID] = [2]int{i, len(a.Spaces)}
		a.Spaces = append(a.Spaces, SeedSpace{Space: sp})
	}
}

// Number adds a number to its space.
func (b *SeedBuilder) Number(n PhoneNumber) {
	b.init()
	if ix, ok := b.spaces[n.CustSpaceID]; ok {
		sp := &b.seed.Accounts[ix[0]].Spaces[ix[1]]
		sp.PhoneNumbers = append(sp.PhoneNumbers, n)
	}
}

// PreValidated adds a pre-validated number to its account.
func (b *SeedBuilder) PreValidated(n PreValidatedNumber) {
	b.init()
	if i, ok := b.accounts[n.UID]; ok {
		a := &b.seed.Accounts[i]
		a.PreValidated = append(a.PreValidated, n)
	}
}

// Role adds a RAM role, without its policies, to its account.
func (b *SeedBuilder) Role(r Role) {
	b.init()
	if i, ok := b.accounts[r.UID]; ok {
		a := &b.seed.Accounts[i]
		r.Policies = nil
		a.Roles = append(a.Roles, r)
	}
}

// RolePolicy adds a permission policy document to a role's list.
func (b *SeedBuilder) RolePolicy(uid, role, document string) {
	b.init()
	if i, ok := b.accounts[uid]; ok {
		a := &b.seed.Accounts[i]
		for j := range a.Roles {
			if a.Roles[j].Name == role {
				a.Roles[j].Policies = append(a.Roles[j].Policies, document)
				return
			}
		}
	}
}

// Seed returns what was fed.
func (b *SeedBuilder) Seed() *Seed {
	s := b.seed
	return &s
}
