"""The value types every layer shares: plain dataclasses and enums, no I/O, no logic beyond their own fields.

They sit below every other layer so that each can name them: the parser builds ``events``, the store
persists ``signals``, ``issues`` and ``results`` records, the detectors and the ranking compute them.

- ``events``: a normalized session and its events (the trace spine every source is read into)
- ``signals``: friction/delight signal kinds and the ``Signal`` record
- ``issues``: ``Issue``, its ``Impact`` breakdown and ``Evidence``, ``SessionInfo``
- ``results``: Harbor runs, trials and the before/after comparisons read from them
"""
