package webapi

import (
	"context"
	"errors"
	"fmt"
	"github.com/d365s2s/d365/emulator/internal/caller"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// Options configure a Handler.
type Options struct {
	// Store holds the data; required.
	Store *store.Store
	// OrgURL is the environment URL without a trailing slash
	// ("https://127.0.0.1:8365"); it is the base of OData-EntityId,
	// @odata.context and @odata.nextLink, and the resource_id of the 401
	// challenge.
	OrgURL string
	// AuthorizationURI is the authority's authorize endpoint for the 401
	// challenge ("https://127.0.0.1:8365/<tenant>/oauth2/authorize").
	AuthorizationURI string
	// TenantID is the Entra tenant the organization belongs to. A valid
	// token issued by another tenant is answered as Dataverse answers a
	// caller that is not a member of the organization: 403 0x80072560.
	// Empty accepts tokens of any tenant.
	TenantID string
	// Logger receives one line per failed request; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; larger ones get 413. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes is the default request body limit. Dataverse's
// limit depends on the operation (116.85 MB with plug-ins); 32 MiB keeps
// an emulator under test from buffering unbounded bodies.
const DefaultMaxBodyBytes = 32 << 20

// Handler serves the Dataverse Web API under /api/data/. It serves the
// caller that the caller-identity middleware (caller.Middleware) put in the
// request context: a request without an authenticated caller is answered 401
// with the WWW-Authenticate challenge (Challenge), and a genuine token of
// another tenant 403 (see Options.TenantID).
type Handler struct {
	store     *store.Store
	schema    *schema.Schema
	orgURL    string
	tenantID  string
	challenge string
	log       *slog.Logger
	maxBody   int64

	// widest is the schema's widest table, whose member limit bounds nested objects.
	widest *schema.Table

	csdlOnce sync.Once
	csdlDoc  []byte
	// csdlAnnotated is $metadata?annotations=true.
	csdlAnnotatedOnce sync.Once
	csdlAnnotated     []byte

	// jobs are the asynchronous jobs running (BulkDelete).
	jobs backgroundJobs
}

// New returns a Handler.
func New(opts Options) (*Handler, error) {
	if opts.Store == nil {
		return nil, errors.New("webapi: Options.Store is required")
	}
	org := strings.TrimRight(opts.OrgURL, "/")
	if u, err := url.Parse(org); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("webapi: Options.OrgURL %q is not an absolute URL", opts.OrgURL)
	}
	if opts.AuthorizationURI == "" {
		return nil, errors.New("webapi: Options.AuthorizationURI is required")
	}
	h := &Handler{
		store:     opts.Store,
		schema:    opts.Store.Schema(),
		orgURL:    org,
		tenantID:  strings.TrimSpace(opts.TenantID),
		challenge: caller.Challenge(opts.AuthorizationURI, org),
		log:       opts.Logger,
		maxBody:   opts.MaxBodyBytes,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	h.widest = widestTable(h.schema)
	return h, nil
}

const (
	contentTypeJSON = "application/json; odata.metadata=minimal"
	apiPrefix       = "/api/data/"
)

// supportedVersions are the Web API versions served; each request is
// answered in the version of its URL.
var supportedVersions = map[string]bool{"v9.0": true, "v9.1": true, "v9.2": true}

// request is one request being served.
type request struct {
	h       *Handler
	w       http.ResponseWriter
	r       *http.Request
	ctx     context.Context
	p       *store.Principal
	version string // "v9.2"
	base    string // "<org>/api/data/v9.2"
	prefer  preferences
	// tx, when set, is the transaction the request runs in (a $batch
	// changeset); otherwise each write is its own transaction.
	tx *store.Tx
}

// dataReader is what reads need; *store.Store and *store.Tx both have it.
type dataReader interface {
	Retrieve(ctx context.Context, p *store.Principal, t *schema.Table, id uuid.UUID, cols []*schema.Column) (*store.Row, error)
	Query(ctx context.Context, p *store.Principal, q store.Query) (*store.Page, error)
	Count(ctx context.Context, p *store.Principal, t *schema.Table, where store.Cond, limit int) (int, error)
	CountRows(ctx context.Context, p *store.Principal, q store.Query, limit int) (int, error)
	Aggregate(ctx context.Context, p *store.Principal, a store.Aggregation) ([][]any, error)
}

// data returns where the request reads: its transaction, or the store.
func (req *request) data() dataReader {
	if req.tx != nil {
		return req.tx
	}
	return req.h.store
}

// write runs fn in the request's transaction, or in a new one.
func (req *request) write(fn func(tx *store.Tx) error) error {
	if req.tx != nil {
		return fn(req.tx)
	}
	return req.h.store.Write(req.ctx, fn)
}

// ServeHTTP answers a Web API request. It never panics: a panic is
// answered 500 with the error envelope and logged.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	hdr := w.Header()
	hdr.Set("OData-Version", "4.0")
	hdr.Set("REQ_ID", reqID)
	hdr.Set("x-ms-service-request-id", reqID)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("webapi: panic", "method", r.Method, "path", r.URL.Path, "request_id", reqID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeError(w, errUnexpected())
		}
	}()
	if err := h.serve(w, r); err != nil {
		if ctxErr := r.Context().Err(); ctxErr != nil {
			// The client went away (it cancelled the request, or its
			// connection closed: a killed process) and its request failed
			// for that: no one reads the answer, and it is not a server
			// failure to log as one. Abort the response, as a request
			// abandoned during an injected delay is, rather than send a
			// 500 the traffic log would count.
			h.log.Info("webapi: request abandoned: the client went away", "method", r.Method, "path", r.URL.Path,
				"request_id", reqID, "cause", context.Cause(r.Context()), "err", err)
			panic(http.ErrAbortHandler)
		}
		ae, known := toAPIError(err)
		msg := "webapi: request refused"
		if !known || ae.status >= http.StatusInternalServerError {
			msg = "webapi: request failed"
		}
		h.logFailure(r.Context(), msg, err, ae, known, "method", r.Method, "path", r.URL.Path, "request_id", reqID)
		prefer, _ := parsePrefer(r.Header.Values("Prefer"))
		writeErrorDetails(w, ae, prefer)
	}
}

// Challenge is the WWW-Authenticate value the handler sends with a 401; the
// traffic middleware sends the same with an injected 401.
func (h *Handler) Challenge() string { return h.challenge }

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	who, identified := caller.FromContext(r.Context())
	if !who.Authenticated {
		reason := who.Refusal
		if !identified {
			reason = "the request did not come through the caller-identity middleware"
		}
		h.log.Info("webapi: unauthenticated request", "method", r.Method, "path", r.URL.Path, "status", http.StatusUnauthorized, "reason", reason)
		caller.WriteUnauthorized(w, h.challenge)
		return nil
	}
	if h.tenantID != "" && !strings.EqualFold(who.TenantID, h.tenantID) {
		// The token is genuine but was issued by another tenant: its app
		// has no application user in this organization, whatever the
		// application users of the organization's own tenant are.
		h.log.Info("webapi: token of another tenant", "method", r.Method, "path", r.URL.Path,
			"token_tenant", who.TenantID, "organization_tenant", h.tenantID)
		return errNotMemberOfOrganization()
	}
	p, err := h.store.ApplicationUser(r.Context(), who.AppID)
	if err != nil {
		return err
	}
	if p, err = h.impersonate(r, p); err != nil {
		return err
	}
	return h.dispatch(w, r, p, nil, maxURLLength)
}

// URL length limits: a GET may be up to 32 KB, a GET inside $batch up to
// 64 KB.
const (
	maxURLLength      = 32 << 10
	maxBatchURLLength = 64 << 10
	// statusURLTooLong answers a longer URL [unverified status].
	statusURLTooLong = http.StatusRequestURITooLong
)

// dispatch serves a request as principal p, inside tx when not nil (a
// $batch changeset). maxURL bounds the length of a GET's URL.
func (h *Handler) dispatch(w http.ResponseWriter, r *http.Request, p *store.Principal, tx *store.Tx, maxURL int) error {
	if r.Method == http.MethodGet && len(r.URL.RequestURI()) > maxURL {
		return newError(statusURLTooLong, dverr.CodeQuerySyntax,
			"The request URL is longer than %d characters. Send long queries as a GET inside a $batch request (up to %d characters).", maxURL, maxBatchURLLength)
	}
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, apiPrefix) {
		return errResourceNotFound(strings.TrimPrefix(path, "/"))
	}
	rest := path[len(apiPrefix):]
	version, rest, _ := strings.Cut(rest, "/")
	if !supportedVersions[version] {
		return errResourceNotFound(version)
	}
	if err := checkQueryParameters(r.URL.RawQuery, rest); err != nil {
		return err
	}
	req := &request{h: h, w: w, r: r, ctx: r.Context(), p: p, version: version, base: h.orgURL + "/api/data/" + version, tx: tx}
	var err error
	if req.prefer, err = parsePrefer(r.Header.Values("Prefer")); err != nil {
		return err
	}
	if err := req.checkBypass(); err != nil {
		return err
	}
	return req.route(rest)
}

// impersonate applies the CallerObjectId (preferred) or MSCRMCallerID
// header: the request then runs as that user on behalf of the caller.
func (h *Handler) impersonate(r *http.Request, p *store.Principal) (*store.Principal, error) {
	objectID := strings.TrimSpace(r.Header.Get("CallerObjectId"))
	userID := strings.TrimSpace(r.Header.Get("MSCRMCallerID"))
	var target *store.Principal
	var err error
	switch {
	case objectID != "":
		if _, perr := uuid.Parse(objectID); perr != nil {
			return nil, newError(http.StatusBadRequest, dverr.CodeODataError, "The CallerObjectId header value '%s' is not a GUID.", objectID)
		}
		target, err = h.store.UserByObjectID(r.Context(), objectID)
	case userID != "":
		id, perr := uuid.Parse(userID)
		if perr != nil {
			return nil, newError(http.StatusBadRequest, dverr.CodeODataError, "The MSCRMCallerID header value '%s' is not a GUID.", userID)
		}
		target, err = h.store.User(r.Context(), id)
	default:
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	return h.store.Impersonate(p, target)
}

// route dispatches on the resource path after /api/data/<version>/.
func (req *request) route(rest string) error {
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return errResourceNotFound(s)
		}
		segs[i] = u
	}
	if len(segs) > 1 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	}
	method := req.r.Method
	switch segs[0] {
	case "":
		if method != http.MethodGet {
			return errMethodNotAllowed(method)
		}
		return req.serviceDocument()
	case "WhoAmI", "WhoAmI()":
		if len(segs) > 1 {
			return errResourceNotFound(segs[1])
		}
		if method != http.MethodGet {
			return errNoHTTPResource(req.requestURL())
		}
		return req.whoAmI()
	case "$metadata":
		if len(segs) > 1 {
			return errResourceNotFound(segs[1])
		}
		return req.metadataDocument()
	case "RetrieveVersion", "RetrieveVersion()":
		if len(segs) > 1 {
			return errResourceNotFound(segs[1])
		}
		if method != http.MethodGet {
			return errNoHTTPResource(req.requestURL())
		}
		return req.retrieveVersion()
	case "$batch":
		return req.batch()
	case actionBulkDelete:
		if len(segs) > 1 {
			return errResourceNotFound(segs[1])
		}
		return req.bulkDelete()
	}
	if serve, ok := fileMessages[segs[0]]; ok {
		return req.fileMessage(segs, serve)
	}
	set, keyText, hasKey, err := splitKeySegment(segs[0])
	if err != nil {
		return err
	}
	switch set {
	case "EntityDefinitions", "RelationshipDefinitions", "GlobalOptionSetDefinitions":
		return req.metadataResource(segs)
	case "RetrieveTotalRecordCount":
		if len(segs) > 1 {
			return errResourceNotFound(segs[1])
		}
		return req.retrieveTotalRecordCount(keyText, hasKey)
	}
	t, ok := req.h.schema.TableBySet(set)
	if !ok {
		return errResourceNotFound(set)
	}
	switch {
	case len(segs) == 1 && !hasKey:
		switch method {
		case http.MethodGet:
			return req.list(t)
		case http.MethodPost:
			return req.create(t)
		}
		return errMethodNotAllowed(method)
	case len(segs) == 1:
		key, err := parseKey(t, keyText)
		if err != nil {
			return err
		}
		switch method {
		case http.MethodGet:
			return req.retrieve(t, key)
		case http.MethodPatch:
			return req.upsert(t, key)
		case http.MethodDelete:
			return req.delete(t, key)
		}
		return errMethodNotAllowed(method)
	case len(segs) == 2 && !hasKey && segs[1] == "$count":
		if method != http.MethodGet {
			return errMethodNotAllowed(method)
		}
		return req.count(t)
	case len(segs) == 2 && !hasKey:
		return req.callCollectionOperation(t, segs[1])
	case len(segs) >= 2 && hasKey:
		key, err := parseKey(t, keyText)
		if err != nil {
			return err
		}
		if c, ok := t.Column(segs[1]); ok && c.File != nil {
			return req.fileColumnPath(t, key, c, segs[2:])
		}
		if len(segs) == 2 {
			if c, ok := t.Property(segs[1]); ok {
				return req.property(t, key, c)
			}
			if handled, err := req.callEntityOperation(t, key, segs[1]); handled {
				return err
			}
		}
		return req.navigation(t, key, segs[1:])
	}
	return errResourceNotFound(segs[1])
}

// requestURL is the request's absolute URL as the client sent it.
func (req *request) requestURL() string {
	return req.h.orgURL + req.r.URL.RequestURI()
}

func (req *request) whoAmI() error {
	p := req.p
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse")
	jw.raw(`,"BusinessUnitId":`)
	jw.guid(p.BusinessUnitID)
	jw.raw(`,"UserId":`)
	jw.guid(p.UserID)
	jw.raw(`,"OrganizationId":`)
	jw.guid(p.OrganizationID)
	jw.byte('}')
	return req.endJSON(jw)
}

// serviceDocument lists the entity sets.
func (req *request) serviceDocument() error {
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata")
	jw.raw(`,"value":[`)
	for i, t := range req.h.schema.Tables() {
		if i > 0 {
			jw.byte(',')
		}
		jw.raw(`{"name":`)
		jw.str(t.EntitySetName)
		jw.raw(`,"kind":"EntitySet","url":`)
		jw.str(t.EntitySetName)
		jw.byte('}')
	}
	jw.raw("]}")
	return req.endJSON(jw)
}

// startJSON sends the status and JSON headers and returns a writer for
// the body.
func (req *request) startJSON(status int) *jsonWriter {
	req.w.Header().Set("Content-Type", contentTypeJSON)
	req.w.WriteHeader(status)
	return newJSONWriter(req.w)
}

// endJSON flushes the body. A failure here is the client going away; the
// status is already sent, so it is only logged.
func (req *request) endJSON(jw *jsonWriter) error {
	if err := jw.flush(); err != nil {
		req.h.log.Debug("webapi: writing response failed", "path", req.r.URL.Path, "err", err)
	}
	return nil
}
