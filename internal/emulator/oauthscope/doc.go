// Package oauthscope reads an OAuth 2.0 scope parameter as the emulated services do.
package oauthscope
