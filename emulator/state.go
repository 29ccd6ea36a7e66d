package emulator

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/store"
)

// Names of the snapshot files in Options.DataDir: user snapshots live in snapshotDir as
// <name>.db; the state right after seeding (what Reset returns to) is seedFile.
const (
	snapshotDir = "snapshots"
	seedFile    = "seed.db"
)

// snapshotName is what a snapshot may be called: it becomes a file name in the data directory.
var snapshotName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func checkSnapshotName(name string) error {
	if !snapshotName.MatchString(name) || strings.HasSuffix(name, ".db") {
		return invalidf("snapshot name %q is not allowed: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// Snapshot saves the emulator's whole state (tenants, apps, secrets, certificates, signing keys,
// application users, roles, business units and every record) under name, replacing a snapshot
// of that name. An in-memory emulator keeps snapshots in memory; one with a DataDir writes them
// to DataDir/snapshots/<name>.db, where they survive restarts.
func (e *Emulator) Snapshot(ctx context.Context, name string) error {
	if err := checkSnapshotName(name); err != nil {
		return err
	}
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	if e.dataDir != "" {
		_, err := e.store.SnapshotToFile(ctx, filepath.Join(e.dataDir, snapshotDir, name+".db"))
		return err
	}
	sn, err := e.store.SnapshotInMemory(ctx)
	if err != nil {
		return err
	}
	if old := e.snapshots[name]; old != nil {
		old.Close()
	}
	e.snapshots[name] = sn
	return nil
}

// Restore replaces the emulator's state with the snapshot saved under name, all at once:
// requests see the old state or the new one, never a mix, and a failed restore changes nothing.
// Signing keys are the exception: the keys published before the restore stay published (and the
// active one stays active), so access tokens clients hold keep working. The clock offset, the
// token lifetime and the traffic settings are not part of a snapshot.
func (e *Emulator) Restore(ctx context.Context, name string) error {
	if err := checkSnapshotName(name); err != nil {
		return err
	}
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	var sn *store.Snapshot
	if e.dataDir != "" {
		var err error
		sn, err = store.OpenSnapshotFile(filepath.Join(e.dataDir, snapshotDir, name+".db"))
		if errors.Is(err, fs.ErrNotExist) {
			return notFoundf("no snapshot is named %q; list them with Snapshots (GET /_emulator/snapshots)", name)
		}
		if err != nil {
			return err
		}
	} else if sn = e.snapshots[name]; sn == nil {
		return notFoundf("no snapshot is named %q; list them with Snapshots (GET /_emulator/snapshots)", name)
	}
	return e.restore(ctx, sn)
}

// restore copies sn into the database; the store tells the modules that depend on it (the token
// service brings its signing keys in line). The caller holds stateMu.
func (e *Emulator) restore(ctx context.Context, sn *store.Snapshot) error {
	if err := e.store.Restore(ctx, sn); err != nil {
		if after, ok := errors.AsType[*store.AfterRestoreError](err); ok {
			return after.Err // the data was restored; a module failed to follow
		}
		return invalidf("%s", strings.TrimPrefix(err.Error(), "store: "))
	}
	return nil
}

// Snapshots lists the names of the saved snapshots, sorted.
func (e *Emulator) Snapshots() ([]string, error) {
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	var names []string
	if e.dataDir != "" {
		entries, err := os.ReadDir(filepath.Join(e.dataDir, snapshotDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, ent := range entries {
			if name, ok := strings.CutSuffix(ent.Name(), ".db"); ok && ent.Type().IsRegular() && snapshotName.MatchString(name) {
				names = append(names, name)
			}
		}
	} else {
		for name := range e.snapshots {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if names == nil {
		names = []string{}
	}
	return names, nil
}

// RemoveSnapshot deletes the snapshot saved under name.
func (e *Emulator) RemoveSnapshot(name string) error {
	if err := checkSnapshotName(name); err != nil {
		return err
	}
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	if e.dataDir != "" {
		err := os.Remove(filepath.Join(e.dataDir, snapshotDir, name+".db"))
		if errors.Is(err, fs.ErrNotExist) {
			return notFoundf("no snapshot is named %q", name)
		}
		return err
	}
	sn := e.snapshots[name]
	if sn == nil {
		return notFoundf("no snapshot is named %q", name)
	}
	delete(e.snapshots, name)
	return sn.Close()
}

// Reset returns the emulator to its seeded state: the state right after the first start (the
// default seed or the scenario), with the clock offset back at zero, the token lifetime back at
// Options.TokenLifetime, ExpireChangeTrackingInDays back at the scenario's, and the traffic settings back at the start's: the limits, and the fault
// rules as they were added at the start (swapped back in one step, their "for" windows not
// restarted, counters from zero). Like Restore, it is all or nothing, and signing keys stay
// published.
func (e *Emulator) Reset(ctx context.Context) error {
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	if err := e.restore(ctx, e.seedSnap); err != nil {
		return err
	}
	e.clock.set(0)
	e.store.ClearChangeTrackingSwitches()
	if err := e.identity.SetTokenLifetime(e.tokenLifetime); err != nil {
		return fromIdentity(err)
	}
	if err := e.SetExpireChangeTrackingInDays(e.expireChangeTrackingInDays); err != nil {
		return err
	}
	return e.resetTraffic()
}

// Now returns the emulator's current time: the wall clock plus the clock offset.
func (e *Emulator) Now() time.Time { return e.clock.Now() }

// SetClockOffset moves the emulator's clock by d from the wall clock (negative moves it back).
// Token issue and expiry times, secret expiry, the time window of client assertions, token
// validation, createdon/modifiedon, fault rules' time windows and the request log's times all
// follow it. The service protection limits do not: they meter real time, so moving the clock
// neither freezes their windows nor charges execution time. Clients keep the wall clock: an
// offset of more than five minutes makes certificate credentials fail with AADSTS700024,
// exactly what a skewed clock does against Entra.
func (e *Emulator) SetClockOffset(d time.Duration) { e.clock.set(d) }

// ClockOffset returns the current clock offset.
func (e *Emulator) ClockOffset() time.Duration { return e.clock.get() }

// SetTokenLifetime changes the lifetime of access tokens issued from now on, from 1 second to
// 24 hours (ErrInvalid otherwise). Tokens with a lifetime of 5 minutes or less are never served
// from MSAL's cache, so every request of an azidentity client then fetches a new one.
func (e *Emulator) SetTokenLifetime(d time.Duration) error {
	return fromIdentity(e.identity.SetTokenLifetime(d))
}

// TokenLifetime returns the lifetime of newly issued access tokens.
func (e *Emulator) TokenLifetime() time.Duration { return e.identity.TokenLifetime() }

// SigningKey describes a token-signing key published in the JWKS.
type SigningKey struct {
	// KeyID is the kid (and x5t) tokens signed by the key carry.
	KeyID string `json:"kid"`
	// Active is true for the key that signs new tokens.
	Active   bool      `json:"active"`
	Created  time.Time `json:"created"`
	NotAfter time.Time `json:"notAfter"`
}

// RotateSigningKey creates a new signing key and makes it sign new tokens. The old keys stay
// published, so tokens they signed stay valid until they expire.
func (e *Emulator) RotateSigningKey(ctx context.Context) (SigningKey, error) {
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	k, err := e.identity.RotateSigningKey(ctx)
	if err != nil {
		return SigningKey{}, fromIdentity(err)
	}
	return SigningKey(k), nil
}

// SigningKeys lists the published signing keys, the active one first.
func (e *Emulator) SigningKeys() []SigningKey {
	keys := e.identity.SigningKeys()
	out := make([]SigningKey, len(keys))
	for i, k := range keys {
		out[i] = SigningKey(k)
	}
	return out
}
