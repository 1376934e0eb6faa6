// Package deploy holds broker's deployment files (the container image, the Helm chart, the
// compose file and the systemd unit) and the tests that render, decode and validate them. It
// is a module of its own so that Helm, Kubernetes and compose libraries stay out of broker's.
package deploy
