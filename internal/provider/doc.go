// Package provider is the one table of facts about each cloud or Vault broker exchanges run
// tokens with: its name (as in POST /v1/credentials and an integration's block), the audience of
// the broker ID token it is sent by default, the one signing algorithm it accepts when it
// restricts that, and the environment variables a run receives. Exchange, trust, the emulators
// and config all read these facts here. It imports nothing of broker's, so every package may.
package provider
