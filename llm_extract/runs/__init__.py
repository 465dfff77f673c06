"""Run machinery: the worker loop, run outputs, the event store, the provider Batch API."""
