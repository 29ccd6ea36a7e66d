package dataverse_test

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// leanE2EContact is a contact as the lean first-try test reads it.
type leanE2EContact struct {
	ID       uuid.UUID `json:"contactid"`
	LastName string    `json:"lastname"`
	Seq      int       `json:"numberofchildren"`
}

// leanE2EReads is what one Client reads from the emulator: a record, a missing record's
// error, every page of a paged List, the pager's rows and a Count.
type leanE2EReads struct {
	Record     leanE2EContact
	Missing    string
	Pages      [][]string
	PagerRows  []int
	Count      int64
	Status404  int
	MissingErr bool
}

// TestE2ELeanFirstTry reads the same rows from the emulator with a Client that takes the lean
// first try (the default) and one whose every try runs in the azcore pipeline: Retrieve, a
// missing record, List with its next links, the generic pager and Count. The results are the
// same, and every GET of the lean Client after the one that got its token was a lean first try.
func TestE2ELeanFirstTry(t *testing.T) {
	t.Parallel()
	env := emulatortest.New(t, nil)
	ctx := t.Context()
	newClient := func(lean bool) (*dataverse.Client, *atomic.Int32) {
		c, err := dataverse.NewClient(env.OrgURL, env.Credential, &dataverse.ClientOptions{ClientOptions: env.ClientOptions})
		if err != nil {
			t.Fatal(err)
		}
		var tries atomic.Int32
		dataverse.OnLeanTry(c, func(*http.Request) { tries.Add(1) })
		if !lean {
			dataverse.DisableLean(c)
		}
		return c, &tries
	}
	setup, _ := newClient(false)
	rows := make([]map[string]any, 23)
	for i := range rows {
		rows[i] = map[string]any{"lastname": fmt.Sprintf("Lean %02d", i), "numberofchildren": i}
	}
	ids, err := dataverse.CreateMultiple(ctx, setup, "contacts", "contact", rows, nil)
	if err != nil {
		t.Fatalf("CreateMultiple: %v", err)
	}

	read := func(c *dataverse.Client) (r leanE2EReads, gets int) {
		t.Helper()
		if err := c.Retrieve(ctx, "contacts", ids[7], &r.Record, &dataverse.RetrieveOptions{Select: []string{"lastname", "numberofchildren"}}); err != nil {
			t.Fatalf("Retrieve: %v", err)
		}
		gets++
		err := c.Retrieve(ctx, "contacts", uuid.MustParse("00000000-0000-0000-0000-0000000000aa"), &leanE2EContact{}, nil)
		gets++
		var re *dataverse.ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("Retrieve of a missing record: %v, want a *ResponseError", err)
		}
		r.Status404, r.Missing, r.MissingErr = re.StatusCode, re.Code+" "+re.Path, dataverse.IsNotFound(err)
		opts := &dataverse.ListOptions{Query: dataverse.Query{Select: []string{"lastname"}, OrderBy: []string{"numberofchildren"}, MaxPageSize: 5}}
		page, err := c.List(ctx, "contacts", opts)
		var rest *dataverse.Pager[dataverse.Record]
		for {
			gets++
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			var names []string
			for _, rec := range page.Items {
				names = append(names, fmt.Sprint(rec["lastname"]))
			}
			r.Pages = append(r.Pages, names)
			if page.NextLink == "" {
				break
			}
			if rest == nil {
				// The next links, as a saved link is resumed.
				if rest, err = dataverse.ResumePager[dataverse.Record](c, page.NextLink, opts); err != nil {
					t.Fatalf("ResumePager: %v", err)
				}
			}
			page, err = rest.NextPage(ctx)
		}
		p := dataverse.NewPager[leanE2EContact](c, "contacts", &dataverse.ListOptions{Query: dataverse.Query{Select: []string{"numberofchildren"}, OrderBy: []string{"numberofchildren"}, MaxPageSize: 10}})
		for p.More() {
			pg, err := p.NextPage(ctx)
			gets++
			if err != nil {
				t.Fatalf("pager: %v", err)
			}
			for _, row := range pg.Items {
				r.PagerRows = append(r.PagerRows, row.Seq)
			}
		}
		if r.Count, err = c.Count(ctx, "contacts", nil); err != nil {
			t.Fatalf("Count: %v", err)
		}
		gets++
		return r, gets
	}
	pipeline, pipelineTries := newClient(false)
	want, _ := read(pipeline)
	lean, leanTries := newClient(true)
	got, gets := read(lean)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lean reads differ from the pipeline's (-pipeline +lean):\n%s", diff)
	}
	if len(got.Pages) != 5 || len(got.PagerRows) != 23 || got.Count != 23 || got.Record.Seq != 7 || got.Status404 != http.StatusNotFound {
		t.Errorf("reads: %+v", got)
	}
	if pipelineTries.Load() != 0 {
		t.Errorf("the pipeline Client took %d lean first tries", pipelineTries.Load())
	}
	// The first GET gets the token through the pipeline; every other GET is a lean first try.
	if n := leanTries.Load(); int(n) != gets-1 {
		t.Errorf("lean first tries: %d, want %d (every GET but the first)", n, gets-1)
	}
}
