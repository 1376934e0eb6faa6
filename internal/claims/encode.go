package claims

import (
	"maps"
	"slices"

	"github.com/brokerhq/broker/internal/jsonenc"
)

// AppendJSON appends c as a JSON object, byte for byte what encoding/json.Marshal writes for
// it (the fields in declaration order, the AWS tags only when set), without reflection.
func (c *Claims) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	b = jsonenc.StringField(b, "iss", c.Issuer)
	b = jsonenc.StringField(b, "sub", c.Subject)
	b = jsonenc.StringField(b, "aud", c.Audience)
	b = jsonenc.IntField(b, "exp", c.Expiry)
	b = jsonenc.IntField(b, "iat", c.IssuedAt)
	b = jsonenc.IntField(b, "nbf", c.NotBefore)
	b = jsonenc.StringField(b, "jti", c.ID)
	b = jsonenc.StringField(b, "spaceId", c.SpaceID)
	b = jsonenc.StringField(b, "callerType", c.CallerType)
	b = jsonenc.StringField(b, "callerId", c.CallerID)
	b = jsonenc.StringField(b, "runType", string(c.RunType))
	b = jsonenc.StringField(b, "runId", c.RunID)
	b = jsonenc.StringField(b, "runPhase", string(c.RunPhase))
	b = jsonenc.StringField(b, "scope", string(c.Scope))
	if c.AWSTags != nil {
		b = c.AWSTags.appendJSON(jsonenc.Field(b, "https://aws.amazon.com/tags"))
	}
	return append(b, '}')
}

func (t *AWSTags) appendJSON(b []byte) []byte {
	b = jsonenc.Field(append(b, '{'), "principal_tags")
	if t.PrincipalTags == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(t.PrincipalTags)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(jsonenc.String(b, k), ':')
			b = appendStrings(b, t.PrincipalTags[k])
		}
		b = append(b, '}')
	}
	if len(t.TransitiveTagKeys) > 0 {
		b = appendStrings(jsonenc.Field(b, "transitive_tag_keys"), t.TransitiveTagKeys)
	}
	return append(b, '}')
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.String(b, s)
	}
	return append(b, ']')
}
