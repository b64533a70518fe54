package train

import (
	"strings"
	"testing"
)

// An empty recipe is an error naming the file, not "train config: EOF";
// {} is the explicit way to ask for every default.
func TestEmptyRecipe(t *testing.T) {
	for _, body := range []string{"", "  \n# nothing yet\n", "null\n"} {
		_, err := ParseConfig([]byte(body), "configs/train/new.yaml")
		if err == nil || !strings.Contains(err.Error(), "configs/train/new.yaml: train config: the file is empty") {
			t.Errorf("%q: got %v", body, err)
		}
	}
	c, err := ParseConfig([]byte("{}\n"), "all-defaults.yaml")
	if err != nil || c != DefaultConfig() {
		t.Errorf("{}: got %+v, %v; want the defaults", c, err)
	}
}
