#!/usr/bin/env python3
"""Stands in for the instance metadata service and a Key Vault for keyvault-secrets.bats, over
plain HTTP on 127.0.0.1, with the answers' documented shapes (the TypeScript suites hold the local
Azure's real ones): IMDS needs `Metadata: true`; the vault needs the bearer token IMDS gave, and
lets this VM read only the secrets listed in $STATE/readable (ForbiddenByRbac otherwise). Secret
values are read from $STATE/secrets/<name> at each request, so a test can rotate one.

usage: keyvault-server.py STATE_DIR   (writes the port to STATE_DIR/port)"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

STATE = sys.argv[1]
TOKEN = "token-for-this-vm"


def read(path, default=""):
    try:
        with open(os.path.join(STATE, path)) as f:
            return f.read()
    except OSError:
        return default


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        with open(os.path.join(STATE, "requests"), "a") as f:
            f.write(f"{self.command} {self.path} auth={'yes' if self.headers.get('Authorization') else 'no'}\n")

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/metadata/identity/oauth2/token":
            if self.headers.get("Metadata") != "true":
                return self.answer(400, {"error": "invalid_request", "error_description": "Required metadata header not specified"})
            if read("no-identity"):
                return self.answer(400, {"error": "invalid_request", "error_description": "Identity not found"})
            return self.answer(200, {"access_token": TOKEN, "expires_on": "9999999999", "resource": q.get("resource", [""])[0], "token_type": "Bearer"})
        parts = url.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "secrets":
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self.answer(401, {"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}})
            name = parts[1]
            if name not in read("readable").split():
                return self.answer(403, {"error": {"code": "Forbidden", "message": "Caller is not authorized to perform action on resource.\r\nAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'", "innererror": {"code": "ForbiddenByRbac"}}})
            value = read(f"secrets/{name}", None)
            if value is None:
                return self.answer(404, {"error": {"code": "SecretNotFound", "message": f"A secret with (name/id) {name} was not found in this key vault."}})
            return self.answer(200, {"value": value, "id": f"http://127.0.0.1/secrets/{name}/0123456789abcdef0123456789abcdef", "attributes": {"enabled": True}})
        self.answer(404, {"error": {"code": "NotFound", "message": "no route"}})


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(STATE, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(STATE, "port.tmp"), os.path.join(STATE, "port"))
server.serve_forever()
