#!/usr/bin/env python3
"""A PCCS stand-in for tests: serves one vector's collateral the way Intel PCS API v4 does.

Usage: pccs_server.py VECTOR_DIR TEE   (TEE is sgx or tdx)
Binds 127.0.0.1 on a free port, prints the port on the first line of stdout, serves until killed.
Endpoints: /sgx/certification/v4/pckcrl?ca=…&encoding=der (DER), /sgx/certification/v4/rootcacrl
(hex text, as PCCS sends it), /TEE/certification/v4/tcb?fmspc=… and /TEE/certification/v4/qe/identity
(JSON with the signed body and its signature), with the issuer chains URL-encoded in the headers.
A request for another TEE path or another FMSPC gets 404, so the client must ask for the right ones.
"""
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

vector, tee = sys.argv[1], sys.argv[2]
with open(f"{vector}/collateral.json") as f:
    collateral = json.load(f)
fmspc = json.loads(collateral["tcb_info"])["fmspc"].upper()


class Handler(BaseHTTPRequestHandler):
    def reply(self, body, headers):
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, urllib.parse.quote(value, safe=""))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        sgx, own = "/sgx/certification/v4/", f"/{tee}/certification/v4/"
        if url.path == sgx + "pckcrl" and query.get("ca") in (["processor"], ["platform"]) and query.get("encoding") == ["der"]:
            self.reply(bytes.fromhex(collateral["pck_crl"]), {"SGX-PCK-CRL-Issuer-Chain": collateral["pck_crl_issuer_chain"]})
        elif url.path == sgx + "rootcacrl":
            self.reply(collateral["root_ca_crl"].encode(), {})
        elif url.path == own + "tcb" and [v.upper() for v in query.get("fmspc", [])] == [fmspc]:
            body = '{"tcbInfo":' + collateral["tcb_info"] + ',"signature":"' + collateral["tcb_info_signature"] + '"}'
            chain = "TCB-Info-Issuer-Chain" if tee == "tdx" else "SGX-TCB-Info-Issuer-Chain"
            self.reply(body.encode(), {chain: collateral["tcb_info_issuer_chain"]})
        elif url.path == own + "qe/identity":
            body = '{"enclaveIdentity":' + collateral["qe_identity"] + ',"signature":"' + collateral["qe_identity_signature"] + '"}'
            self.reply(body.encode(), {"SGX-Enclave-Identity-Issuer-Chain": collateral["qe_identity_issuer_chain"]})
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
