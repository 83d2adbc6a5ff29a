"""The XAPI simulator: one simulated pool that real clients talk to over the real wire.

A server, not a backend: xapictl's client, the official ``XenAPI`` module, Xen Orchestra's
``xen-api`` and Ansible reach it through HTTP (or an in-process transport that still encodes
and decodes real XML-RPC / JSON-RPC), so the code under test is the code users run. It imports
``xapictl.model`` and never the client.

    engine.py      ``Simulator``: ``call(method, params)`` as Python values; pool control
    state.py       ``SimState``: every object by class and ref, derived sets kept consistent
    dispatch.py    the call pipeline in XAPI's order (lookup, arity, unmarshal, session, RBAC)
    registry.py    ``@handles("VLAN.create")``: where messages with real semantics register
    classes/       one module per XAPI class with those semantics (``classes/vlan.py`` …)
    generic.py     the messages XAPI generates for every class, from the datamodel alone
    where.py       the filter language of ``get_all_records_where``
    rbac.py        roles and permissions; ``tasks.py``: ``Async.*`` calls as tasks
    errors.py      ``SimFailure``: an error code with its parameters, exactly as sent
    values.py      results that need a wire form other than their Python type's
    wire.py        XML-RPC and JSON-RPC, both directions, as xapi prints and accepts them
    app.py         one HTTP request in, one response out (routing, CORS, ``/_sim`` control)
    http1.py       a faster request-head reader for the socket server
    server.py      ``SimServer``: one loopback listener per host address, plus a unix socket
    inprocess.py   socket-free httpx and ``XenAPI`` transports into ``app``
    control.py     latency, injected faults, the request log and counters
    roundtrips.py  dependent round trips counted from the request log (the one definition)
    scenarios.py   ready-made pools (``seed`` …); ``persist.py``: state in an SQLite file
    tls.py         a self-signed certificate for ``xapictl sim serve --tls``

Nothing is imported here, so ``import xapictl.sim`` stays cheap; see docs/simulator.md.
"""
