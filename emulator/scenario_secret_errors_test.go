package emulator_test

import (
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// scenarioSecretMarker is a recognisable secret value; no part of it (any 6 characters in a row)
// may appear in a scenario error.
const scenarioSecretMarker = "Zq8~SECRET~marker~Xw41~vK9p"

// Scenario errors never echo any part of a secret value, however the secret is misplaced or
// malformed.
func TestScenarioErrorsNeverEchoASecret(t *testing.T) {
	t.Parallel()
	m := scenarioSecretMarker
	for _, tt := range []struct{ name, yaml string }{
		{"secrets given as a string", "apps:\n  - name: a\n    secrets: " + m + "\n"},
		{"secrets given as a list of strings", "apps:\n  - name: a\n    secrets: [" + m + "]\n"},
		{"secret as a block list of strings", "apps:\n  - name: a\n    secrets:\n      - " + m + "\n"},
		{"value is a list", "apps:\n  - name: a\n    secrets: [{value: [" + m + "]}]\n"},
		{"value is a mapping", "apps:\n  - name: a\n    secrets: [{value: {" + m + ": 1}}]\n"},
		{"value read as an alias", "apps:\n  - name: a\n    secrets: [{value: *" + m + "}]\n"},
		{"value with an unknown tag", "apps:\n  - name: a\n    secrets: [{value: !" + m + " x}]\n"},
		{"value as an anchor only", "apps:\n  - name: a\n    secrets: [{value: &" + m + "}]\n"},
		{"value with a control character", "apps:\n  - name: a\n    secrets: [{value: \"" + m + "\\u0007\"}]\n"},
		{"value too long", "apps:\n  - name: a\n    secrets: [{value: " + m + strings.Repeat("x", 600) + "}]\n"},
		{"unterminated quote", "apps:\n  - name: a\n    secrets: [{value: \"" + m + "}]\n"},
		{"tab in the secret's line", "apps:\n  - name: a\n    secrets:\n\t- value: " + m + "\n"},
		{"bad indentation after the secret", "apps:\n  - name: a\n    secrets:\n      - value: " + m + "\n     x: y\n"},
		{"misspelt field beside the secret", "apps:\n  - name: a\n    secrets: [{valeu: " + m + "}]\n"},
		{"secret pasted as a key", "apps:\n  - name: a\n    secrets: [{" + m + ": x}]\n"},
		{"secret in id", "apps:\n  - name: a\n    secrets: [{value: ok-value-1, id: " + m + "}]\n"},
		{"secret on an app that does not resolve", "apps:\n  - name: a\n    tenant: nowhere.example.com\n    secrets: [{value: " + m + "}]\n"},
		{"same secret ID twice", "apps:\n  - name: a\n    secrets:\n      - {value: " + m + ", id: 0b000000-0000-4000-8000-000000000001}\n      - {value: " + m + "-2, id: 0b000000-0000-4000-8000-000000000001}\n"},
		{"secret pasted as the app's client ID", "apps:\n  - name: a\n    clientId: " + m + "\n    secrets: [{value: " + m + "}]\n"},
		{"secret pasted as the scenario", m + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := emulator.ParseScenario([]byte(tt.yaml), "secret.yaml")
			if err == nil {
				var emu *emulator.Emulator
				emu, err = emulator.New(&emulator.Options{Scenario: sc})
				if err == nil {
					emu.Close()
					t.Skip("the scenario is valid")
				}
			}
			if part := secretPart(err.Error(), m); part != "" {
				t.Errorf("the error echoes %q of the secret: %v", part, err)
			}
		})
	}
}

// secretPart returns a run of six or more characters of secret found in s, or "".
func secretPart(s, secret string) string {
	const run = 6
	for i := 0; i+run <= len(secret); i++ {
		if strings.Contains(s, secret[i:i+run]) {
			return secret[i : i+run]
		}
	}
	return ""
}
