package x264

import (
	"slices"
	"strings"
	"testing"
)

func TestParseCRFs(t *testing.T) {
	for spec, want := range map[string][]int{
		"15:53:2":       {15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53},
		"0:63:21":       {0, 21, 42, 63},
		" 15 : 20 : 5 ": {15, 20},
		"31,15,23,15":   {15, 23, 31},
		"20":            {20},
		"30:30:2":       {30},
	} {
		got, err := ParseCRFs(spec)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: %v %v, want %v", spec, got, err, want)
		}
	}
	for spec, why := range map[string]string{
		"60:10:2": "empty", "15:53:0": "empty", "15:70:5": "outside", "-5:10:5": "outside", "64": "outside",
		"15,,23": "not an integer", "": "not an integer", "a:b:c": "not an integer", "1:2": "not an integer",
	} {
		if _, err := ParseCRFs(spec); err == nil || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), spec) {
			t.Errorf("%q: error %v, want one naming the spec and %q", spec, err, why)
		}
	}
}
