// Package api is broker's HTTP API (contract section 3): the control plane that starts and moves
// runs, the worker plane that hands a run its tokens, and health. Each plane is a small handler
// struct that mounts its own routes; every failure is answered in the apierror envelope.
package api
