"""Hardware drivers: each reads a device on its own thread and emits ScanEvents.

Every driver has a simulator with the same interface, used by the demo and the tests.
"""
