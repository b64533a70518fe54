package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"

	"github.com/spf13/cobra"

	"github.com/cpllm/cpllm/data/video"
	"github.com/cpllm/cpllm/model"
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
				"backends": backends(),
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
			fmt.Fprintf(w, "%-12s %v (default %s -> %s)\n", "backends", backends(), model.DefaultBackend, model.ResolveBackend(model.DefaultBackend))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// backends lists the compute backends compiled into this binary.
func backends() []string {
	return []string{"go (GoMLX pure-Go, GOEXPERIMENT=" + goexperiment() + ")", model.ONNXStatus(), "xla: not compiled in (no PJRT plugin)"}
}

// goexperiment is the GOEXPERIMENT the binary was built with ("simd" compiles
// the pure-Go backend's vector kernels).
func goexperiment() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOEXPERIMENT" {
				return s.Value
			}
		}
	}
	return "none"
}
