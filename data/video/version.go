package video

/*
#cgo pkg-config: libavcodec libavformat libavutil libswscale
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libswscale/swscale.h>
*/
import "C"

import "fmt"

func ver(v C.uint) string {
	return fmt.Sprintf("%d.%d.%d", v>>16, (v>>8)&0xff, v&0xff)
}

// LibraryVersions reports the FFmpeg release and the linked library versions.
func LibraryVersions() map[string]string {
	return map[string]string{
		"ffmpeg":      C.GoString(C.av_version_info()),
		"libavcodec":  ver(C.avcodec_version()),
		"libavformat": ver(C.avformat_version()),
		"libavutil":   ver(C.avutil_version()),
		"libswscale":  ver(C.swscale_version()),
	}
}
