"""The wire to XAPI: everything below the typed clients.

* ``transport`` — the pool's httpx channel (timeouts, TLS, reuse) and what a failure means;
* ``jsonrpc`` / ``xmlrpc`` — the two protocols (XML-RPC through the official ``XenAPI``);
* ``session`` — login, ``HOST_IS_SLAVE``, master failover, re-login, logout;
* ``failures`` — every XAPI error code as a typed ``XapiFailure`` subclass;
* ``retry`` — the one retry and wait policy; ``parallel`` — bounded parallel calls;
* ``tasks`` / ``events`` — ``Async.*`` handles and ``event.from``;
* ``tls`` — CA bundles, fingerprint pinning, trust on first use;
* ``credentials`` / ``profiles`` — password sources and named pool profiles.
"""
