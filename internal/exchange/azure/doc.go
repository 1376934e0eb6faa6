// Package azure exchanges a broker ID token for a Microsoft Entra ID access token by workload
// identity federation, with Microsoft's own client: azidentity.ClientAssertionCredential, whose
// assertion callback mints a fresh broker token (audience api://AzureADTokenExchange unless the
// integration sets one) on every token request.
//
// What goes on the wire, per exchange: one POST to <authority_host>/<tenant>/oauth2/v2.0/token
// with grant_type=client_credentials, client_assertion_type=urn:ietf:params:oauth:client-
// assertion-type:jwt-bearer, the assertion, and scope "<scope> openid offline_access profile".
// MSAL would first ask the authority for the tenant's OpenID configuration and post to the
// token_endpoint it names (and, for Microsoft's hosts, ask for instance discovery); the
// exchanger's transport answers that document itself, naming the endpoint above, and refuses
// any other host, so that a document served at a private endpoint or proxy (which relays
// Entra's, naming login.microsoftonline.com) never sends the assertion past the configured
// authority_host. A path prefix on authority_host is kept on the request.
//
// The SDK insists on https for the authority host ("cannot use an authority host without
// https"); an http authority_host is refused before any request is made. Retries are left to
// the shared exchange HTTP client (azcore's own retry policy is disabled), and a new credential
// is built for every exchange so that the SDK's in-memory token cache can never hand one run's
// access token to another run.
//
// The result's env carries ARM_TENANT_ID, ARM_CLIENT_ID, ARM_USE_OIDC=true, ARM_OIDC_TOKEN (a
// second fresh broker token with the same audience, for azurerm/az to exchange themselves) and
// ARM_SUBSCRIPTION_ID when set; the access token itself is in Detail.
package azure
