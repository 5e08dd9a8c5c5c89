package postgres_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/postgres"
	"github.com/camsd/camsd/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestDB_ApplySeed_concurrentReplicas(t *testing.T) {
	// Replicas that start at once apply the same seed at once, repeatedly: none fails, and
	// the store holds the seed. Half of them list the accounts in the other order, as an
	// edited seed file might, which upserts alone would let deadlock.
	schema := freshSchema(t)
	const replicas = 4
	var dbs []*postgres.DB
	for range replicas {
		dbs = append(dbs, open(t, schema, postgres.Options{}))
	}
	for round := range 5 {
		errs := make([]error, replicas)
		var wg sync.WaitGroup
		for i, db := range dbs {
			seed := storetest.Fixture()
			if i%2 == 1 {
				slices.Reverse(seed.Accounts)
			}
			wg.Go(func() { errs[i] = db.ApplySeed(t.Context(), seed) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, replica %d: ApplySeed: %v", round, i, err)
			}
		}
	}
	for i, db := range dbs {
		p, err := db.Principal(t.Context(), storetest.DevKey)
		if err != nil {
			t.Fatalf("replica %d: Principal: %v", i, err)
		}
		want := &camsd.User{UID: storetest.AcmeUID, Name: "dev", Policies: []string{storetest.PolicyRead, storetest.PolicySend}}
		if diff := cmp.Diff(want, p.User, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("replica %d: dev (-want +got):\n%s", i, diff)
		}
	}
}
