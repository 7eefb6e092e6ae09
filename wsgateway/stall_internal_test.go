package wsgateway

import (
	"testing"
	"time"
)

// newTestStallWatch returns a watch whose timer never fires by itself: the
// test plays the timer by calling check.
func newTestStallWatch(t *testing.T) *stallWatch {
	var w stallWatch
	w.init(stallChecks*time.Hour, func() {})
	t.Cleanup(w.stop)
	return &w
}

func TestStallWatchCutsOnlyAWriteSeenThroughAWholeWriteTimeout(t *testing.T) {
	w := newTestStallWatch(t)
	w.begin()
	if !w.armed.Load() {
		t.Fatal("the first write did not arm the timer")
	}
	for i := 1; i <= stallChecks; i++ {
		if w.check() {
			t.Fatalf("cut at check %d, before a whole WriteTimeout had passed", i)
		}
	}
	if !w.check() {
		t.Fatalf("a write seen at %d checks in a row was not cut", stallChecks+1)
	}
}

func TestStallWatchNeverCutsWritesThatKeepFinishing(t *testing.T) {
	w := newTestStallWatch(t)
	// Every check finds a write in progress, but never the same one.
	for i := range 10 * stallChecks {
		w.begin()
		if w.check() {
			t.Fatalf("check %d cut a connection whose writes all finish", i)
		}
		w.end()
	}
}

func TestStallWatchDisarmsWhenQuietAndRearmsOnTheNextWrite(t *testing.T) {
	w := newTestStallWatch(t)
	w.begin()
	w.check()
	w.check()
	w.end()
	if w.check() || w.armed.Load() {
		t.Fatal("a check with no write in progress left the timer armed")
	}
	w.begin()
	if !w.armed.Load() {
		t.Fatal("the first write after a quiet spell did not arm the timer")
	}
	// The count of checks starts over for the new write.
	for i := 1; i <= stallChecks; i++ {
		if w.check() {
			t.Fatalf("the new write was cut at check %d", i)
		}
	}
	if !w.check() {
		t.Fatal("the new write was never cut")
	}
}
