package main

import (
	"encoding/json"
	"regexp"
	"strings"
)

// schemas are the request bodies of the routes, as JSON Schema (OpenAPI 3.1
// uses JSON Schema 2020-12).
var schemas = map[string]any{
	"Query": obj(map[string]any{
		"collection": map[string]any{"type": "string", "enum": []string{"users", "sessions", "blocks", "transactions"}},
		"filter":     map[string]any{"type": "object", "description": "field: value equality pairs; operators ($...) are refused", "additionalProperties": map[string]any{"type": []string{"string", "number", "boolean", "null"}}},
		"limit":      map[string]any{"type": "integer", "minimum": 1, "maximum": 100},
	}, "collection"),
	"CacheSet": obj(map[string]any{
		"key":         map[string]any{"type": "string", "minLength": 1},
		"value":       map[string]any{"description": "any JSON value, stored as its bytes"},
		"ttl_seconds": map[string]any{"type": "integer", "minimum": 0, "maximum": 604800},
	}, "key", "value"),
	"Search": obj(map[string]any{
		"user_id": map[string]any{"type": "string", "minLength": 1},
		"text":    map[string]any{"type": "string"},
		"status":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		"size":    map[string]any{"type": "integer", "minimum": 1, "maximum": 100},
	}, "user_id"),
	"BackupCreate": obj(map[string]any{
		"volumes": map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "default: every volume"},
	}),
	"Error": obj(map[string]any{"error": map[string]any{"type": "string"}}, "error"),
}

func obj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// openAPI renders the OpenAPI 3.1 document of routes.
func openAPI() ([]byte, error) {
	errResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	}
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": strings.ToLower(rt.method) + strings.NewReplacer("/api/v1/database", "", "/", "_", "{", "", "}", "", ".", "_").Replace(rt.path),
			"responses": map[string]any{
				"200": map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{}}},
			},
		}
		resp := op["responses"].(map[string]any)
		if rt.path == "/metrics" {
			resp["200"] = map[string]any{"description": "OK", "content": map[string]any{"text/plain; version=0.0.4": map[string]any{}}}
			resp["503"] = errResp("metrics not configured")
		}
		if rt.path == "/health" {
			resp["503"] = map[string]any{"description": "the tier is down", "content": map[string]any{"application/json": map[string]any{}}}
		}
		if !rt.public {
			op["security"] = []map[string][]string{{"apiKey": {}}, {"bearer": {}}}
			resp["401"] = errResp("missing or unknown API key")
			resp["429"] = errResp("rate limit of the key exceeded (RateLimit, RateLimit-Policy, Retry-After headers)")
			resp["503"] = errResp("a server of the tier is unavailable")
			resp["400"] = errResp("invalid input")
			resp["404"] = errResp("not found")
		}
		if rt.method == "POST" {
			resp["413"] = errResp("request body too large")
			resp["409"] = errResp("conflict (a backup already running)")
			if strings.Contains(rt.path, "/cache") || strings.Contains(rt.path, "backup") {
				resp["201"] = map[string]any{"description": "created", "content": map[string]any{"application/json": map[string]any{}}}
				delete(resp, "200")
			}
		}
		if rt.body != "" {
			op["requestBody"] = map[string]any{"required": rt.body != "BackupCreate", "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + rt.body}}}}
		}
		var params []map[string]any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if strings.Contains(rt.path, "/session/") {
			params = append(params, map[string]any{"name": "user_id", "in": "query", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if paths[rt.path] == nil {
			paths[rt.path] = map[string]any{}
		}
		paths[rt.path][strings.ToLower(rt.method)] = op
	}
	return json.MarshalIndent(map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "lucid-data gateway", "version": "1", "description": "Lucid's data-tier routes over the lucid-data SDK."},
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"apiKey": map[string]any{"type": "apiKey", "in": "header", "name": "X-API-Key"},
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
	}, "", "  ")
}
