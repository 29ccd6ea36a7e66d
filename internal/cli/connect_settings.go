package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/d365s2s/d365/auth"
)

// challengeTimeout bounds the request that asks an environment for its tenant when a
// connection string names none.
const challengeTimeout = 15 * time.Second

// loadConfig merges the layers of connection settings, each filling what the ones above it left
// empty, field by field:
//
//  1. the connection flags (--url, --tenant, …);
//  2. the connection string (--connection-string, else D365_CONNECTION_STRING);
//  3. the environment (D365_URL, AZURE_TENANT_ID, …);
//  4. the profile (--profile, else D365_PROFILE, else the one "d365 profile use" chose; a
//     connection string replaces that last one).
//
// The credential (secret or certificate) is taken as a group from the highest layer that has
// one. The result is validated; errors are usage errors.
func (g *globalOptions) loadConfig() (auth.Config, error) {
	explicit := g.conn.config()
	if err := refuseConnectionStringAsURL(explicit.OrgURL, "--url"); err != nil {
		return auth.Config{}, err
	}
	if v, _ := g.streams.lookupEnv(auth.EnvOrgURL); explicit.OrgURL == "" {
		if err := refuseConnectionStringAsURL(v, auth.EnvOrgURL); err != nil {
			return auth.Config{}, err
		}
	}
	cs, haveCS, err := g.connectionString()
	if err != nil {
		return auth.Config{}, err
	}
	if haveCS {
		if err := cs.checkThumbprint(); err != nil {
			return auth.Config{}, err
		}
		explicit = overlay(explicit, cs.config())
	}
	p, err := g.selectedProfile(!haveCS)
	if err != nil {
		return auth.Config{}, err
	}
	lookup := layeredLookup(g.streams.lookupEnv, p.profile)
	if p.profile != nil && p.profile.SecretEnv != "" && !explicit.ClientSecret.IsSet() && explicit.CertificatePath == "" {
		if v, ok := lookup(auth.EnvClientSecret); !ok || strings.TrimSpace(v) == "" {
			if c, _ := lookup(auth.EnvCertificatePath); c == "" {
				return auth.Config{}, usageError(fmt.Errorf("profile %q reads the client secret from %s, which is not set: export %s=<the secret's Value>", p.name, p.profile.SecretEnv, p.profile.SecretEnv))
			}
		}
	}
	if haveCS && explicit.TenantID == "" {
		if v, _ := lookup(auth.EnvTenantID); strings.TrimSpace(v) == "" {
			if err := g.discoverTenant(&explicit, lookup); err != nil {
				return auth.Config{}, err
			}
		}
	}
	cfg, err := auth.LoadConfig(explicit, lookup)
	if err != nil {
		return cfg, usageError(err)
	}
	return cfg, nil
}

// refuseConnectionStringAsURL refuses a connection string given where a URL belongs, without
// echoing it: it holds the client secret.
func refuseConnectionStringAsURL(v, where string) error {
	if v == "" || !looksLikeConnectionString(v) {
		return nil
	}
	return usageError(fmt.Errorf("%s holds a connection string (KEY=VALUE;…), not a URL; it is not shown, as it may hold a secret: "+
		"pass the whole string as --connection-string or %s, or set %s to the environment URL alone (https://<org>.crm.dynamics.com)",
		where, EnvConnectionString, where))
}

// connectionString parses --connection-string, else D365_CONNECTION_STRING.
func (g *globalOptions) connectionString() (connectionString, bool, error) {
	raw, where := g.connString, "--connection-string"
	if raw == "" {
		raw, _ = g.streams.lookupEnv(EnvConnectionString)
		where = EnvConnectionString
	}
	if strings.TrimSpace(raw) == "" {
		return connectionString{}, false, nil
	}
	cs, err := parseConnectionString(raw)
	if err != nil {
		return cs, false, usageError(fmt.Errorf("%s: %w", where, err))
	}
	return cs, true, nil
}

// overlay fills the empty fields of top from below; the credential only when top has none.
func overlay(top, below auth.Config) auth.Config {
	fill := func(dst *string, v string) {
		if strings.TrimSpace(*dst) == "" {
			*dst = v
		}
	}
	fill(&top.OrgURL, below.OrgURL)
	fill(&top.TenantID, below.TenantID)
	fill(&top.ClientID, below.ClientID)
	fill(&top.AuthorityHost, below.AuthorityHost)
	fill(&top.CAFile, below.CAFile)
	fill(&top.FederatedTokenFile, below.FederatedTokenFile)
	if !top.ClientSecret.IsSet() && strings.TrimSpace(top.CertificatePath) == "" {
		top.ClientSecret, top.CertificatePath, top.CertificatePassword = below.ClientSecret, below.CertificatePath, below.CertificatePassword
		if top.Method == "" {
			top.Method = below.Method
		}
	}
	return top
}

// namedProfile is the selected profile, nil when none is.
type namedProfile struct {
	name    string
	profile *profile
}

// selectedProfile reads the profile --profile or D365_PROFILE names, else (when useCurrent) the
// one "d365 profile use" chose. A named profile that does not exist is an error.
func (g *globalOptions) selectedProfile(useCurrent bool) (namedProfile, error) {
	name := g.profile
	if name == "" {
		name, _ = g.streams.lookupEnv(EnvProfile)
		name = strings.TrimSpace(name)
	}
	if name == "" && !useCurrent {
		return namedProfile{}, nil
	}
	store, err := newProfileStore(g.streams.lookupEnv)
	if err != nil {
		if name == "" {
			return namedProfile{}, nil // no config directory: no current profile either
		}
		return namedProfile{}, usageError(err)
	}
	f, err := store.load()
	if err != nil {
		return namedProfile{}, usageError(err)
	}
	if name == "" {
		name = f.Current
		if _, ok := f.Profiles[name]; !ok {
			return namedProfile{}, nil
		}
	}
	p, err := f.get(name)
	if err != nil {
		return namedProfile{}, err
	}
	return namedProfile{name: name, profile: &p}, nil
}

// discoverTenant asks the environment which tenant and authority it trusts (the 401 challenge
// of an unauthenticated request), as ServiceClient does for a connection string, which names no
// tenant.
func (g *globalOptions) discoverTenant(cfg *auth.Config, lookup auth.LookupFunc) error {
	probe := cfg.WithEnv(lookup)
	client, err := g.httpClient(probe)
	if err != nil {
		return usageError(err)
	}
	ctx := g.context()
	ctx, cancel := context.WithTimeout(ctx, challengeTimeout)
	defer cancel()
	ch, err := auth.DiscoverChallenge(ctx, client, probe.OrgURL)
	if err != nil {
		return fmt.Errorf("the connection string names no tenant (add TenantId=<tenant>), and asking %s for it failed: %w", hostOfURL(probe.OrgURL), err)
	}
	cfg.TenantID = ch.TenantID
	if probe.AuthorityHost == "" && !strings.EqualFold(ch.AuthorityHost, probe.Cloud().AuthorityHost) {
		cfg.AuthorityHost = ch.AuthorityHost
	}
	return nil
}

// context is the running command's context (Background before one runs).
func (g *globalOptions) context() context.Context {
	if g.ctx != nil {
		return g.ctx
	}
	return context.Background()
}

func hostOfURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "the environment"
	}
	return u.Host
}

// errNoProfile is returned by profile commands that need a profile when none is selected.
var errNoProfile = errors.New("no profile is selected: name one, or choose one with d365 profile use NAME")
