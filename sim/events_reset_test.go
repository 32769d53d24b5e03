package sim

import (
	"reflect"
	"testing"
)

// After a step every event slice is empty again, whichever types the step
// emitted: reset reads which ones to empty off the kept words, so a type
// whose slice it missed would grow for the whole run.
func TestResetEmptiesEveryEventSlice(t *testing.T) {
	var k events
	for round := 0; round < 3; round++ {
		for _, e := range eventTypes[:round*len(eventTypes)/2] { // none, half, all
			k.keep(e)
		}
		for _, e := range eventTypes[len(eventTypes)-1:] {
			k.keep(e)
		}
		k.reset()
		v := reflect.ValueOf(k)
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.Kind() == reflect.Slice && f.Len() != 0 {
				t.Errorf("round %d: %s holds %d events after reset", round, v.Type().Field(i).Name, f.Len())
			}
		}
	}
}
