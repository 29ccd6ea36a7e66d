package odata

import (
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ignorePositions compares trees without their byte offsets: formatting
// changes spacing, so a round trip keeps the shape but not the offsets.
var ignorePositions = cmp.FilterPath(func(p cmp.Path) bool {
	sf, ok := p.Last().(cmp.StructField)
	return ok && strings.HasSuffix(sf.Name(), "Offset")
}, cmp.Ignore())

var equateNaN = cmpopts.EquateNaNs()
