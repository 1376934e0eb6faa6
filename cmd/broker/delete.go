package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

var deleteUsage = "usage: broker delete space|stack|integration|attachment|role|api-key ID (an attachment's ID is STACK/INTEGRATION; with BROKER_URL and BROKER_API_KEY)"

// runDelete deletes one object through the API.
func runDelete(ctx context.Context, e env, args []string) error {
	fs := newFlags("delete", e)
	setSynopsis(fs, strings.TrimPrefix(deleteUsage, "usage: "))
	pos, err := parseInterleaved(fs, args, 2)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("missing kind or id; %s", deleteUsage)
	}
	k, ok := kindNamed(pos[0])
	if !ok {
		return usagef("unknown kind %s; %s", shownArg(pos[0]), deleteUsage)
	}
	id := pos[1]
	path := k.path + "/" + url.PathEscape(id)
	if k.name == kindAttachment.name {
		stack, integration, ok := strings.Cut(id, "/")
		if !ok || stack == "" || integration == "" || strings.Contains(integration, "/") {
			return usagef("an attachment is named STACK/INTEGRATION, not %s", shownArg(id))
		}
		if err := checkID("the stack", stack); err != nil {
			return err
		}
		if err := checkID("the integration", integration); err != nil {
			return err
		}
		path = kindStack.path + "/" + url.PathEscape(stack) + "/attachments/" + url.PathEscape(integration)
	} else if err := checkID("the id", id); err != nil {
		return err
	}
	client, err := newAdminClient(e)
	if err != nil {
		return err
	}
	if _, err := client.call(ctx, adminRequest{method: http.MethodDelete, path: path}); err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s/%s deleted\n", k.name, id)
	return err
}
