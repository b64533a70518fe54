package video

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

// Still images decode as one-frame videos whose RGB24 pixels, native and
// bilinear-resized, equal the ffmpeg CLI's with bilinear swscale: full-range
// JPEG (yuvj420p and yuvj444p), RGB PNG, PNG with alpha (dropped, as the CLI
// does), BMP (bgr24), odd sizes, and upper-case extensions. The CLI's default
// -sws_flags (bicubic) gives the same native pixels for even sizes (swscale's
// unscaled path, see TestRealCLIVEImages) but not for an odd-sized 4:2:0 JPEG,
// whose chroma it upsamples bicubically.
func TestImagesMatchFFmpeg(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, size, pixFmt string
		args               []string
	}{
		{"a.jpg", "500x500", "yuvj420p", nil},
		{"b.JPG", "333x251", "yuvj420p", []string{"-vf", "scale=333:251"}},
		{"c.jpeg", "500x500", "yuvj444p", []string{"-pix_fmt", "yuvj444p"}},
		{"d.png", "500x500", "rgb24", nil},
		{"e.PNG", "301x199", "rgba", []string{"-vf", "scale=301:199,format=rgba,geq=r='X':g='Y':b='X+Y':a='X'"}},
		{"f.bmp", "500x500", "bgr24", nil},
		{"g.Bmp", "257x131", "bgr24", []string{"-vf", "scale=257:131"}},
	}
	for _, c := range cases {
		args := append(append([]string{"-frames:v", "1"}, c.args...), "-update", "1")
		p := testutil.Clip(t, dir, c.name, "testsrc2=size=500x500", args...)
		info, err := Probe(p)
		if err != nil {
			t.Fatal(err)
		}
		if !info.Still || info.Frames != 1 || c.size != itoa(info.Width)+"x"+itoa(info.Height) || info.PixFmt != c.pixFmt {
			t.Errorf("%s: probe %+v, want a %s %s still of 1 frame", c.name, info, c.size, c.pixFmt)
		}
		equalSums(t, c.name+" native", ourMD5s(t, p, 0, 0), testutil.FrameMD5s(t, p, "-sws_flags", "bilinear", "-pix_fmt", "rgb24"))
		equalSums(t, c.name+" 224x224", ourMD5s(t, p, 224, 224),
			testutil.FrameMD5s(t, p, "-vf", "scale=224:224:flags=bilinear", "-pix_fmt", "rgb24"))
		if v, err := Verify(p); err != nil || v.Frames != 1 {
			t.Errorf("%s: Verify %d frames, %v", c.name, v.Frames, err)
		}
	}
	// "%d" in an image's name is part of the name, not a sequence pattern.
	plain := filepath.Join(dir, "a.jpg")
	odd := filepath.Join(dir, "100%d.jpg")
	b, _ := os.ReadFile(plain)
	if err := os.WriteFile(odd, b, 0o644); err != nil {
		t.Fatal(err)
	}
	equalSums(t, odd, ourMD5s(t, odd, 0, 0), ourMD5s(t, plain, 0, 0))
	// Not an image: the error names the file.
	bad := filepath.Join(dir, "bad.png")
	os.WriteFile(bad, []byte("not a png"), 0o644)
	if _, err := Verify(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad image: %v", err)
	}
}

// A one-frame video is one frame too, but no still.
func TestOneFrameVideo(t *testing.T) {
	p := testutil.Clip(t, t.TempDir(), "one.mp4", "testsrc2=size=320x240:rate=25", "-frames:v", "1",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	info, err := Probe(p)
	if err != nil {
		t.Fatal(err)
	}
	if info.Still || info.Frames != 1 {
		t.Errorf("probe %+v", info)
	}
	equalSums(t, "one.mp4", ourMD5s(t, p, 0, 0), testutil.FrameMD5s(t, p, "-pix_fmt", "rgb24"))
}

func TestIsImage(t *testing.T) {
	for _, p := range []string{"a.jpg", "A.JPG", "x/b.jpeg", "c.PNG", "d.bmp", "e.Bmp"} {
		if !IsImage(p) {
			t.Errorf("IsImage(%s) = false", p)
		}
	}
	for _, p := range []string{"a.mp4", "a.jpg.mp4", "jpg", "a.gif", "a.tiff", ""} {
		if IsImage(p) {
			t.Errorf("IsImage(%s) = true", p)
		}
	}
}

// The real CLIVE JPEGs (camera photos, full-range yuvj420p) decode to the
// CLI's pixels; a few of them, spread over the folder.
func TestRealCLIVEImages(t *testing.T) {
	dir := filepath.Join(testutil.RealData(t), "CLIVE", "Images")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("no CLIVE images: %v", err)
	}
	var imgs []string
	for _, e := range ents {
		if e.Type().IsRegular() && IsImage(e.Name()) {
			imgs = append(imgs, filepath.Join(dir, e.Name()))
		}
	}
	if len(imgs) == 0 {
		t.Skip("no images in " + dir)
	}
	for _, i := range UniformIndices(len(imgs), 4) {
		p := imgs[i]
		info, err := Probe(p)
		if err != nil {
			t.Fatal(err)
		}
		if !info.Still || info.Frames != 1 || !slices.Contains([]string{"image2", "jpeg_pipe"}, info.Format) {
			t.Errorf("%s: probe %+v", p, info)
		}
		equalSums(t, p+" native", ourMD5s(t, p, 0, 0), testutil.FrameMD5s(t, p, "-pix_fmt", "rgb24"))
		equalSums(t, p+" 224x224", ourMD5s(t, p, 224, 224),
			testutil.FrameMD5s(t, p, "-vf", "scale=224:224:flags=bilinear", "-pix_fmt", "rgb24"))
	}
}
