"""A pool's networking state as the planner reads it: snapshots and their indexes.

    collect.py   ``collect(conn)`` -> ``PoolSnapshot`` in a fixed number of round trips (an
                 ``event.from`` token, then one ``get_all_records`` per class, sent at once);
                 also ``connect``/``connect_profile``, which ``xapictl.connect`` re-exports
    snapshot.py  ``PoolSnapshot``: typed records by ref and the indexes the diff needs (PIF by
                 host and device, VLAN by PIF and tag, VIF by VM and device …); never talks
                 to the network
    live.py      ``LiveSnapshot``: a snapshot kept current from ``event.from``
    events.py    applying ``event.from`` answers to a snapshot (what ``LiveSnapshot`` and a
                 run's re-checks and verify after its fresh read share)
    capacity.py  ``with_sriov_capacity``: each SR-IOV NIC's remaining VFs, read on demand

It imports the typed clients (``xapictl.client``) and records (``xapictl.model``), nothing
above them. Nothing is imported here, so importing one module never pulls in the others.
"""
