package auth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/d365s2s/d365/auth"
)

// Every formatting path a Secret or a Config can take prints the mask, never the value.
func TestSecretNeverFormats(t *testing.T) {
	t.Parallel()
	const value = "Sup3r~Secret~Value~that~must~not~leak"
	const password = "pfx-password-that-must-not-leak"
	secret := auth.Secret(value)
	cfg := validBase()
	cfg.ClientSecret = secret
	cfg.CertificatePassword = password

	render := map[string]func() string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s", "%T %v"} {
		render["secret "+verb] = func() string { return fmt.Sprintf(verb, secret) }
		render["config "+verb] = func() string { return fmt.Sprintf(verb, cfg) }
		render["*config "+verb] = func() string { return fmt.Sprintf(verb, &cfg) }
	}
	render["fmt.Sprint"] = func() string { return fmt.Sprint(secret, cfg) }
	render["fmt.Sprintln"] = func() string { return fmt.Sprintln(secret, cfg) }
	render["slice and map"] = func() string {
		return fmt.Sprintf("%v %+v", []auth.Secret{secret}, map[string]auth.Config{"c": cfg})
	}
	render["error wrapping"] = func() string { return fmt.Errorf("loading %v: %w", cfg, fmt.Errorf("%s", secret)).Error() }
	render["json config"] = func() string { b, _ := json.Marshal(cfg); return string(b) }
	render["json pointer"] = func() string { b, _ := json.Marshal(&cfg); return string(b) }
	render["json secret"] = func() string { b, _ := json.Marshal(secret); return string(b) }
	render["yaml config"] = func() string { b, _ := yaml.Marshal(cfg); return string(b) }
	render["slog text"] = func() string {
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "cfg", cfg, "secret", secret, "ptr", &cfg)
		return buf.String()
	}
	render["slog json"] = func() string {
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "cfg", cfg, "secret", secret, slog.Any("any", []any{secret}))
		return buf.String()
	}
	for name, f := range render {
		out := f()
		if strings.Contains(out, value) || strings.Contains(out, password) || strings.Contains(out, "Sup3r") {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
	}
	// The mask keeps "is it set?" visible.
	if got := fmt.Sprint(secret); got != "[REDACTED]" {
		t.Errorf("Sprint(secret) = %q", got)
	}
	if got := fmt.Sprintf("%#v", secret); got != `auth.Secret("[REDACTED]")` {
		t.Errorf("%%#v = %q", got)
	}
	if got := fmt.Sprint(auth.Secret("")); got != "" {
		t.Errorf("empty secret prints %q, want empty", got)
	}
	if b, _ := json.Marshal(cfg); !strings.Contains(string(b), `"clientSecret":"[REDACTED]"`) {
		t.Errorf("json = %s, want clientSecret masked", b)
	}
	if secret.Reveal() != value || !secret.IsSet() {
		t.Error("Reveal/IsSet do not return the value")
	}
}

// Decoding assigns the real value (a profile file may carry a secret), so the mask is output-only.
func TestSecretDecodes(t *testing.T) {
	t.Parallel()
	var cfg auth.Config
	if err := json.Unmarshal([]byte(`{"clientSecret":"abc~123"}`), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.ClientSecret.Reveal() != "abc~123" {
		t.Errorf("decoded secret = %q", cfg.ClientSecret.Reveal())
	}
}
