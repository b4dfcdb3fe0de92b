package sqlitearchive_test

import (
	"testing"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/archivetest"
)

// TestConformance runs the Archive conformance suite, which the
// PostgreSQL archive runs too.
func TestConformance(t *testing.T) {
	t.Parallel()
	archivetest.Exercise(t, func(t *testing.T) archive.Archive { return open(t) })
}
