package emulator

import (
	"context"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/scenario"
)

// storedCredentials are the credentials a restart on a seeded data directory hands out: an app
// the stored state has (not one a scenario would create with fresh random IDs, since a restart
// does not apply the scenario's apps again), its home tenant, and a secret only when the emulator
// knows one that the stored hashes accept (a scenario's value, or the seeded default). Otherwise
// ClientSecret is empty: secrets are stored hashed, and AddSecret makes a new one.
//
// The app is, in order: the first scenario app with a secret that the stored state has (by its
// fixed client ID, else by name); the seeded default app; an enabled app whose application user
// is enabled; any app with an application user; any app.
func (e *Emulator) storedCredentials(ctx context.Context, plan *scenario.Plan, seededDefault bool) (Credentials, error) {
	none := Credentials{TenantID: e.orgTenantID}
	apps, err := e.Apps(ctx, "")
	if err != nil || len(apps) == 0 {
		return none, err
	}
	var pick *App
	var known []string // secret values that may still be accepted
	if plan != nil {
		for _, pa := range plan.AppSecrets() {
			fixedID := pa.FixedClientID
			for i := range apps {
				a := &apps[i]
				if fixedID != "" && strings.EqualFold(a.ClientID, fixedID) ||
					fixedID == "" && pa.DisplayName != "" && a.DisplayName == pa.DisplayName {
					pick = a
					break
				}
			}
			if pick != nil {
				known = append(known, pa.Secrets...)
				break
			}
		}
	}
	if pick == nil && seededDefault {
		for i := range apps {
			if strings.EqualFold(apps[i].ClientID, DefaultClientID) {
				pick, known = &apps[i], []string{DefaultClientSecret}
				break
			}
		}
	}
	if pick == nil {
		users, err := e.ApplicationUsers(ctx)
		if err != nil {
			return none, err
		}
		enabledUser := map[string]bool{}
		for _, u := range users {
			enabledUser[strings.ToLower(u.ApplicationID)] = !u.Disabled
		}
		pick = &apps[0]
		best := 0
		for i := range apps {
			enabled, hasUser := enabledUser[strings.ToLower(apps[i].ClientID)]
			score := 0
			switch {
			case hasUser && enabled && !apps[i].Disabled:
				score = 2
			case hasUser:
				score = 1
			}
			if score > best {
				pick, best = &apps[i], score
			}
		}
	}
	creds := Credentials{TenantID: pick.TenantID, ClientID: pick.ClientID}
	for _, v := range known {
		ok, err := e.identity.SecretAccepted(ctx, pick.ClientID, v)
		if err != nil {
			return none, fromIdentity(err)
		}
		if ok {
			creds.ClientSecret = v
			break
		}
	}
	return creds, nil
}
