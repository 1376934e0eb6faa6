// Package apierror is the contract's error envelope,
// {"error": {"code": "...", "message": "..."}}, its codes and HTTP statuses, and the one function
// that writes it. Every failing HTTP answer of broker goes through Write.
package apierror
