package gcpemu

import (
	"encoding/json"
	"net/http"

	"github.com/brokerhq/broker/internal/provider"
)

// Messages Google answers with, as its documentation and its clients show them.
const (
	msgMissingCredential = "Request is missing required authentication credential. Expected OAuth 2 access token, " +
		"login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
	msgInvalidCredential = "Request had invalid authentication credentials. Expected OAuth 2 access token, " +
		"login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
	msgPermissionDenied   = "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)."
	msgInsufficientScopes = "Request had insufficient authentication scopes."
	msgInvalidArgument    = "Request contains an invalid argument."
	msgInvalidJSON        = "Invalid JSON payload received."
	msgUnexpectedToken    = "Unexpected token."
	msgInvalidAudience    = `Invalid value for "audience". This value should be the full resource name of the Identity Provider. ` +
		"See https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token for the list of possible formats."
	msgInvalidTarget = `The target service indicated by the "audience" parameters is invalid. This might either be because ` +
		"the pool or provider is disabled or deleted or because it doesn't exist."
	msgConditionRejected = "The given credential is rejected by the attribute condition."
	msgIssuerUnreachable = provider.GCPIssuerUnreachable + "."
)

// rpcStatus names the google.rpc.Code Google's JSON APIs put in error.status for an HTTP status.
func rpcStatus(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ABORTED"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	case http.StatusInternalServerError:
		return "INTERNAL"
	}
	return "UNKNOWN"
}

// rpcMessage is the stock message for injected faults.
func rpcMessage(code int) string {
	switch code {
	case http.StatusTooManyRequests:
		return "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service."
	case http.StatusServiceUnavailable:
		return "The service is currently unavailable."
	case http.StatusGatewayTimeout:
		return "The request was not completed in time."
	case http.StatusInternalServerError:
		return "Internal error encountered."
	}
	return http.StatusText(code)
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
	Details []any  `json:"details,omitempty"`
}

// writeRPCError answers in the shape of Google's JSON APIs (IAM Credentials, and any
// front-end failure): {"error": {"code", "message", "status", "details"}}.
func writeRPCError(w http.ResponseWriter, code int, message string, details ...any) {
	writeJSON(w, code, map[string]rpcError{"error": {Code: code, Message: message, Status: rpcStatus(code), Details: details}})
}

// errorInfo is a google.rpc.ErrorInfo detail.
func errorInfo(reason string, metadata map[string]string) any {
	return map[string]any{
		"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
		"domain": iamHost, "metadata": metadata,
	}
}

// fieldViolation is a google.rpc.BadRequest detail naming one field.
func fieldViolation(field, description string) any {
	return map[string]any{
		"@type":           "type.googleapis.com/google.rpc.BadRequest",
		"fieldViolations": []map[string]string{{"field": field, "description": description}},
	}
}

// writeOAuthError answers in the shape of Google STS (RFC 6749 section 5.2):
// {"error": "<code>", "error_description": "..."}.
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
