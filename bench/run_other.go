//go:build !linux

package bench

import "context"

// AllImpls returns every implementation (none outside Linux).
func AllImpls() []Impl { return nil }

// ImplsNamed returns the implementations named (none outside Linux).
func ImplsNamed(names []string) ([]Impl, error) { return nil, ErrUnsupported }

func run(ctx context.Context, cfg Config) (*Report, error) { return nil, ErrUnsupported }

func machine() (cpu, kernel string) { return "", "" }
