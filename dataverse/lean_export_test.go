package dataverse

import "net/http"

// OnLeanTry calls f with every request c sends as a lean first try (lean.go), so that the
// end-to-end tests in dataverse_test can count them. Call it before c sends anything.
func OnLeanTry(c *Client, f func(*http.Request)) { c.leanHook = f }

// DisableLean sends every try of c through the azcore pipeline, the behaviour the lean first
// try must match. Call it before c sends anything.
func DisableLean(c *Client) { c.lean = nil }
