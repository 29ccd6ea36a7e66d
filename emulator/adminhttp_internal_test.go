package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAdminAPIRefusesNonLoopbackCallers(t *testing.T) {
	t.Parallel()
	h := (&Emulator{}).adminHandler()
	for _, tt := range []struct {
		remote string
		status int
	}{
		{"203.0.113.7:50000", http.StatusForbidden},
		{"[2001:db8::1]:50000", http.StatusForbidden},
		{"10.0.0.5:1", http.StatusForbidden},
		{"127.0.0.1:50000", http.StatusOK},
		{"[::1]:50000", http.StatusOK},
	} {
		req := httptest.NewRequest(http.MethodGet, "/_emulator/health", nil)
		req.RemoteAddr = tt.remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.status {
			t.Errorf("from %s: %d, want %d", tt.remote, rec.Code, tt.status)
		}
		if tt.status == http.StatusForbidden {
			var body adminErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "Forbidden" {
				t.Errorf("from %s: body %s, want a JSON Forbidden error", tt.remote, rec.Body)
			}
		}
	}
}
