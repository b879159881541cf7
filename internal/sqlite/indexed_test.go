package sqlite_test

import (
	"testing"

	"github.com/parleyhq/parley/internal/storetest"
)

func TestStamped(t *testing.T) {
	storetest.RunStamped(t, func(t *testing.T) storetest.StampedStore { return open(t) })
}
