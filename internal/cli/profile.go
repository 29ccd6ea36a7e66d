package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/d365s2s/d365/auth"
)

// EnvProfile selects a saved profile, as --profile does.
const EnvProfile = "D365_PROFILE"

// profile is a saved connection: everything but the secret, which stays in the environment
// variable SecretEnv names unless the user asked to store it (ClientSecret).
type profile struct {
	URL             string      `json:"url,omitempty"`
	TenantID        string      `json:"tenant,omitempty"`
	ClientID        string      `json:"clientId,omitempty"`
	Method          string      `json:"authMethod,omitempty"`
	CertificatePath string      `json:"certificatePath,omitempty"`
	SecretEnv       string      `json:"secretEnv,omitempty"` // the NAME of the variable holding the secret
	CAFile          string      `json:"caFile,omitempty"`
	AuthorityHost   string      `json:"authorityHost,omitempty"`
	ClientSecret    auth.Secret `json:"clientSecret,omitempty"` // only with profile add --store-secret; masked by every formatter
}

// profileFile is the config file: the profiles by name and the one "profile use" chose.
type profileFile struct {
	Current  string             `json:"current,omitempty"`
	Profiles map[string]profile `json:"profiles"`
}

// profileStore reads and writes the config file, $XDG_CONFIG_HOME/d365/config.json (or the
// platform's config directory), mode 0600.
type profileStore struct {
	path string
}

// configDir is the d365 directory in the user's config directory. XDG_CONFIG_HOME is read
// through lookup first, so that tests (and a process given a different environment) isolate it.
func configDir(lookup func(string) (string, bool)) (string, error) {
	if v, ok := lookup("XDG_CONFIG_HOME"); ok && strings.TrimSpace(v) != "" {
		return filepath.Join(v, "d365"), nil
	}
	if !hasHome(lookup) {
		return "", errors.New("no config directory for the profiles: neither XDG_CONFIG_HOME nor HOME is set")
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory for the profiles: %w (set XDG_CONFIG_HOME)", err)
	}
	return filepath.Join(dir, "d365"), nil
}

func newProfileStore(lookup func(string) (string, bool)) (*profileStore, error) {
	dir, err := configDir(lookup)
	if err != nil {
		return nil, err
	}
	return &profileStore{path: filepath.Join(dir, "config.json")}, nil
}

// load reads the config file; a missing file is an empty one.
func (s *profileStore) load() (*profileFile, error) {
	f := &profileFile{Profiles: map[string]profile{}}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the profiles: %w", err)
	}
	if err := json.Unmarshal(data, f); err != nil {
		// The JSON error names an offset, never the content.
		return nil, fmt.Errorf("the profile file %s is not valid JSON (%v): fix or delete it", s.path, err)
	}
	if f.Profiles == nil {
		f.Profiles = map[string]profile{}
	}
	return f, nil
}

// save writes the config file with mode 0600 (its directory 0700), through a temporary file
// renamed over the old one, so that a failed write leaves the old file whole.
func (s *profileStore) save(f *profileFile) error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the config directory: %w", err)
	}
	// auth.Secret masks itself in JSON; the file must hold the value.
	type diskProfile struct {
		profile
		ClientSecret string `json:"clientSecret,omitempty"`
	}
	disk := struct {
		Current  string                 `json:"current,omitempty"`
		Profiles map[string]diskProfile `json:"profiles"`
	}{Current: f.Current, Profiles: map[string]diskProfile{}}
	for name, p := range f.Profiles {
		disk.Profiles[name] = diskProfile{profile: p, ClientSecret: p.ClientSecret.Reveal()}
	}
	data, err := json.MarshalIndent(disk, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".config-*.json")
	if err != nil {
		return fmt.Errorf("writing the profiles: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the profiles: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the profiles: %w", err)
	}
	return os.Rename(tmp.Name(), s.path)
}

// names returns the profile names in order.
func (f *profileFile) names() []string {
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// get returns the named profile, or an error listing the ones there are.
func (f *profileFile) get(name string) (profile, error) {
	p, ok := f.Profiles[name]
	if !ok {
		if len(f.Profiles) == 0 {
			return p, usageError(fmt.Errorf("no profile is named %q, and there are none: create one with d365 profile add %s --url … --tenant … --client-id …", name, name))
		}
		return p, usageError(fmt.Errorf("no profile is named %q: the profiles are %s (d365 profile list)", name, strings.Join(f.names(), ", ")))
	}
	return p, nil
}

// validProfileName accepts names usable on a command line and in an environment variable.
func validProfileName(name string) error {
	if name == "" {
		return usageError(errors.New("the profile name is empty"))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return usageError(fmt.Errorf("profile name %q: use letters, digits, '-', '_' and '.' only", name))
		}
	}
	return nil
}

// settingsFromProfile maps the auth environment variables to the profile's values, the layer
// under the environment (see layeredLookup). The secret comes from the variable the profile
// names, else from the stored value.
func (p profile) setting(env string, lookup func(string) (string, bool)) string {
	switch env {
	case auth.EnvOrgURL:
		return p.URL
	case auth.EnvTenantID:
		return p.TenantID
	case auth.EnvClientID:
		return p.ClientID
	case auth.EnvMethod:
		return p.Method
	case auth.EnvCertificatePath:
		return p.CertificatePath
	case auth.EnvCAFile:
		return p.CAFile
	case auth.EnvAuthorityHost:
		return p.AuthorityHost
	case auth.EnvClientSecret:
		if p.SecretEnv != "" {
			if v, ok := lookup(p.SecretEnv); ok && strings.TrimSpace(v) != "" {
				return v
			}
		}
		return p.ClientSecret.Reveal()
	}
	return ""
}

// layeredLookup is the environment auth reads when a profile is selected: each variable that
// is set wins, and the profile fills the rest, field by field. The credential is one group:
// when the environment names a secret or a certificate, the profile's credential is not used.
func layeredLookup(env func(string) (string, bool), p *profile) auth.LookupFunc {
	if p == nil {
		return env
	}
	set := func(name string) bool { v, ok := env(name); return ok && strings.TrimSpace(v) != "" }
	envCredential := set(auth.EnvClientSecret) || set(auth.EnvCertificatePath)
	return func(name string) (string, bool) {
		if v, ok := env(name); ok && strings.TrimSpace(v) != "" {
			return v, true
		}
		if envCredential && (name == auth.EnvClientSecret || name == auth.EnvCertificatePath || name == auth.EnvCertificatePassword) {
			return "", false
		}
		if v := p.setting(name, env); v != "" {
			return v, true
		}
		return "", false
	}
}

// hasHome reports whether the environment lookup reads has a home directory. The user's config
// and cache directories are used only then: a process given its own environment (a test's)
// without HOME or XDG_* never reads or writes the real user's files.
func hasHome(lookup func(string) (string, bool)) bool {
	for _, name := range []string{"HOME", "USERPROFILE", "LOCALAPPDATA", "APPDATA"} {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}
