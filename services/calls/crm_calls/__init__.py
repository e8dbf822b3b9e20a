"""Calls: call cycles over a local replica of the customers service's parties."""
