//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package poller

// NewServerEngine returns the engine servers use on this OS: goroutines
// over the standard library (the runtime's IOCP poller on Windows), since
// gnet's Windows build is for development only. cfg.Engine is ignored
// here: there are no event loops to choose.
func NewServerEngine(cfg Config, h Handler, loops int) (Engine, error) {
	return NewGoEngine(cfg, h)
}
