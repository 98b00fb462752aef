"""The sandbox's state: SQLite tables as typed rows, one module per table group.

:mod:`.db` holds the connection, the lock and the transactions; :mod:`.tenants`,
:mod:`.leases` (mailboxes and leases), :mod:`.messages`, :mod:`.usage` (usage and invoices),
:mod:`.sends` (send attempts and outbox) and :mod:`.webhooks` (webhooks and deliveries) each
hold a table group's DDL, row dataclasses and SQL; :class:`.store.Store` is all of them on one
connection. :mod:`.admin` and :mod:`.admin_views` are the operator API's tables and queries.
The lowest layer of the sandbox: it imports nothing of ``http`` or ``mail``.
"""
