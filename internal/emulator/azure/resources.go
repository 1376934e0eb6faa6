package azureemu

import (
	"net/http"
	"slices"
	"strings"
)

// DefaultResources are the resources every emulated tenant has a service principal for when
// Config.Resources is nil: Microsoft's first-party Azure Resource Manager (both of its
// identifiers), Microsoft Graph, Key Vault, Storage and SQL Database.
var DefaultResources = []string{
	"https://management.azure.com",
	"https://management.core.windows.net",
	"https://graph.microsoft.com",
	"https://vault.azure.net",
	"https://storage.azure.com",
	"https://database.windows.net",
}

// resources returns the resources of c's tenants.
func (c Config) resources() []string {
	if c.Resources == nil {
		return DefaultResources
	}
	return c.Resources
}

// HasResource reports whether the client-credentials scope "<resource>/.default" names a
// resource of c's tenants. Entra reads a resource identifier with or without its trailing
// slash (https://management.core.windows.net//.default names
// https://management.core.windows.net/) and in any case.
func (c Config) HasResource(scope string) bool {
	return knownResource(c.resources(), scope)
}

// knownResource reports whether scope "<resource>/.default" names one of resources.
func knownResource(resources []string, scope string) bool {
	resource := strings.TrimSuffix(strings.TrimSuffix(scope, defaultSuffix), "/")
	return slices.ContainsFunc(resources, func(r string) bool {
		return strings.EqualFold(strings.TrimSuffix(r, "/"), resource)
	})
}

// unknownResource is Entra's answer to a scope naming a resource with no service principal in
// the tenant: 400 invalid_resource, AADSTS500011.
func unknownResource(scope, tenant string) *refusal {
	return refuse(http.StatusBadRequest, "invalid_resource", 500011,
		"The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been "+
			"installed by the administrator of the tenant or consented to by any user in the tenant. "+
			"You might have sent your authentication request to the wrong tenant.", strings.TrimSuffix(scope, defaultSuffix), tenant)
}
