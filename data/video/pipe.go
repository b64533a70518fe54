package video

import (
	"errors"
	"io"
	"sync/atomic"

	"github.com/asticode/go-astiav"
)

// Pipe runs one encoder (optionally behind a filter graph) in its own
// goroutine, fed frame references through a channel, so one decode or one
// generator can feed many outputs at once.
type Pipe struct {
	in     chan *astiav.Frame
	done   chan error
	stop   atomic.Bool // set by Abort: drop the output instead of finishing it
	closed bool
	enc    *Encoder
}

// pipeDepth is how far an output may lag the producer. References share
// buffers, so a deep queue costs little and keeps fast encoders from waiting.
const pipeDepth = 32

// StartPipe starts feeding enc; filter, when not nil, is applied first and
// closed with the pipe.
func StartPipe(enc *Encoder, filter *Graph) *Pipe {
	p := &Pipe{in: make(chan *astiav.Frame, pipeDepth), done: make(chan error, 1), enc: enc}
	go func() {
		var err error
		for f := range p.in {
			if err == nil && !p.stop.Load() {
				err = p.write(f, filter)
			}
			f.Free() // keep draining after an error so the producer never blocks
		}
		if err == nil && filter != nil && !p.stop.Load() {
			err = p.write(nil, filter) // flush the graph
		}
		if err == nil && !p.stop.Load() {
			err = enc.Close()
		} else {
			enc.Abort()
		}
		if filter != nil {
			filter.Close()
		}
		p.done <- err
	}()
	return p
}

func (p *Pipe) write(f *astiav.Frame, filter *Graph) error {
	if filter == nil {
		return p.enc.WriteFrame(f)
	}
	if err := filter.Push(f); err != nil {
		return err
	}
	for {
		out, err := filter.Pull()
		if errors.Is(err, ErrAgain) || (f == nil && err != nil && errors.Is(err, io.EOF)) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.enc.WriteFrame(out); err != nil {
			return err
		}
	}
}

// Send queues a new reference to f; the pipe frees it.
func (p *Pipe) Send(f *astiav.Frame) { p.in <- f.Clone() }

// Encoder is the pipe's encoder (frame count, once finished).
func (p *Pipe) Encoder() *Encoder { return p.enc }

// Finish ends the input and waits until the output file is complete.
func (p *Pipe) Finish() error {
	if p.closed {
		return nil
	}
	p.closed = true
	close(p.in)
	return <-p.done
}

// Abort stops the pipe without finishing its output; safe after Finish.
func (p *Pipe) Abort() {
	if p.closed {
		return
	}
	p.closed = true
	p.stop.Store(true)
	close(p.in)
	<-p.done
}
