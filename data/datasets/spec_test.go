package datasets

import (
	"slices"
	"testing"
)

// The presets and --root-NAME keys come from the loaders' registrations.
func TestPresetsFromRegistry(t *testing.T) {
	var names []string
	for _, p := range Presets() {
		names = append(names, p.Name)
		l, err := Get(p.Loader)
		if err != nil {
			t.Errorf("preset %s: %v", p.Name, err)
			continue
		}
		if s, ok := l.(spec); ok && p.Split != "" && !slices.Contains(s.splits, p.Split) {
			t.Errorf("preset %s: split %q is not one of %s's %v", p.Name, p.Split, p.Loader, s.splits)
		}
		if q, ok := LookupPreset(p.Name); !ok || q != p {
			t.Errorf("LookupPreset(%s) = %+v, %v", p.Name, q, ok)
		}
	}
	if want := []string{"clive", "konvid1k", "livevqc", "lsvq-test", "lsvq-1080p", "youtube-ugc"}; !slices.Equal(names, want) {
		t.Errorf("presets %v, want %v", names, want)
	}
	if p, _ := LookupPreset("lsvq-1080p"); p.Loader != "lsvq" || p.Split != SplitTest1080p {
		t.Errorf("lsvq-1080p = %+v", p)
	}
	if _, ok := LookupPreset("manifest"); ok {
		t.Error("manifest is a preset")
	}
	if got, want := RootKeys(), append(names, "lsvq"); !slices.Equal(got, want) {
		t.Errorf("RootKeys() = %v, want %v", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("a second loader offering preset konvid1k did not panic")
		}
	}()
	Register(spec{name: "konvid-copy", presets: []Preset{{Name: "konvid1k", Loader: "konvid-copy"}}})
}
