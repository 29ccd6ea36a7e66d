package emulator

import (
	"testing"

	"github.com/d365s2s/d365/emulator/internal/ca"
	"github.com/d365s2s/d365/emulator/internal/traffic"
)

// TestConstantsMatchTheInternalPackages keeps the exported constants, written as values so that
// go doc shows them, equal to the internal packages' that act on them.
func TestConstantsMatchTheInternalPackages(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		got, own any
	}{
		{"OutcomeDropped", OutcomeDropped, traffic.OutcomeDropped},
		{"OutcomeCancelled", OutcomeCancelled, traffic.OutcomeCancelled},
		{"OutcomeAborted", OutcomeAborted, traffic.OutcomeAborted},
		{"DefaultDOPHint", DefaultDOPHint, traffic.DefaultDOPHint},
		{"CACertFile", CACertFile, ca.CertFile},
		{"ActionError", string(ActionError), string(traffic.ActionError)},
		{"ActionThrottle", string(ActionThrottle), string(traffic.ActionThrottle)},
		{"ActionLatency", string(ActionLatency), string(traffic.ActionLatency)},
		{"ActionDrop", string(ActionDrop), string(traffic.ActionDrop)},
		{"ActionTokenEndpointDown", string(ActionTokenEndpointDown), string(traffic.ActionTokenEndpointDown)},
		{"ShapeDataverse", string(ShapeDataverse), string(traffic.ShapeDataverse)},
		{"ShapeEntra", string(ShapeEntra), string(traffic.ShapeEntra)},
	} {
		if tt.got != tt.own {
			t.Errorf("%s = %v, the internal package's is %v", tt.name, tt.got, tt.own)
		}
	}
}
