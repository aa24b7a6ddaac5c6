"""One HTTPS session for the clients of many HSMs in one command, in which a CA bundle is read once, not for every
new connection.

requests hands urllib3 the path of the CA bundle (certifi's by default, or REQUESTS_CA_BUNDLE: a corporate proxy's
CA, the local stack's) for every new connection, and urllib3 reads the whole file into a new TLS context each time;
a command that asks 50 HSMs opens 50 connections. Reading a 220 KB bundle 50 times cost about 3 s of CPU (check
freshness of 50 HSMs: 8 s, 5 s with the bundle read once; docs/benchmarks.md). Here each bundle is read once into
one context, through the hooks requests documents for subclassing (HTTPAdapter.build_connection_pool_key_attributes
and cert_verify); requests before 2.32 has no such hook and behaves as before. The context is urllib3's own, as it
builds it for every connection: the same verification, the same host-name check.
"""

import threading


def shared_session():
    """A requests Session for many HSM clients (azure-core's RequestsTransport(session=..., session_owner=False))."""
    import requests
    from requests.adapters import HTTPAdapter

    contexts, lock = {}, threading.Lock()
    from requests.utils import DEFAULT_CA_BUNDLE_PATH

    class OneContextPerBundle(HTTPAdapter):
        def build_connection_pool_key_attributes(self, request, verify, cert=None):
            host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
            bundle = (pool_kwargs.get("ca_certs"), pool_kwargs.get("ca_cert_dir"))
            if verify is True and not any(bundle):  # requests' default: certifi's bundle (cert_verify names it)
                bundle = (DEFAULT_CA_BUNDLE_PATH, None)
            if any(bundle) and cert is None and "ssl_context" not in pool_kwargs:
                with lock:
                    if bundle not in contexts:
                        contexts[bundle] = _context(*bundle)
                pool_kwargs = {k: v for k, v in pool_kwargs.items() if k not in ("ca_certs", "ca_cert_dir")}
                pool_kwargs["ssl_context"] = contexts[bundle]
            return host_params, pool_kwargs

        def cert_verify(self, conn, url, verify, cert):
            super().cert_verify(conn, url, verify, cert)
            if (getattr(conn, "conn_kw", None) or {}).get("ssl_context") in contexts.values():  # holds the bundle
                conn.ca_certs = conn.ca_cert_dir = None

    session = requests.Session()
    session.mount("https://", OneContextPerBundle())
    return session


def _context(cafile, capath):
    """What requests preloads for its default bundle, for this bundle: urllib3's context, the bundle read once."""
    from urllib3.util.ssl_ import create_urllib3_context

    context = create_urllib3_context()
    context.load_verify_locations(cafile=cafile, capath=capath)
    return context
