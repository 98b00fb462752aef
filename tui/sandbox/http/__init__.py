"""The sandbox's HTTP API (Starlette): one route table, thin handlers per resource.

:mod:`.app` is the ASGI entry point and the plumbing every handler shares (body parsing,
bearer auth, free limits, metering); :mod:`.routes` is the one table of tenant routes; each
resource module (:mod:`.auth`, :mod:`.mailboxes`, :mod:`.messages`, :mod:`.send`,
:mod:`.webhooks`, :mod:`.billing`, :mod:`.internal`, :mod:`.meta`) holds handlers
``async def handler(svc, request, *path_ids) -> Response``; :mod:`.admin` is the operator API.
The top layer of the sandbox: it uses :mod:`tui.sandbox.mail` and :mod:`tui.sandbox.state`.
"""
