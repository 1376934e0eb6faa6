// Package azureemu is a strict emulator of Microsoft Entra ID for the one flow broker uses:
// the OAuth 2.0 client credentials grant authenticated by a federated client assertion
// (workload identity federation). It serves what Microsoft's own client library
// (azidentity on MSAL for Go) fetches, in the order it fetches it:
//
//   - GET /common/discovery/instance?api-version=1.1&authorization_endpoint=... (instance
//     discovery; MSAL sends it to the authority host only when that host is one of Microsoft's
//     own, otherwise to login.microsoftonline.com, so against a private authority host the
//     caller disables instance discovery, or routes login.microsoftonline.com to the emulator,
//     which answers for any tenant of its own host);
//   - GET /<tenant>/v2.0/.well-known/openid-configuration (tenant metadata, with the
//     token_endpoint, authorization_endpoint and issuer https://<host>/<tenant>/v2.0 that MSAL
//     reads and checks against the authority);
//   - POST /<tenant>/oauth2/v2.0/token with grant_type=client_credentials, client_id, scope,
//     client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer and
//     client_assertion.
//
// The emulator serves plain HTTP as an http.Handler; azidentity refuses an authority host
// that is not https, so put it behind TLS (httptest.NewTLSServer in tests) and tell it its
// public origin with Config.Host or SetHost (otherwise the request's Host is used).
//
// Microsoft's client needs the emulator at the root of its host: azidentity appends the tenant
// to the authority host and MSAL takes the first path segment as the tenant, replacing it on
// every request, so an authority host with a path loses that path. Under serves the emulator
// below a path prefix as well, for clients that put the prefix back themselves (broker's
// path-prefixed authority_host); the documents served there name the prefix.
//
// # Validation
//
// The assertion's iss must equal the Issuer of one of the application's federated identity
// credentials exactly; those credentials' audiences (default api://AzureADTokenExchange) are
// accepted, and the token is verified by oidctrust (discovery and JWKS fetched on every call)
// with RS256 as the only algorithm: Microsoft documents that "only issuers that provide tokens
// signed using the RS256 algorithm are supported for token exchange using workload identity
// federation" and that other algorithms "may work, but haven't been tested"; the emulator takes
// the strict reading. Then the subject must equal a credential's Subject exactly (Entra matches
// case-sensitively and supports no wildcards).
//
// # Errors
//
// Refusals have Entra's JSON shape: error, error_description ("AADSTSnnnnn: ... Trace ID: ...
// Correlation ID: ... Timestamp: ..."), error_codes, timestamp, trace_id, correlation_id and
// error_uri. The codes used, as Entra documents or has been observed to answer them:
//
//	90002   invalid_tenant / invalid_request 400  unknown tenant (metadata / token endpoint)
//	50049   invalid_instance 400                  instance discovery for another host or path
//	900144  invalid_request 400                   a required form parameter is missing
//	9000411 invalid_request 400                  a form parameter is given more than once
//	70003   unsupported_grant_type 400            grant_type is not client_credentials
//	700016  unauthorized_client 400               client_id is not an application of the tenant
//	70011   invalid_scope 400                     scope is not a single <resource>/.default
//	700022  invalid_scope 400                     scope names more than one resource
//	500011  invalid_resource 400                  the resource is not one of Config.Resources
//	90011   invalid_request 400                   client_assertion_type is not jwt-bearer
//	7000218 invalid_client 401                    neither client_assertion nor client_secret
//	7000215 invalid_client 401                    a client_secret (the apps here have none)
//	50027   invalid_request 400                   the assertion is not a well-formed JWT
//	700211  invalid_client 401                    no federated credential for the assertion's issuer
//	50166   invalid_request 400                   the issuer's discovery or JWKS could not be fetched
//	700027  invalid_client 401                    signature does not verify, or not RS256
//	700212  invalid_client 401                    no federated credential for the assertion's audience
//	700024  invalid_client 401                    assertion expired or not yet valid
//	70023   invalid_request 400                   assertion living over 25 h from its iat (or without iat)
//	70021   invalid_request 400                   no federated credential for the subject; the
//	                                              description names issuer, subject and audience
//	50033 / 90055  temporarily_unavailable 5xx/429  answers injected with FailNext
//
// Entra's service now often answers a subject mismatch with AADSTS700213; the emulator keeps
// the older AADSTS70021, whose message names all three of issuer, subject and audience.
//
// On success it answers {"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,
// "access_token":"..."} where the access token is JWT-shaped (decodable header and claims:
// aud, iss, tid, appid, exp) but carries a random signature: it is good for nothing.
package azureemu
