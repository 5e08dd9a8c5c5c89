package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/camsd/camsd/admin"
	"github.com/camsd/camsd/seal"
)

// keyring returns the master keys that seal secrets at rest (issue 15): the key that seals,
// CAMSD_MASTER_KEY or the first of --master-key-file, then those that only open, the file's
// other lines and CAMSD_MASTER_KEY_PREVIOUS (comma-separated). nil when no key is set: camsd
// then stores secrets as they come.
func (c ServeConfig) keyring() (*seal.Keyring, error) {
	var keys []*seal.Key
	switch {
	case c.MasterKey != "" && c.MasterKeyFile != "":
		return nil, errors.New("set the master key in CAMSD_MASTER_KEY or in --master-key-file, not both")
	case c.MasterKey != "":
		k, err := seal.ParseKey(c.MasterKey)
		if err != nil {
			return nil, fmt.Errorf("CAMSD_MASTER_KEY: %w", err)
		}
		keys = append(keys, k)
	case c.MasterKeyFile != "":
		text, err := os.ReadFile(c.MasterKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--master-key-file: %w", err)
		}
		if keys, err = seal.ParseKeyring(string(text)); err != nil {
			return nil, fmt.Errorf("--master-key-file %s: %w", c.MasterKeyFile, err)
		}
	}
	if c.MasterKeyPrevious != "" {
		if len(keys) == 0 {
			return nil, errors.New("CAMSD_MASTER_KEY_PREVIOUS only opens values: camsd also needs the key that seals, in CAMSD_MASTER_KEY or --master-key-file")
		}
		for _, text := range strings.Split(c.MasterKeyPrevious, ",") {
			k, err := seal.ParseKey(text)
			if err != nil {
				return nil, fmt.Errorf("CAMSD_MASTER_KEY_PREVIOUS: %w", err)
			}
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	return seal.NewKeyring(keys...), nil
}

// masterKeyRefusal explains a store's refusal to open a database sealed with a key camsd was
// not given.
func masterKeyRefusal(err error) error {
	var mk *seal.MissingKeyError
	if !errors.As(err, &mk) {
		return err
	}
	return fmt.Errorf("%w: secrets in the database are sealed with master key %s; start camsd with that key in CAMSD_MASTER_KEY or --master-key-file (during a rotation, the key being retired in CAMSD_MASTER_KEY_PREVIOUS)", err, mk.KeyID)
}

// openKeyring returns the keyring the stores get, and says once how secrets are kept.
func (m *Main) openKeyring() (*seal.Keyring, error) {
	keys, err := m.Config.keyring()
	if err != nil {
		return nil, err
	}
	if keys == nil {
		m.logger.Warn("secrets are not sealed: AccessKey secrets, PINs and the STS signing key are stored in plaintext; set a master key in CAMSD_MASTER_KEY or --master-key-file to seal them")
		return nil, nil
	}
	m.logger.Info("secrets sealed at rest", "master_key", keys.SealingKeyID(), "also_opens", keys.IDs()[1:])
	return keys, nil
}

// rotateMasterKey has the server seal every secret and PIN with its master key (the first of
// its keyring), one bounded call after the other, printing the progress, until none is left
// sealed with another key or in plaintext.
func rotateMasterKey(ctx context.Context, cl *admin.Client, stdout io.Writer, asJSON bool) error {
	total := 0
	for {
		var r admin.Rotation
		if err := cl.Do(ctx, "POST", "master-key/rotate", nil, nil, &r); err != nil {
			return err
		}
		total += r.Resealed
		if r.Remaining == 0 {
			if asJSON {
				return printJSON(stdout, admin.Rotation{KeyId: r.KeyId, Resealed: total})
			}
			_, err := fmt.Fprintf(stdout, "every secret is sealed with master key %s (%d sealed again now); the previous key is no longer needed\n", r.KeyId, total)
			return err
		}
		if r.Resealed == 0 {
			return fmt.Errorf("%d values are not sealed with master key %s and none could be sealed: does another replica still seal with another key?", r.Remaining, r.KeyId)
		}
		if !asJSON {
			fmt.Fprintf(stdout, "sealed %d with master key %s; %d to go\n", total, r.KeyId, r.Remaining)
		}
	}
}
