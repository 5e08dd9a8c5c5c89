package admin

import (
	"errors"
	"net/http"

	"github.com/camsd/camsd"
)

// resealPerCall bounds what one call of master-key/rotate seals, so that it replies well
// within a client's timeout however many tenants there are; the client calls again until
// nothing remains (camsd admin rotate-master-key does).
const resealPerCall = 5000

// Rotation is the reply of POST master-key/rotate.
type Rotation struct {
	KeyId     string //nolint:revive // wire name; the master key values are now sealed with
	Resealed  int    // values this call sealed with it
	Remaining int    // values not sealed with it yet
}

// rotateMasterKey seals with this replica's master key (its first) up to resealPerCall of the
// secrets and PINs that are not sealed with it yet: plaintext, or sealed with a previous key.
// The store does it in batches, each committed on its own, while every replica serves.
func (s *Server) rotateMasterKey(r *http.Request) (int, any, error) {
	res, err := s.Store.Reseal(r.Context(), resealPerCall)
	if errors.Is(err, camsd.ErrNoMasterKey) {
		return 0, nil, &camsd.Error{Code: "MasterKey.NotSet", Message: "This camsd runs without a master key (CAMSD_MASTER_KEY or --master-key-file): there is no key to seal with."}
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, Rotation{KeyId: res.KeyID, Resealed: res.Resealed, Remaining: res.Remaining}, nil
}
