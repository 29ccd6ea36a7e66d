package emulator

import "net/http"

// resetTraffic returns the service protection limits and fault rules to the options' settings.
func (e *Emulator) resetTraffic() error { return nil }

// trafficRoutes mounts the traffic admin routes (limits, faults, request log).
func (e *Emulator) trafficRoutes(mux *http.ServeMux) {}
