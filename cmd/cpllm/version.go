package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sort"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/data/video"
)

// version is set at build time: -ldflags "-X main.version=..."
var version = "dev"

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print version, Go, FFmpeg libraries and compiled-in compute backends",
		RunE: func(cmd *cobra.Command, _ []string) error {
			libs := video.LibraryVersions()
			info := map[string]any{
				"cpllm":    version,
				"go":       runtime.Version(),
				"platform": runtime.GOOS + "/" + runtime.GOARCH,
				"ffmpeg":   libs,
				// The model issue links GoMLX; until then no compute backend is compiled in.
				"backends": []string{},
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			}
			fmt.Fprintf(w, "cpllm %s\n", version)
			fmt.Fprintf(w, "go %s %s\n", runtime.Version(), info["platform"])
			names := make([]string, 0, len(libs))
			for k := range libs {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				fmt.Fprintf(w, "%-12s %s\n", k, libs[k])
			}
			fmt.Fprintln(w, "backends     none compiled in yet (GoMLX arrives with the model)")
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
