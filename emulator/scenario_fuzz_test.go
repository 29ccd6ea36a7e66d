package emulator

import (
	"strings"
	"testing"
)

// FuzzScenario feeds arbitrary YAML to the scenario parser and checker: they must return a
// scenario or an ErrInvalid error, never panic.
func FuzzScenario(f *testing.F) {
	for _, seed := range []string{
		"",
		"apps:\n  - name: a\n    secrets: [{value: v, expires: -24h}]\napplicationUsers:\n  - {app: a, roles: [System Administrator]}\n",
		"tenants: [{domain: a.example.com}]\norganization: {tenant: a.example.com}\n",
		"roles:\n  - {name: r, privileges: [\"prvReadContact:deep\", prvWriteAccount]}\n",
		"rows:\n  contacts:\n    - {lastname: x, birthdate: 2024-01-02, parentcustomerid: \"accounts(00000000-0000-0000-0000-000000000001)\"}\n",
		"schema:\n  tables:\n    - {logicalName: new_x, columns: [{logicalName: new_name, type: String}]}\n",
		"limits: {preset: strict}\nfaults:\n  - {action: {kind: drop}}\n",
		"rows: [1, 2]\n",
		"apps: {a: b}\n",
		"apps:\n  - name: a\n    clientId: s3cr3t-value-x\n    secrets: [{value: s3cr3t-value-x}]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ParseScenario(data, "fuzz.yaml")
		if err != nil {
			return
		}
		sc.dir = t.TempDir() // relative certificate and schema paths stay inside it
		_, err = sc.plan()
		if err != nil && !isInvalid(err) {
			t.Fatalf("plan: %v is not ErrInvalid", err)
		}
		if err != nil {
			// No message repeats a secret value the scenario holds.
			for _, a := range sc.Apps {
				for _, s := range a.Secrets {
					if v := strings.TrimSpace(s.Value); len(v) >= minRedactedSecret && strings.Contains(err.Error(), v) {
						t.Fatalf("plan error %q repeats the secret %q", err, v)
					}
				}
			}
		}
	})
}

// FuzzParsePrivilege checks that privilege specs parse or fail cleanly, and that what parses
// prints back to itself.
func FuzzParsePrivilege(f *testing.F) {
	for _, seed := range []string{"prvReadContact", "prvReadContact:organization", "prvWriteAccount:Local", ":", "x:y:z", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrivilege(s)
		if err != nil {
			if !isInvalid(err) {
				t.Fatalf("ParsePrivilege(%q): %v is not ErrInvalid", s, err)
			}
			return
		}
		again, err := ParsePrivilege(p.String())
		if err != nil || again != p {
			t.Fatalf("ParsePrivilege(%q) = %+v, but its String %q parses to %+v, %v", s, p, p.String(), again, err)
		}
	})
}

func isInvalid(err error) bool {
	ae, ok := err.(*adminError)
	return ok && ae.kind == ErrInvalid
}
