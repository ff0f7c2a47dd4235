#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A local stand-in for AMD KDS and Intel PCS, for tests only.

Serves the real vectors of ../shared/vectors/attest at the exact KDS and PCS paths, with Intel's
issuer chains percent-encoded in the response headers as PCS sends them.  Listens on 127.0.0.1
only, on a port the system picks, printed as "PORT <n>" on stdout once it listens.  Every request
is appended to --log as "GET <path>" (path with its query).  It stops after --max-requests
requests, after --max-seconds, or when the process that started it is gone.

  --serve PATH=FILE        serve FILE at PATH too (or instead of the vector)
  --status PATH=CODE[:RETRY_AFTER][*COUNT]
                           answer the first COUNT requests of PATH (all when no COUNT) with CODE,
                           a Retry-After header when given, and the body PATH would have had
"""
import argparse
import os
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

MILAN_CHIP = ("d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc"
              "15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6")
TURIN_CHIP = "1e550a8ee5cf9f4d"


def default_routes():
    """path -> (vector file, {header: file to percent-encode}), content type."""
    chain = "google-go-tdx-guest/"
    return {
        # virtee-sev/report_milan.bin: REPORTED_TCB bl 3, tee 0, snp 8, ucode 115.
        "/vcek/v1/Milan/%s?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115" % MILAN_CHIP:
            ("virtee-sev/vcek_milan.der", {}, "application/x-x509-ca-cert"),
        # virtee-sev/vcek_turin.der: fmc 0, bl 0, tee 0, snp 0, ucode 9, 8-byte hwID.
        "/vcek/v1/Turin/%s?fmcSPL=00&blSPL=00&teeSPL=00&snpSPL=00&ucodeSPL=09" % TURIN_CHIP:
            ("virtee-sev/vcek_turin.der", {}, "application/x-x509-ca-cert"),
        "/vcek/v1/Milan/cert_chain": ("virtee-sev/cert_chain_milan", {}, "application/x-pem-file"),
        "/vcek/v1/Turin/cert_chain": ("virtee-sev/cert_chain_turin", {}, "application/x-pem-file"),
        "/vcek/v1/Genoa/cert_chain":
            ("google-go-sev-guest/ask_ark_genoa.pem", {}, "application/x-pem-file"),
        "/vlek/v1/Milan/cert_chain":
            ("google-go-sev-guest/ask_ark_milan_vlek.pem", {}, "application/x-pem-file"),
        # confidential-containers-trustee/tdx/tdx_quote_6.dat: FMSPC 00a06d080000.
        "/tdx/certification/v4/tcb?fmspc=00a06d080000":
            ("confidential-containers-trustee/tdx/tcbInfo.json",
             {"TCB-Info-Issuer-Chain": chain + "tcbInfoIssuerChain.pem"}, "application/json"),
        "/tdx/certification/v4/qe/identity":
            ("confidential-containers-trustee/tdx/enclaveIdentity.json",
             {"SGX-Enclave-Identity-Issuer-Chain": chain + "qeIdentityIssuerChain.pem"},
             "application/json"),
        "/sgx/certification/v4/pckcrl?ca=platform&encoding=der":
            (chain + "pckcrl", {"SGX-PCK-CRL-Issuer-Chain": chain + "pckCrlIssuerChain.pem"},
             "application/pkix-crl"),
        "/IntelSGXRootCA.der": (chain + "rootcrl.der", {}, "application/pkix-crl"),
        "/sgx/certification/v4/rootcacrl": (chain + "rootcrl.der", {}, "application/pkix-crl"),
    }


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", required=True, help="the folder holding attest/")
    ap.add_argument("--log", required=True)
    ap.add_argument("--max-requests", type=int, default=100)
    ap.add_argument("--max-seconds", type=float, default=30.0)
    ap.add_argument("--serve", action="append", default=[])
    ap.add_argument("--status", action="append", default=[])
    return ap.parse_args()


def load_routes(args):
    attest = os.path.join(args.vectors, "attest")
    routes = {}
    for path, (rel, headers, ctype) in default_routes().items():
        routes[path] = (os.path.join(attest, rel),
                        {h: os.path.join(attest, f) for h, f in headers.items()}, ctype)
    for spec in args.serve:
        path, _, file = spec.rpartition("=")
        old = routes.get(path, (None, {}, "application/octet-stream"))
        routes[path] = (file, old[1], old[2])
    statuses = {}
    for spec in args.status:
        path, _, rule = spec.rpartition("=")
        rule, _, count = rule.partition("*")
        code, _, retry_after = rule.partition(":")
        statuses[path] = [int(code), retry_after or None, int(count) if count else -1]
    return routes, statuses


def read(path):
    with open(path, "rb") as f:
        return f.read()


def make_handler(routes, statuses, log):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: never stuck on an idle one
        timeout = 5

        def log_message(self, fmt, *args):  # the request log is ours, not stderr's
            pass

        def do_GET(self):
            log.write("GET %s\n" % self.path)
            log.flush()
            route = routes.get(self.path)
            body, headers, ctype = b"no such item\n", {}, "text/plain"
            if route:
                body, ctype = read(route[0]), route[2]
                headers = {h: urllib.parse.quote(read(f).decode(), safe="")
                           for h, f in route[1].items()}
            code = 200 if route else 404
            rule = statuses.get(self.path)
            if rule and rule[2] != 0:
                code = rule[0]
                rule[2] -= 1
                headers = {"Retry-After": rule[1]} if rule[1] else {}
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-ID", "%032x" % (abs(hash(self.path)) % (1 << 128)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def main():
    args = parse_args()
    routes, statuses = load_routes(args)
    parent = os.getppid()
    with open(args.log, "a") as log:
        server = HTTPServer(("127.0.0.1", 0), make_handler(routes, statuses, log))
        server.timeout = 0.2
        print("PORT %d" % server.server_address[1], flush=True)
        deadline = time.monotonic() + args.max_seconds
        served = 0
        while served < args.max_requests and time.monotonic() < deadline:
            if os.getppid() != parent:
                break
            before = log.tell()
            server.handle_request()
            served += log.tell() != before
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
