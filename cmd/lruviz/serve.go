// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/lruviz/lruviz/diagrams"
	"github.com/lruviz/lruviz/tour"
	"github.com/lruviz/lruviz/web"
)

// cmdServe is `lruviz serve [--addr 127.0.0.1:8080] [--diagram FILE] [--scenario NAME]
// [--allow-origin ORIGIN]... [--max-conns N] [--kernel]`: it listens first, then prints the URL,
// and serves until ctx is done (SIGINT, SIGTERM).
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	diagram := fs.String("diagram", "", "a DOT file of the update chart to show instead of lruviz's own")
	scn := fs.String("scenario", "", "the bundled scenario a page opens with")
	var origins []string
	fs.Func("allow-origin", "an origin (scheme://host[:port]) besides the server's own whose pages may use it and frame it; repeatable",
		func(v string) error { origins = append(origins, v); return nil })
	var tourFiles []string
	fs.Func("tour", "a lecture tour (.tour) to offer besides the bundled ones; repeatable",
		func(v string) error { tourFiles = append(tourFiles, v); return nil })
	maxConns := fs.Int("max-conns", web.DefaultMaxConns, "the most websocket connections at once")
	maxMemory := fs.Int64("max-memory", web.DefaultMaxMemory()>>20, "MiB the traces of scripts may hold at once (default: a quarter of the machine's memory)")
	kernel := fs.Bool("kernel", false, "run each sequential scenario on the running kernel too, and show its lists and path beside the simulation's (root)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return &usageError{err.Error()}
	}
	if len(pos) != 0 {
		return &usageError{fmt.Sprintf("serve takes no arguments, got %q", pos[0])}
	}
	if *maxConns < 1 {
		return &usageError{fmt.Sprintf("--max-conns must be at least 1, got %d", *maxConns)}
	}
	if *maxMemory < 16 || *maxMemory > 1<<30 {
		return &usageError{fmt.Sprintf("--max-memory must be 16 MiB or more, got %d", *maxMemory)}
	}
	if *kernel {
		if err := web.KernelAvailable(); err != nil {
			fmt.Fprintf(stderr, "lruviz serve: %s: %v\n", kernelNeeds, err)
			return &exitError{3}
		}
	}
	opts := web.Options{Scenario: *scn, Logf: log.New(stderr, "", log.LstdFlags).Printf, AllowOrigins: origins, MaxConns: *maxConns,
		MaxMemory: *maxMemory << 20, Kernel: *kernel}
	for _, path := range tourFiles {
		src, err := readTour(path)
		if err != nil {
			fmt.Fprintf(stderr, "lruviz serve: %v\n", err)
			return &exitError{2}
		}
		opts.Tours = append(opts.Tours, web.TourFile{Name: path, Src: src})
	}
	if *diagram != "" {
		src, err := readDiagram(*diagram)
		if err != nil {
			fmt.Fprintf(stderr, "lruviz serve: %v\n", err)
			return &exitError{2}
		}
		d, err := diagrams.Parse(*diagram, src)
		if err == nil {
			err = diagrams.CheckUpdateChart(d)
		}
		if err == nil {
			opts.Diagram, err = diagrams.RenderDiagram(d)
		}
		if err != nil {
			fmt.Fprintf(stderr, "lruviz serve: %v\n", err)
			return &exitError{2}
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "lruviz serve: %v\n", err)
		return &exitError{2}
	}
	opts.Addr = ln.Addr().String()
	srv, err := web.New(opts)
	var te *tour.Error
	if errors.As(err, &te) {
		// A tour that does not resolve: where, not how to use serve.
		ln.Close()
		fmt.Fprintf(stderr, "lruviz serve: %v\n", err)
		return &exitError{2}
	}
	if err != nil {
		ln.Close()
		return &usageError{err.Error()}
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		// A request's body (a script to download or export) must come within this; the
		// websocket sets its own deadlines once upgraded.
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    log.New(stderr, "lruviz serve: ", 0),
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	fmt.Fprintf(stdout, "http://%s/\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// http.Server.Shutdown leaves hijacked (websocket) connections alone: close them first.
	werr := srv.Shutdown(sctx)
	herr := hs.Shutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(werr, herr)
}
