package scenario

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// parsePrivilege stands in for the emulator's ParsePrivilege: its errors quote what they were
// given, as the emulator's do, so a secret pasted as a privilege would come back unless the plan
// redacts it.
func parsePrivilege(s string) (Privilege, error) {
	name, depth, _ := strings.Cut(strings.TrimSpace(s), ":")
	if name == "" {
		return Privilege{}, fmt.Errorf("emulator: privilege %q has no name; write it as prvReadContact:organization", s)
	}
	if depth == "" {
		depth = "organization"
	}
	return Privilege{Name: name, Depth: depth}, nil
}

var fuzzPlanOptions = PlanOptions{
	ParsePrivilege: parsePrivilege,
	DefaultTenant:  Tenant{ID: "d365d365-0000-4000-8000-000000000001", Domain: "d365emulator.onmicrosoft.com"},
}

// FuzzScenario feeds arbitrary YAML to the scenario parser and checker: they must return a
// scenario or an *Error (which the emulator reports as ErrInvalid), never panic, and no plan
// error may repeat a secret value the scenario holds.
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
		"apps:\n  - name: a\n    secrets: [{value: s3cr3t-value-y}]\nroles:\n  - {name: r, privileges: [\":s3cr3t-value-y\"]}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse(data, "fuzz.yaml")
		if err != nil {
			return
		}
		sc.Dir = t.TempDir() // relative certificate and schema paths stay inside it
		_, err = sc.Plan(fuzzPlanOptions)
		var se *Error
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("plan: %v is not a scenario *Error", err)
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
