package tokenizer

import (
	"os"
	"strings"
)

// WriteCorpus writes lines, one a line, to path.
func WriteCorpus(path string, lines []string) error {
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}
