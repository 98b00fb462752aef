"""The sandbox's mail: SMTP in, parsing and ingestion, Maildirs and Dovecot, outbound sends,
webhook deliveries.

Below :mod:`tui.sandbox.http` and above :mod:`tui.sandbox.state`: it stores through the state
layer and never imports the HTTP layer.
"""
